#!/usr/bin/env bash
# bench/ab.sh — repeated, interleaved A/B runs of make and extract, ours against casync, each
# run on a freshly made ext4 (a loop-mounted image), reporting medians and ratios.
#
# Usage: bench/ab.sh [RUNS]        RUNS per tool and operation (default 5)
#   AB_OPS      the operations to time (default "make extract nosync seeded"); make always
#               runs, since the others need its store
#   BENCH_DIR   where bench/bench.sh left its inputs (default /var/tmp/desync-bench); run
#               bench/bench.sh first, it generates mixed.bin and mixed-edit.bin
#
# Why: on a shared VM one run of a tool varies by 20% or more in CPU time, and ext4 gets
# slower at creating files after large trees were deleted. Alternating the tools run by run
# and taking medians cancels most drift; a fresh file system per run removes the history.
# Every run starts with its input in the page cache and nothing dirty (sync). Needs root
# (mount) and mkfs.ext4.
#
# Measured per run with /usr/bin/time: wall, user+sys CPU of the process (and children).
#   make:     mixed.bin into an empty store (ours: desync make -s; casync make --store)
#   extract:  mixed.bin's index from a store on the same fresh file system, durable on both
#             sides: ours as by default (the output synced before it is renamed into
#             place), casync's extract followed by `sync FILE` (casync itself does not
#             sync; sync's writeback is then timed with it, as ours is)
#   nosync:   the same, durable on neither side: ours --no-sync, casync's extract alone
#   seeded:   mixed-edit.bin from the store, seeded with mixed.bin (casync --seed=FILE;
#             ours --seed FILE, and --seed FILE.caibx)
set -euo pipefail

RUNS=${1:-5}
DIR=${BENCH_DIR:-/var/tmp/desync-bench}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MNT=$DIR/ab-mnt
IMG=$DIR/ab.img

[[ -s $DIR/mixed.bin && -s $DIR/mixed-edit.bin ]] || { echo "ab: run bench/bench.sh first (no inputs in $DIR)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "ab: needs root to mount a fresh file system" >&2; exit 1; }
(cd "$ROOT" && go build -o "$DIR/desync" ./cli/cmd/desync)
D=$DIR/desync
SIZE=$(stat -c %s "$DIR/mixed.bin")

LOOP=""
fresh() { # a new, empty ext4 at $MNT on a loop device with direct I/O (no second page
	# cache under it, so an fsync costs what it costs on a disk)
	cleanup
	mkdir -p "$MNT"
	truncate -s $((SIZE * 6)) "$IMG"
	LOOP=$(losetup --find --show --direct-io=on "$IMG")
	mkfs.ext4 -q -F "$LOOP"
	mount "$LOOP" "$MNT"
}
cleanup() {
	umount "$MNT" 2>/dev/null || true
	[[ -z $LOOP ]] || losetup -d "$LOOP" 2>/dev/null || true
	LOOP=""
	rm -f "$IMG"
}
trap cleanup EXIT

OPS=" ${AB_OPS:-make extract nosync seeded} "
wants() { [[ $OPS == *" $1 "* ]]; }

declare -A RES # RES[op/tool] = "wall cpu;wall cpu;..."
timed() { # timed OP TOOL CMD...
	local op=$1 tool=$2
	shift 2
	if ! wants "$op"; then
		"$@" >/dev/null
		return
	fi
	cat "$DIR/mixed.bin" "$DIR/mixed-edit.bin" >/dev/null
	sync
	/usr/bin/time -f '%e %U %S' -o "$DIR/ab.time" -- "$@" >/dev/null 2>"$DIR/ab.err" ||
		{ echo "ab: $op/$tool failed:" >&2; tail -5 "$DIR/ab.err" >&2; exit 1; }
	local e u s
	read -r e u s <"$DIR/ab.time"
	RES[$op/$tool]+="$e $(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}');"
	printf '   %-8s %-14s %6.2f s wall %6.2f s CPU\n' "$op" "$tool" "$e" "$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')"
}

for r in $(seq "$RUNS"); do
	echo "== run $r of $RUNS"
	for tool in casync ours; do
		fresh
		if [[ $tool == ours ]]; then
			timed make ours "$D" make -s "$MNT/s" "$MNT/x.caibx" "$DIR/mixed.bin"
			timed extract ours "$D" extract -s "$MNT/s" "$MNT/x.caibx" "$MNT/out"
			rm -f "$MNT/out"
			if wants nosync; then
				timed nosync ours "$D" extract --no-sync -s "$MNT/s" "$MNT/x.caibx" "$MNT/out"
				rm -f "$MNT/out"
			fi
			wants seeded || continue
			"$D" make -s "$MNT/s" "$MNT/e.caibx" "$DIR/mixed-edit.bin" >/dev/null
			cp "$DIR/mixed.bin" "$MNT/seed.bin"
			timed seeded ours "$D" extract -s "$MNT/s" --seed "$MNT/seed.bin" "$MNT/e.caibx" "$MNT/out"
			rm -f "$MNT/out"
			cp "$MNT/x.caibx" "$MNT/seed.bin.caibx"
			timed seeded ours-index "$D" extract -s "$MNT/s" --seed "$MNT/seed.bin.caibx" "$MNT/e.caibx" "$MNT/out"
		else
			timed make casync casync make --store="$MNT/s" "$MNT/x.caibx" "$DIR/mixed.bin"
			timed extract casync sh -c 'casync extract --store="$1/s" "$1/x.caibx" "$1/out" && sync "$1/out"' sh "$MNT"
			rm -f "$MNT/out"
			if wants nosync; then
				timed nosync casync casync extract --store="$MNT/s" "$MNT/x.caibx" "$MNT/out"
				rm -f "$MNT/out"
			fi
			wants seeded || continue
			casync make --store="$MNT/s" "$MNT/e.caibx" "$DIR/mixed-edit.bin" >/dev/null
			cp "$DIR/mixed.bin" "$MNT/seed.bin"
			timed seeded casync casync extract --store="$MNT/s" --seed="$MNT/seed.bin" "$MNT/e.caibx" "$MNT/out"
		fi
	done
done

median() { # median FIELD "a b;c d;..." (FIELD 1 = wall, 2 = cpu)
	tr ';' '\n' <<<"$2" | awk -v f="$1" 'NF {print $f}' | sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'
}
echo
echo "== medians of $RUNS runs ($(basename "$DIR")/mixed.bin, $SIZE bytes; fresh ext4 per run)"
printf '%-8s %-12s %9s %9s %11s %11s\n' op tool "wall s" "CPU s" "wall ratio" "CPU ratio"
for key in make/casync make/ours extract/casync extract/ours nosync/casync nosync/ours seeded/casync seeded/ours seeded/ours-index; do
	op=${key%/*} tool=${key#*/}
	wants "$op" || continue
	w=$(median 1 "${RES[$key]}") c=$(median 2 "${RES[$key]}")
	cw=$(median 1 "${RES[$op/casync]}") cc=$(median 2 "${RES[$op/casync]}")
	awk -v o="$op" -v t="$tool" -v w="$w" -v c="$c" -v cw="$cw" -v cc="$cc" 'BEGIN {
		printf "%-8s %-12s %9.2f %9.2f %11.2f %11.2f\n", o, t, w, c, w / cw, c / cc }'
done
echo "(ratio = ours ÷ casync's median; below 1 = ours better)"
