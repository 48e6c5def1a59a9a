#!/usr/bin/env bash
# Builds the Python package (python/) into a virtualenv and runs its tests (python/tests).
#
#   scripts/test_python.sh [pytest arguments...]
#
# build/python-venv: `python3 -m venv` with the pinned test dependencies below and the build
# backend pinned in python/pyproject.toml ([build-system] requires: scikit-build-core, nanobind).
# pip builds ./python in build/python-build/<wheel tag>, which persists, without build isolation:
# an isolated build environment lives in a new temporary folder each time, and nanobind's sources
# and headers moving there would recompile the module and nanobind on every install (about 45 s);
# this way a reinstall rebuilds only what changed. ccache is used when installed. $PYTHON picks
# the interpreter (default python3, 3.10 or newer for the pinned NumPy) when the virtualenv is
# made: delete build/python-venv to switch. Needs PyPI (or a pip cache) the first time.
# The CTest test `python` (label python;slow) runs this script; tests/CMakeLists.txt skips it
# under POLYHEAD_SANITIZE, since an ASan-built module cannot load into a Python without ASan.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-python3}
venv=$root/build/python-venv
test_deps=(numpy==2.2.6 pytest==8.3.5 pillow==11.2.1)

if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "test_python.sh: $python cannot make virtualenvs; install python3-venv (scripts/install_deps.sh)" >&2
  exit 1
fi
if ! "$python" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
  echo "test_python.sh: no Python.h for $python; install python3-dev (scripts/install_deps.sh)" >&2
  exit 1
fi

seconds() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f s", b - a }'; }

start=$(seconds)
if [[ ! -x $venv/bin/python ]]; then
  echo "-- making $venv"
  "$python" -m venv "$venv"
fi
# The build backend at the versions pyproject.toml pins (one place for them).
mapfile -t build_deps < <("$venv/bin/python" - "$root/python/pyproject.toml" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
requires = re.search(r"^\[build-system\].*?^requires\s*=\s*\[(.*?)\]", text, re.S | re.M).group(1)
print("\n".join(re.findall(r'"([^"]+)"', requires)))
PY
)
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${test_deps[@]}" \
  "${build_deps[@]}"; then
  # No PyPI and no pip cache: nothing to test with. 77 is the test's SKIP_RETURN_CODE in CTest.
  echo "test_python.sh: cannot install ${test_deps[*]} ${build_deps[*]}: skipped" >&2
  exit 77
fi

# The C and C++ compiles go through ccache when it is there (read when CMake first configures).
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache}
  export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
fi
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
echo "-- building and installing ./python (the first build compiles the engine and the program)"
build_start=$(seconds)
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation \
  "$root/python"
echo "-- installed in $(took "$build_start")"

export POLYHEAD_DATA_DIR=${POLYHEAD_DATA_DIR:-$root/build/data}
cd "$root/python"
# No .pytest_cache or __pycache__ in the source tree.
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -p no:cacheprovider tests "$@"
echo "-- test_python.sh: $(took "$start") in all"
