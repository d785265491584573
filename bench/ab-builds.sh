#!/usr/bin/env bash
# bench/ab-builds.sh — two builds of desync, alternately, on one extract: for judging a
# change by its effect (ab.sh compares us with casync).
#
# Usage: bench/ab-builds.sh RUNS OLD_BINARY NEW_BINARY [extract flags, e.g. --no-sync]
#   BENCH_DIR   where bench/bench.sh left its inputs (default /var/tmp/desync-bench)
#
# Makes a fresh ext4 (loop device with direct I/O) once, stores mixed.bin in it with the
# old build, then extracts its index RUNS times with each build, alternating (the old one
# first in odd runs, the new one in even runs), from a synced, page-cached state; checks
# every output with cmp against mixed.bin (a mismatch stops the script with status 1);
# prints each run and the means of wall and CPU (user+sys).
# Needs root (mount) and mkfs.ext4. Build the two binaries first, e.g. from a git
# worktree of the old commit: (cd ../old && go build -o /tmp/desync-old ./cli/cmd/desync).
set -euo pipefail

[[ $# -ge 3 ]] || { sed -n '4,6p' "$0" >&2; exit 2; }
RUNS=$1 OLD=$2 NEW=$3
shift 3
DIR=${BENCH_DIR:-/var/tmp/desync-bench}
MNT=$DIR/ab-mnt
IMG=$DIR/ab.img
[[ -s $DIR/mixed.bin ]] || { echo "ab-builds: run bench/bench.sh first (no inputs in $DIR)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "ab-builds: needs root to mount a fresh file system" >&2; exit 1; }

LOOP=""
cleanup() {
	umount "$MNT" 2>/dev/null || true
	[[ -z $LOOP ]] || losetup -d "$LOOP" 2>/dev/null || true
	rm -f "$IMG"
}
trap cleanup EXIT
mkdir -p "$MNT"
truncate -s $(($(stat -c %s "$DIR/mixed.bin") * 4)) "$IMG"
LOOP=$(losetup --find --show --direct-io=on "$IMG")
mkfs.ext4 -q -F "$LOOP"
mount "$LOOP" "$MNT"
"$OLD" make -s "$MNT/store" "$MNT/x.caibx" "$DIR/mixed.bin" >/dev/null

for run in $(seq "$RUNS"); do
	order=("$OLD" "$NEW") # each build goes first in every other run
	((run % 2)) || order=("$NEW" "$OLD")
	for bin in "${order[@]}"; do
		rm -f "$MNT/out"
		sync
		/usr/bin/time -f "$bin %e %U %S" -o "$DIR/ab.time" -- "$bin" extract "$@" -s "$MNT/store" "$MNT/x.caibx" "$MNT/out" >/dev/null
		if ! diff=$(cmp -- "$MNT/out" "$DIR/mixed.bin" 2>&1); then
			echo "ab-builds: MISMATCH in run $run: $bin's output is not mixed.bin: ${diff:-differs}" >&2
			exit 1
		fi
		cat "$DIR/ab.time"
	done
done | awk '{ cpu = $3 + $4; printf "%-30s %6.2f s wall %6.2f s CPU\n", $1, $2, cpu
	w[$1] += $2; c[$1] += cpu; n[$1]++ }
	END { for (b in n) printf "mean %-25s %6.2f s wall %6.2f s CPU\n", b, w[b] / n[b], c[b] / n[b] }'
