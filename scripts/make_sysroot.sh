#!/usr/bin/env bash
# Builds the sysroot folder an ARM cross build links against, from Debian's own arm64/armhf
# packages (the same library versions as the native build):
#   scripts/make_sysroot.sh [arm64|armhf]...       (default: arm64 armhf)
# into build/sysroot/<arch> ($POLYHEAD_SYSROOT_DIR overrides build/sysroot). Installs the cross
# compilers and qemu-user if missing. Idempotent: a sysroot whose stamp matches is kept.
#
# Why unpack instead of `apt-get install pkg:arm64`: libxnnpack-dev, libpthreadpool-dev and
# libcpuinfo-dev are not co-installable with their amd64 versions (apt would remove the native
# ones), and multiarch libc6:arm64 next to the cross toolchain's libc makes qemu mix two glibc
# builds. So every package is fetched with `apt-get download` and unpacked with `dpkg-deb -x`;
# the C library and libstdc++ come from the cross toolchain (/usr/<triple>).
set -euo pipefail
cd "$(dirname "$0")/.."
root="${POLYHEAD_SYSROOT_DIR:-build/sysroot}"
arches=("$@")
((${#arches[@]})) || arches=(arm64 armhf)

# What the cross build links or includes, with the runtime libraries they need (ONNX and protobuf
# for the ONNX importer and its tests). OpenCV is left
# out on purpose: its arm64 closure is hundreds of packages and only the optional vision code
# uses it (docs/arm.md).
packages=(
  libxnnpack-dev libxnnpack0
  libpthreadpool-dev libpthreadpool0
  libcpuinfo-dev libcpuinfo0
  libflatbuffers-dev libflatbuffers2
  libbenchmark-dev libbenchmark1debian
  catch2
  libonnx-dev libonnx1 libonnxifi libprotobuf-dev libprotobuf32 libprotobuf-lite32
  zlib1g-dev zlib1g
)

sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)

triple_of() {
  case "$1" in
    arm64) echo aarch64-linux-gnu ;;
    armhf) echo arm-linux-gnueabihf ;;
    *) echo "make_sysroot: unknown architecture '$1' (expected arm64 or armhf)" >&2; return 1 ;;
  esac
}

# Host tools: the cross compilers, qemu-user to run what they build, flatc for the schema.
host_tools=(qemu-user flatbuffers-compiler)
for arch in "${arches[@]}"; do host_tools+=("crossbuild-essential-$arch"); triple_of "$arch" >/dev/null; done
missing=()
for p in "${host_tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
need_update=0
for arch in "${arches[@]}"; do
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    "${sudo_cmd[@]}" dpkg --add-architecture "$arch"
    need_update=1
  fi
done
if ((need_update)) || ((${#missing[@]})) ||
   ! apt-cache show "libxnnpack0:${arches[0]}" >/dev/null 2>&1; then
  # A mirror caught mid-sync fails some index: keep going, the download below says what is missing.
  "${sudo_cmd[@]}" apt-get update -qq || echo "make_sysroot: apt-get update reported errors" >&2
fi
if ((${#missing[@]})); then
  echo "make_sysroot: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

for arch in "${arches[@]}"; do
  triple="$(triple_of "$arch")"
  dest="$root/$arch"
  versions="$(apt-cache policy "${packages[@]/%/:$arch}" | awk '/^[^ ]/{p=$1} /Candidate:/{print p, $2}')"
  if [[ -f "$dest/.stamp" && "$(cat "$dest/.stamp")" == "$versions" ]]; then
    echo "make_sysroot: $dest is up to date"
    continue
  fi
  debs="$root/debs/$arch"
  rm -rf "$debs"  # no stale versions from an earlier run
  mkdir -p "$debs"
  echo "make_sysroot: downloading ${#packages[@]} $arch packages"
  (cd "$debs" && apt-get download -qq -o APT::Sandbox::User="$(id -un)" "${packages[@]/%/:$arch}")
  rm -rf "$dest"
  mkdir -p "$dest"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$dest"; done
  # Merged /usr, as on Debian (zlib1g still ships /lib/<triple>), and absolute links (libz.so ->
  # /lib/...) re-pointed into the sysroot.
  if [[ -d "$dest/lib" && ! -L "$dest/lib" ]]; then
    cp -a "$dest/lib/." "$dest/usr/lib/"
    rm -rf "${dest:?}/lib"
    ln -s usr/lib "$dest/lib"
  fi
  while IFS= read -r link; do
    target="$(readlink "$link")"
    [[ "$target" == /* ]] && ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$dest$target")" "$link"
  done < <(find "$dest" -type l)
  # The dev packages' unversioned .so links must point at the runtime libraries unpacked beside
  # them; a dangling link means a runtime package is missing from the list above.
  libdir="$dest/usr/lib/$triple"
  for so in "$libdir"/*.so; do
    [[ -e "$so" ]] || { echo "make_sysroot: $so dangles (runtime package missing)" >&2; exit 1; }
  done
  # Every shared library the unpacked ones need must come from the sysroot or the cross libc.
  for lib in "$libdir"/*.so.*; do
    [[ -L "$lib" ]] && continue
    for needed in $(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      [[ -e "$libdir/$needed" || -e "/usr/$triple/lib/$needed" ]] ||
        { echo "make_sysroot: $(basename "$lib") needs $needed, found in neither $libdir nor /usr/$triple/lib" >&2; exit 1; }
    done
  done
  echo "$versions" >"$dest/.stamp"
  echo "make_sysroot: $dest ready ($(du -sh "$dest" | cut -f1))"
done
