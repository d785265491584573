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
# (each run starts with a different one, in turn) and taking medians cancels most drift; a
# fresh file system per tool and run removes the history. Every run starts with its input
# in the page cache and nothing dirty (sync). Needs root (mount) and mkfs.ext4.
#
# Measured per run with /usr/bin/time: wall, user+sys CPU of the process (and children).
#   make:     mixed.bin into an empty store (ours: desync make -s; casync make --store).
#             Ours twice: at its default zstd level 1 (tool "ours") and at casync's
#             level 3 (--compression-level 3, tool "ours-l3"); the store sizes of all
#             three (du --apparent-size and du) are reported with the times
#   extract:  mixed.bin's index from a store on the same fresh file system, durable on both
#             sides: ours as by default (the output synced before it is renamed into
#             place), casync's extract followed by `sync FILE` (casync itself does not
#             sync; sync's writeback is then timed with it, as ours is)
#   nosync:   the same, durable on neither side: ours --no-sync, casync's extract alone
#   seeded:   mixed-edit.bin from the store, seeded with mixed.bin (casync --seed=FILE;
#             ours --seed FILE, the same work: the seed is chunked and hashed). Ours is
#             also run with --seed FILE.caibx (tool "ours-index"), which casync cannot do:
#             it reads the seed's chunk list instead of chunking it, so it is compared
#             with ours seeded with the file, not with casync
#
# Every output is compared with cmp against the file it must equal, and every index with
# casync's index of the same input; a mismatch stops the script with exit status 1.
set -euo pipefail

RUNS=${1:-5}
DIR=${BENCH_DIR:-/var/tmp/desync-bench}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MNT=$DIR/ab-mnt
IMG=$DIR/ab.img

die() { echo "ab: $*" >&2; exit 1; }

[[ -s $DIR/mixed.bin && -s $DIR/mixed-edit.bin ]] || die "run bench/bench.sh first (no inputs in $DIR)"
[[ $(id -u) == 0 ]] || die "needs root to mount a fresh file system"
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

declare -A RES   # RES[op/tool] = "wall cpu;wall cpu;..."
declare -A STORE # STORE[tool] = "apparent-bytes disk-bytes" of the store make left
run=0
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

same() { # same WHAT FILE WANT: stop, loudly, unless FILE equals WANT byte for byte
	local diff
	if ! diff=$(cmp -- "$2" "$3" 2>&1); then
		echo "ab: MISMATCH in run $run: $1: ${diff:-differs}" >&2
		exit 1
	fi
}

extracted() { # extracted OP TOOL WANT: check $MNT/out against WANT, then remove it
	same "$1/$2 output is not $(basename "$3")" "$MNT/out" "$3"
	rm -f "$MNT/out"
}

made() { # made TOOL: record the store's size and keep a copy of the index to compare
	STORE[$1]="$(du -s -B1 --apparent-size "$MNT/s" | cut -f1) $(du -s -B1 "$MNT/s" | cut -f1)"
	cp "$MNT/x.caibx" "$DIR/ab-$1.caibx"
}

run_casync() {
	timed make casync casync make --store="$MNT/s" "$MNT/x.caibx" "$DIR/mixed.bin"
	made casync
	timed extract casync sh -c 'casync extract --store="$1/s" "$1/x.caibx" "$1/out" && sync "$1/out"' sh "$MNT"
	extracted extract casync "$DIR/mixed.bin"
	if wants nosync; then
		timed nosync casync casync extract --store="$MNT/s" "$MNT/x.caibx" "$MNT/out"
		extracted nosync casync "$DIR/mixed.bin"
	fi
	wants seeded || return 0
	casync make --store="$MNT/s" "$MNT/e.caibx" "$DIR/mixed-edit.bin" >/dev/null
	cp "$DIR/mixed.bin" "$MNT/seed.bin"
	timed seeded casync casync extract --store="$MNT/s" --seed="$MNT/seed.bin" "$MNT/e.caibx" "$MNT/out"
	extracted seeded casync "$DIR/mixed-edit.bin"
}

run_ours() {
	timed make ours "$D" make -s "$MNT/s" "$MNT/x.caibx" "$DIR/mixed.bin"
	made ours
	timed extract ours "$D" extract -s "$MNT/s" "$MNT/x.caibx" "$MNT/out"
	extracted extract ours "$DIR/mixed.bin"
	if wants nosync; then
		timed nosync ours "$D" extract --no-sync -s "$MNT/s" "$MNT/x.caibx" "$MNT/out"
		extracted nosync ours "$DIR/mixed.bin"
	fi
	wants seeded || return 0
	"$D" make -s "$MNT/s" "$MNT/e.caibx" "$DIR/mixed-edit.bin" >/dev/null
	cp "$DIR/mixed.bin" "$MNT/seed.bin"
	timed seeded ours "$D" extract -s "$MNT/s" --seed "$MNT/seed.bin" "$MNT/e.caibx" "$MNT/out"
	extracted seeded ours "$DIR/mixed-edit.bin"
	cp "$MNT/x.caibx" "$MNT/seed.bin.caibx"
	timed seeded ours-index "$D" extract -s "$MNT/s" --seed "$MNT/seed.bin.caibx" "$MNT/e.caibx" "$MNT/out"
	extracted seeded ours-index "$DIR/mixed-edit.bin"
}

run_ours_l3() { # make only: the store casync's compression level gives ours
	timed make ours-l3 "$D" make --compression-level 3 -s "$MNT/s" "$MNT/x.caibx" "$DIR/mixed.bin"
	made ours-l3
}

TOOLS=(casync ours)
! wants make || TOOLS+=(ours-l3)
for run in $(seq "$RUNS"); do
	k=$(((run - 1) % ${#TOOLS[@]}))
	order=("${TOOLS[@]:k}" "${TOOLS[@]:0:k}")
	echo "== run $run of $RUNS (in this order: ${order[*]})"
	for tool in "${order[@]}"; do
		fresh
		"run_${tool//-/_}"
	done
	for tool in "${TOOLS[@]:1}"; do
		same "the index $tool made is not casync's" "$DIR/ab-$tool.caibx" "$DIR/ab-casync.caibx"
	done
done
rm -f "$DIR"/ab-*.caibx

median() { # median FIELD "a b;c d;..." (FIELD 1 = wall, 2 = cpu)
	tr ';' '\n' <<<"$2" | awk -v f="$1" 'NF {print $f}' | sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'
}
echo
echo "== medians of $RUNS runs ($(basename "$DIR")/mixed.bin, $SIZE bytes; fresh ext4 per run)"
printf '%-8s %-12s %9s %9s %11s %11s\n' op tool "wall s" "CPU s" "wall ratio" "CPU ratio"
for key in make/casync make/ours make/ours-l3 extract/casync extract/ours nosync/casync nosync/ours \
	seeded/casync seeded/ours seeded/ours-index; do
	op=${key%/*} tool=${key#*/}
	wants "$op" || continue
	base=$op/casync
	[[ $key != seeded/ours-index ]] || base=seeded/ours # different work from casync's
	w=$(median 1 "${RES[$key]}") c=$(median 2 "${RES[$key]}")
	bw=$(median 1 "${RES[$base]}") bc=$(median 2 "${RES[$base]}")
	awk -v o="$op" -v t="$tool" -v w="$w" -v c="$c" -v bw="$bw" -v bc="$bc" -v b="${base#*/}" 'BEGIN {
		printf "%-8s %-12s %9.2f %9.2f %11.2f %11.2f%s\n", o, t, w, c, w / bw, c / bc, (b == "casync" ? "" : "  (÷ " b ")") }'
done
echo "(ratio = ours ÷ casync's median, below 1 = ours better)"
! wants seeded || echo "(ours-index ÷ ours seeded with the file: casync cannot seed from an index, so it is not the same work)"

if wants make; then
	echo
	echo "== stores made from mixed.bin (MiB = 2^20 bytes; du --apparent-size, and du)"
	printf '%-8s %-16s %13s %9s %15s %11s\n' tool compression "apparent MiB" "du MiB" "apparent ratio" "du ratio"
	for tool in casync ours ours-l3; do
		case $tool in
		casync) comp="zstd 3 (casync)" ;;
		ours) comp="zstd 1 (default)" ;;
		ours-l3) comp="zstd 3" ;;
		esac
		read -r a u <<<"${STORE[$tool]}"
		read -r ca cu <<<"${STORE[casync]}"
		awk -v t="$tool" -v k="$comp" -v a="$a" -v u="$u" -v ca="$ca" -v cu="$cu" 'BEGIN {
			printf "%-8s %-16s %13.1f %9.1f %15.3f %11.3f\n", t, k, a / 1048576, u / 1048576, a / ca, u / cu }'
	done
	echo "(ratio = ÷ casync's store; ours' zstd is klauspost/compress, its level 3 is its default speed)"
fi
echo "all outputs and indexes verified"
