#!/usr/bin/env bash
# bench/archive.sh — archive a directory tree into a local store and extract it again, ours
# side by side with casync and the original desync, alternating tool by tool.
#
# Usage: bench/archive.sh [ROUNDS]         ROUNDS per tool and operation (default 2)
#   TREE       the tree to archive (default /usr/share); read with a warm page cache (one
#              untimed read first)
#   TOOLS      space-separated NAME=KIND:BINARY, KIND desync or casync, run in this order
#              within each round (rotated round by round). Default: "ours=desync:<built from
#              this checkout> orig=desync:/tmp/desync-orig casync=casync:casync" (the original
#              is unpacked from /work/shared/ref/desync-orig.xz, or $REF_XZ, when missing;
#              casync is skipped when not installed)
#   N          -n of every desync command (default 10, both desyncs' default)
#   BENCH_DIR  scratch directory (default /var/tmp/desync-archive)
#
# Operations: "tar" (desync tar -i -s STORE X.caidx TREE; casync make --store=STORE X.caidx
# TREE) into a fresh local store at zstd level 3 (casync's and the original's fixed level;
# ours gets --compression-level 3), then "untar" (desync untar -i -s STORE X.caidx DIR;
# casync extract --store=STORE X.caidx DIR) into a fresh directory. All tools run as the
# same user with the same durability: none of them syncs (ours gets --no-sync when it has it;
# its default syncs the chunks before the index is written). Every extracted tree is compared
# with the source (diff -r, without metadata). Reported per run: wall seconds, CPU seconds
# (user+sys), peak RSS (/usr/bin/time %M), files/s and MB/s; then medians per tool and
# operation and each tool's ratios to casync (wall and CPU).
set -euo pipefail

ROUNDS=${1:-2}
TREE=${TREE:-/usr/share}
DIR=${BENCH_DIR:-/var/tmp/desync-archive}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-10}

die() { echo "archive: $*" >&2; exit 1; }
[[ -d $TREE ]] || die "no tree $TREE"
mkdir -p "$DIR"
WORK=$(mktemp -d "$DIR/run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [[ -z ${TOOLS:-} ]]; then
	(cd "$ROOT" && go build -o "$DIR/desync-ours" ./cli/cmd/desync)
	ORIG=/tmp/desync-orig
	if [[ ! -x $ORIG ]]; then
		xz -dc "${REF_XZ:-/work/shared/ref/desync-orig.xz}" >"$ORIG" && chmod +x "$ORIG"
	fi
	TOOLS="ours=desync:$DIR/desync-ours orig=desync:$ORIG"
	command -v casync >/dev/null && TOOLS="$TOOLS casync=casync:casync"
fi
read -r -a TOOL_LIST <<<"$TOOLS"

FILES=$(find "$TREE" -xdev | wc -l)
MIB=$(du -sxm --apparent-size "$TREE" | cut -f1)
find "$TREE" -xdev -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true # warm the page cache

RESULTS=$WORK/results
: >"$RESULTS"
timed() { # timed TOOL OP ROUND CMD...
	local tool=$1 op=$2 round=$3; shift 3
	sync
	if ! /usr/bin/time -f "%e %M %U %S" -o "$WORK/time" "$@" >"$WORK/out" 2>&1; then
		cat "$WORK/out" >&2
		die "$tool $op failed: $*"
	fi
	read -r wall rss usr sys <"$WORK/time"
	local cpu
	cpu=$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')
	printf "%-7s %-6s round %d: %7.2fs wall %6ss CPU %7d KiB RSS %8.0f files/s %6.1f MB/s\n" \
		"$tool" "$op" "$round" "$wall" "$cpu" "$rss" \
		"$(awk -v f="$FILES" -v w="$wall" 'BEGIN { print f / w }')" \
		"$(awk -v m="$MIB" -v w="$wall" 'BEGIN { print m / w }')"
	echo "$tool $op $wall $cpu $rss" >>"$RESULTS"
}

run() { # run TOOL KIND BIN ROUND
	local tool=$1 kind=$2 bin=$3 round=$4 lvl=()
	# Fresh names every run, removed only at the end: deleting a tree of 50,000 files makes
	# the file system slow for the next run that creates one (on this box's ext4 the next
	# extraction took 8 s of system time instead of 1.6 s), whichever tool that is.
	local store=$WORK/store-$tool-$round idx=$WORK/$tool-$round.caidx out=$WORK/out-$tool-$round
	mkdir -p "$store"
	if [[ $kind == casync ]]; then
		timed "$tool" tar "$round" "$bin" make --store="$store" "$idx" "$TREE"
		timed "$tool" untar "$round" "$bin" extract --store="$store" "$idx" "$out"
	else
		"$bin" make -h 2>&1 | grep -q -- "compression-level" && lvl=(--compression-level 3)
		"$bin" tar -h 2>&1 | grep -q -- "--no-sync" && lvl+=(--no-sync)
		timed "$tool" tar "$round" "$bin" tar -i -n "$N" "${lvl[@]}" -s "$store" "$idx" "$TREE"
		timed "$tool" untar "$round" "$bin" untar -i -n "$N" -s "$store" "$idx" "$out"
	fi
	diff -r --no-dereference "$TREE" "$out" >/dev/null 2>&1 || echo "  note: $tool's extracted tree differs from the source (diff -r)"
}

echo "tree $TREE ($FILES entries, $MIB MiB), -n $N, $ROUNDS rounds, tools: $TOOLS"
for ((r = 1; r <= ROUNDS; r++)); do
	for ((i = 0; i < ${#TOOL_LIST[@]}; i++)); do
		t=${TOOL_LIST[$(((i + r - 1) % ${#TOOL_LIST[@]}))]}
		spec=${t#*=}
		run "${t%%=*}" "${spec%%:*}" "${spec#*:}" "$r"
	done
done

echo
echo "medians (wall s, CPU s, peak RSS KiB; ratios to casync when it ran)"
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v t="$1" -v o="$2" -v c="$3" '$1 == t && $2 == o { print $c }' "$RESULTS" | median; }
for op in tar untar; do
	rw=$(col casync "$op" 3); rc=$(col casync "$op" 4)
	for t in "${TOOL_LIST[@]}"; do
		name=${t%%=*}
		w=$(col "$name" "$op" 3); c=$(col "$name" "$op" 4); m=$(col "$name" "$op" 5)
		ratio=""
		[[ -n $rw ]] && ratio=$(awk -v w="$w" -v c="$c" -v rw="$rw" -v rc="$rc" 'BEGIN { printf "wall %.2fx CPU %.2fx casync", w / rw, c / rc }')
		printf "%-6s %-7s %7.2fs wall %6.1fs CPU %7d KiB %8.0f files/s %6.1f MB/s  %s\n" "$op" "$name" "$w" "$c" "$m" \
			"$(awk -v f="$FILES" -v w="$w" 'BEGIN { print f / w }')" "$(awk -v m="$MIB" -v w="$w" 'BEGIN { print m / w }')" "$ratio"
	done
done
