#!/usr/bin/env bash
# Makes the peer suite's virtualenv (default build/peers-venv) from the pinned
# benchmarks/peers/requirements.txt. Idempotent: does nothing while VENV/.requirements equals the
# requirements file; otherwise (re)installs exactly those versions.
#   benchmarks/peers/make_venv.sh [VENV]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${1:-$root/build/peers-venv}"
req="$root/benchmarks/peers/requirements.txt"
if [[ -x "$venv/bin/python" ]] && cmp -s "$req" "$venv/.requirements"; then
  exit 0
fi
# Debian's python3 (python3-venv): the same interpreter on every machine of the project.
py=/usr/bin/python3
if ! "$py" -m venv --help >/dev/null 2>&1; then
  echo "make_venv: $py has no venv module; apt-get install python3-venv" >&2
  exit 1
fi
rm -f "$venv/.requirements"
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$req"
# --no-deps installs only what the file lists: check that it lists everything needed.
# (pnnx's torch is left out on purpose: requirements.txt says why.)
missing="$("$venv/bin/python" -m pip check --disable-pip-version-check |
  grep -v '^pnnx .* requires torch' || true)"
if [[ -n "$missing" && "$missing" != "No broken requirements found." ]]; then
  echo "$missing" >&2
  echo "make_venv: $req misses a dependency (above)" >&2
  exit 1
fi
cp "$req" "$venv/.requirements"
echo "make_venv: $venv ready" >&2
