#!/usr/bin/env bash
# demo.sh — the README's first command: build desync, make a 64 MiB sample
# into a local store, extract it again, and check the copy is exact.
#
#   bash scripts/demo.sh [WORKDIR]      (default /tmp/desync-demo)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${1:-/tmp/desync-demo}
rm -rf "$dir" && mkdir -p "$dir"

go build -o "$dir/desync" ./cli/cmd/desync
go run ./cli/internal/gendata/cmd/gendata -kind mixed -size 64M -seed 1 -o "$dir/sample.bin"

echo "== desync make -s $dir/store.castr $dir/sample.caibx $dir/sample.bin"
"$dir/desync" make --print-stats -s "$dir/store.castr" "$dir/sample.caibx" "$dir/sample.bin"
echo "== desync extract -s $dir/store.castr $dir/sample.caibx $dir/sample.out"
"$dir/desync" extract --print-stats -s "$dir/store.castr" "$dir/sample.caibx" "$dir/sample.out"
cmp "$dir/sample.bin" "$dir/sample.out"
echo "== the extracted copy is identical; index: $(du -h "$dir/sample.caibx" | cut -f1), store: $(du -sh "$dir/store.castr" | cut -f1)"
