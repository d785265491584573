#!/usr/bin/env bash
# bench/encrypt.sh — the CPU cost of chunk encryption: make into and extract from a local
# store, plain (zstd) against XChaCha20-Poly1305 and AES-256-GCM, in the same run.
#
# Usage: bench/encrypt.sh [ROUNDS]    ROUNDS per variant (default 5); each round runs the
#                                     three variants in turn, starting with a different one
#   SIZE       input size (default 256M) of gendata -kind mixed (random and text)
#   BENCH_DIR  scratch directory (default /dev/shm/desync-encrypt: tmpfs, so that file
#              creation and deletion on a disk (ext4 discard, writeback) do not drown the
#              cost of the cipher; about 1.5 GiB)
#
# Every run: a fresh store (make) or a fresh output (extract), --no-sync on both and a sync
# before each, so the figures are the CPU of chunking, compressing, encrypting, hashing and
# writing, not of the disk or of the writeback of the run before. Prints per variant and command the median user+sys CPU seconds and wall seconds
# (/usr/bin/time), and the ratio to plain.
set -euo pipefail

ROUNDS=${1:-5}
SIZE=${SIZE:-256M}
DIR=${BENCH_DIR:-/dev/shm/desync-encrypt}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "encrypt: $*" >&2; exit 1; }
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (apt-get install time)"

mkdir -p "$DIR"
WORK=$(mktemp -d "$DIR/run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
(cd "$ROOT" && go build -o "$WORK/desync" ./cli/cmd/desync &&
	go run ./cli/internal/gendata/cmd/gendata -kind mixed -size "$SIZE" -o "$WORK/in")
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
VARIANTS=(plain xchacha20-poly1305 aes-256-gcm)
cat >"$WORK/config.json" <<JSON
{"store-options": {
  "$WORK/store-xchacha20-poly1305": {"encryption": true, "encryption-key": "$KEY"},
  "$WORK/store-aes-256-gcm": {"encryption": true, "encryption-key": "$KEY", "encryption-algorithm": "aes-256-gcm"}
}}
JSON
D=("$WORK/desync" --config "$WORK/config.json")

# run LABEL CMD...: one timed run, appended to $WORK/LABEL as "cpu wall"
run() {
	local label=$1
	shift
	sync # the previous run's dirty pages and deletions are not this run's cost
	/usr/bin/time -f "%U %S %e" -o "$WORK/t" "$@" >/dev/null
	awk '{printf "%.3f %.3f\n", $1 + $2, $3}' "$WORK/t" >>"$WORK/$label"
}

for ((r = 0; r < ROUNDS; r++)); do
	for ((k = 0; k < ${#VARIANTS[@]}; k++)); do
		v=${VARIANTS[$(((r + k) % ${#VARIANTS[@]}))]}
		rm -rf "$WORK/store-$v" "$WORK/out"
		run "make-$v" "${D[@]}" make --no-sync -s "$WORK/store-$v" "$WORK/$v.caibx" "$WORK/in"
		run "extract-$v" "${D[@]}" extract --no-sync -s "$WORK/store-$v" "$WORK/$v.caibx" "$WORK/out"
		cmp -s "$WORK/in" "$WORK/out" || die "$v: extract differs from the input"
	done
done

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
printf '%-8s %-20s %9s %9s %9s\n' command variant "cpu s" "wall s" "cpu/plain"
for cmd in make extract; do
	base=$(cut -d' ' -f1 "$WORK/$cmd-plain" | median)
	for v in "${VARIANTS[@]}"; do
		cpu=$(cut -d' ' -f1 "$WORK/$cmd-$v" | median)
		wall=$(cut -d' ' -f2 "$WORK/$cmd-$v" | median)
		printf '%-8s %-20s %9.3f %9.3f %9.3f\n' "$cmd" "$v" "$cpu" "$wall" "$(awk -v a="$cpu" -v b="$base" 'BEGIN {print a / b}')"
	done
done
