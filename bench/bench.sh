#!/usr/bin/env bash
# bench/bench.sh — desync's end-to-end benchmark, side by side with casync in the same run.
#
# Usage: bench/bench.sh [SIZE]      SIZE: bytes or K/M/G suffix (binary), default 1G
#   BENCH_DIR   work directory (default /var/tmp/desync-bench; needs ~8×SIZE free)
#
# What it does:
#   1. builds desync (go build ./cli/cmd/desync) and gendata from this checkout;
#   2. generates, once, deterministic inputs: random.bin (AES-CTR keystream), mixed.bin
#      (random/text/zero regions) and mixed-edit.bin (~20 small edits of mixed.bin); a file
#      that is already there with the right size is reused;
#   3. for random and mixed times, with /usr/bin/time: make (index only, ours), make into an
#      empty store (casync and ours), extract from that store (casync and ours); then, for
#      mixed-edit, an incremental make into the store already holding mixed's chunks, and
#      extracts of it: casync seeded with mixed.bin; ours unseeded, seeded with the file
#      mixed.bin (chunked on the fly, as casync does) and with its index mixed.bin.caibx;
#   4. checks every extracted file with cmp against its input and our index against
#      casync's, byte for byte;
#   5. prints a table and ours÷casync ratios, and an RSS-flatness check (our make on a
#      256M prefix vs the full file).
#
# Page cache: the benchmark measures the tools, not the disk. Before every timed command
# its inputs (file, or store + index) are pre-warmed with `cat >/dev/null` and dirty pages
# are flushed with `sync`, so both tools read from memory and neither pays for the other's
# writeback. (Dropping the caches instead would make the numbers depend on the disk and
# on root access.) Outputs are written to the page cache; neither tool's time includes
# flushing them to disk, except any fsync the tool itself does.
#
# Exit status: 0 when everything ran and verified; 1 when a command failed, an output or
# index mismatched, or desync could not be built (the casync half is still reported).
set -euo pipefail

SIZE_ARG=${1:-1G}
DIR=${BENCH_DIR:-/var/tmp/desync-bench}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

SEED_RANDOM=1
SEED_MIXED=2
SEED_EDIT=3

die() { echo "bench: $*" >&2; exit 1; }
warn() { echo "bench: warning: $*" >&2; }

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # parse_size

SIZE=$(parse_size "$SIZE_ARG")
((SIZE > 0)) || die "size must be positive"
PREFIX=$((256 << 20))
((PREFIX < SIZE)) || PREFIX=$((SIZE / 4))

command -v casync >/dev/null || die "casync not found (apt-get install -y casync)"
if [[ ! -x /usr/bin/time ]]; then
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		apt-get install -y time >/dev/null
	else
		die "/usr/bin/time not found (apt-get install -y time)"
	fi
fi
command -v go >/dev/null || die "go not found"

mkdir -p "$DIR/log"
FAILED=()
fail() { echo "bench: FAILED: $*" >&2; FAILED+=("$*"); }

echo "== desync benchmark: size $SIZE_ARG ($SIZE bytes), work dir $DIR"
echo "   $(nproc) CPUs, $(uname -sr), $(casync --version 2>&1 | head -n1), $(go version | cut -d' ' -f3-)"
echo "   page cache: inputs pre-warmed with cat before every timed run (see the header of bench.sh)"

# --- build -------------------------------------------------------------------------------
(cd "$ROOT" && go build -o "$DIR/gendata" ./cli/internal/gendata/cmd/gendata) ||
	die "building gendata failed"
HAVE_OURS=1
if ! (cd "$ROOT" && go build -o "$DIR/desync" ./cli/cmd/desync) 2>"$DIR/log/build.err"; then
	HAVE_OURS=0
	sed 's/^/   /' "$DIR/log/build.err" | head -n 20 >&2
	fail "go build ./cli/cmd/desync (ours skipped; casync half only)"
fi
DESYNC=$DIR/desync
OURS_SEED=0
if ((HAVE_OURS)); then
	help=$("$DESYNC" extract -h 2>&1 || true)
	[[ $help != *--seed* ]] || OURS_SEED=1
fi

# --- inputs ------------------------------------------------------------------------------
filesize() { stat -c %s "$1" 2>/dev/null || echo -1; }

gen() { # gen NAME KIND SEED
	local f=$DIR/$1.bin
	if [[ $(filesize "$f") == "$SIZE" ]]; then
		echo "   $1.bin: present, reused"
		return
	fi
	echo "   $1.bin: generating ($2, seed $3)"
	"$DIR/gendata" -kind "$2" -size "$SIZE" -seed "$3" -o "$f"
}
echo "== inputs"
gen random random "$SEED_RANDOM"
gen mixed mixed "$SEED_MIXED"
# The edit's size is not known in advance: regenerate it whenever mixed.bin is newer.
if [[ -s $DIR/mixed-edit.bin && $DIR/mixed-edit.bin -nt $DIR/mixed.bin ]]; then
	echo "   mixed-edit.bin: present, reused"
else
	echo "   mixed-edit.bin: generating (edit of mixed.bin, seed $SEED_EDIT)"
	"$DIR/gendata" -kind edit -base "$DIR/mixed.bin" -seed "$SEED_EDIT" -o "$DIR/mixed-edit.bin"
fi
if [[ $(filesize "$DIR/mixed-prefix.bin") != "$PREFIX" || $DIR/mixed-prefix.bin -ot $DIR/mixed.bin ]]; then
	head -c "$PREFIX" "$DIR/mixed.bin" >"$DIR/mixed-prefix.bin"
fi

# --- measurement ---------------------------------------------------------------------------
declare -A WALL UTIME STIME RSS BYTES
ROWS=()

warm() { # warm FILE|DIR... : read everything into the page cache
	local p
	for p in "$@"; do
		if [[ -d $p ]]; then
			find "$p" -type f -exec cat {} + >/dev/null
		elif [[ -e $p ]]; then
			cat "$p" >/dev/null
		fi
	done
}

# measure KEY LABEL BYTES -- CMD...  : time CMD; record wall/user/sys/RSS under KEY.
# Returns CMD's status; on failure the row says FAILED and the stderr is shown.
measure() {
	local key=$1 label=$2 bytes=$3
	shift 4
	sync
	local st=0
	/usr/bin/time -f '%e %U %S %M' -o "$DIR/log/$key.time" -- "$@" \
		>"$DIR/log/$key.out" 2>"$DIR/log/$key.err" || st=$?
	ROWS+=("$key|$label")
	BYTES[$key]=$bytes
	if ((st != 0)); then
		WALL[$key]=FAILED
		sed 's/^/   /' "$DIR/log/$key.err" | tail -n 5 >&2
		fail "$label: exit status $st (log: $DIR/log/$key.err)"
		return "$st"
	fi
	local e u s m
	read -r e u s m < <(tail -n 1 "$DIR/log/$key.time")
	WALL[$key]=$e UTIME[$key]=$u STIME[$key]=$s RSS[$key]=$m
	printf '   %-44s %8.2f s\n' "$label" "$e"
}

skip_row() { # skip_row KEY LABEL REASON
	ROWS+=("$1|$2")
	WALL[$1]="n/a: $3"
}

check_same() { # check_same WHAT A B
	if cmp -s "$2" "$3"; then
		echo "   ok: $1"
	else
		fail "$1: $2 and $3 differ"
	fi
}

list_chunks() { # list_chunks STORE: the store's chunk files, relative, sorted
	if [[ -d $1 ]]; then
		(cd "$1" && find . -type f -name '*.cacnk' | sort)
	fi
}

run_input() { # run_input NAME
	local name=$1 in=$DIR/$1.bin bytes
	bytes=$(filesize "$in")
	local cx=$DIR/casync-$name.caibx ox=$DIR/ours-$name.caibx
	local cout=$DIR/casync-$name.out oout=$DIR/ours-$name.out
	echo "== $name ($bytes bytes)"

	if ((HAVE_OURS)); then
		rm -f "$DIR/ours-noidx.caibx"
		warm "$in"
		measure "$name-mkidx-ours" "make $name, index only" "$bytes" -- \
			"$DESYNC" make -n 2 "$DIR/ours-noidx.caibx" "$in" || true
	else
		skip_row "$name-mkidx-ours" "make $name, index only" "no desync"
	fi

	rm -rf "$DIR/casync.castr" "$cx"
	warm "$in"
	measure "$name-make-casync" "make $name into empty store" "$bytes" -- \
		casync make --store="$DIR/casync.castr" "$cx" "$in" || true

	if ((HAVE_OURS)); then
		rm -rf "$DIR/ours.castr" "$ox"
		warm "$in"
		measure "$name-make-ours" "make $name into empty store" "$bytes" -- \
			"$DESYNC" make -s "$DIR/ours.castr" "$ox" "$in" || true
	else
		skip_row "$name-make-ours" "make $name into empty store" "no desync"
	fi

	rm -f "$cout"
	warm "$DIR/casync.castr" "$cx"
	if measure "$name-extract-casync" "extract $name" "$bytes" -- \
		casync extract --store="$DIR/casync.castr" "$cx" "$cout"; then
		check_same "casync extract of $name equals the input" "$cout" "$in"
	fi

	if ((HAVE_OURS)); then
		rm -f "$oout"
		warm "$DIR/ours.castr" "$ox"
		if measure "$name-extract-ours" "extract $name" "$bytes" -- \
			"$DESYNC" extract -s "$DIR/ours.castr" "$ox" "$oout"; then
			check_same "our extract of $name equals the input" "$oout" "$in"
		fi
		if [[ ${WALL[$name-mkidx-ours]} != FAILED ]]; then
			check_same "our index-only index of $name equals casync's" "$DIR/ours-noidx.caibx" "$cx"
		fi
		if [[ ${WALL[$name-make-ours]} != FAILED ]]; then
			check_same "our store-make index of $name equals casync's" "$ox" "$cx"
		fi
		# Our store must hold exactly the chunks of the index, like casync's.
		if [[ ${WALL[$name-make-ours]} != FAILED && ${WALL[$name-make-casync]} != FAILED ]]; then
			check_same "our store holds the same chunk files as casync's" \
				<(list_chunks "$DIR/ours.castr") <(list_chunks "$DIR/casync.castr")
		fi
		rm -f "$oout"
	else
		skip_row "$name-extract-ours" "extract $name" "no desync"
	fi
	rm -f "$cout"
}

# Incremental work on mixed-edit.bin: the stores still hold mixed.bin's chunks from
# run_input mixed, so make hashes everything but compresses and writes only new chunks,
# and a seeded extract copies most data from mixed.bin.
run_edit() {
	local name=mixed-edit in=$DIR/mixed-edit.bin bytes
	bytes=$(filesize "$in")
	local cx=$DIR/casync-$name.caibx ox=$DIR/ours-$name.caibx
	local cout=$DIR/casync-$name.out oout=$DIR/ours-$name.out
	echo "== $name ($bytes bytes; stores already hold mixed.bin's chunks)"
	rm -f "$cx" "$ox"

	warm "$in"
	measure "$name-make-casync" "make $name into store with mixed" "$bytes" -- \
		casync make --store="$DIR/casync.castr" "$cx" "$in" || true
	if ((HAVE_OURS)); then
		warm "$in"
		measure "$name-make-ours" "make $name into store with mixed" "$bytes" -- \
			"$DESYNC" make -s "$DIR/ours.castr" "$ox" "$in" || true
		if [[ ${WALL[$name-make-ours]} != FAILED ]]; then
			check_same "our index of $name equals casync's" "$ox" "$cx"
		fi
	else
		skip_row "$name-make-ours" "make $name into store with mixed" "no desync"
	fi

	rm -f "$cout"
	warm "$DIR/casync.castr" "$cx" "$DIR/mixed.bin"
	if measure "$name-extract-casync" "extract $name, seed mixed.bin" "$bytes" -- \
		casync extract --store="$DIR/casync.castr" --seed="$DIR/mixed.bin" "$cx" "$cout"; then
		check_same "casync seeded extract of $name equals the input" "$cout" "$in"
	fi
	if ((OURS_SEED)); then
		rm -f "$oout"
		warm "$DIR/ours.castr" "$ox"
		if measure "$name-extract-noseed-ours" "extract $name, no seed" "$bytes" -- \
			"$DESYNC" extract -s "$DIR/ours.castr" "$ox" "$oout"; then
			check_same "our unseeded extract of $name equals the input" "$oout" "$in"
		fi
		rm -f "$oout"
		warm "$DIR/ours.castr" "$ox" "$DIR/mixed.bin"
		if measure "$name-extract-ours" "extract $name, seed mixed.bin" "$bytes" -- \
			"$DESYNC" extract -s "$DIR/ours.castr" --seed "$DIR/mixed.bin" "$ox" "$oout"; then
			check_same "our seeded extract of $name equals the input" "$oout" "$in"
		fi
		rm -f "$oout"
		# The index form of a seed: mixed.bin.caibx next to mixed.bin, as desync
		# users keep it; the seed is not chunked again, only the data used is hashed.
		ln -sf "ours-mixed.caibx" "$DIR/mixed.bin.caibx"
		warm "$DIR/ours.castr" "$ox" "$DIR/mixed.bin" "$DIR/mixed.bin.caibx"
		if measure "$name-extract-ixseed-ours" "extract $name, seed mixed.bin.caibx" "$bytes" -- \
			"$DESYNC" extract -s "$DIR/ours.castr" --seed "$DIR/mixed.bin.caibx" --print-stats "$ox" "$oout"; then
			check_same "our index-seeded extract of $name equals the input" "$oout" "$in"
			sed 's/^/      /' "$DIR/log/$name-extract-ixseed-ours.out" | grep -E 'from-seeds|from-store|cloned|copied' || true
		fi
		rm -f "$oout"
	else
		local why="no desync"
		((!HAVE_OURS)) || why="no --seed in our CLI yet"
		skip_row "$name-extract-ours" "extract $name, seed mixed.bin" "$why"
	fi
	rm -f "$cout"
}

run_input random
run_input mixed
run_edit

echo "== RSS flatness (ours, make index only, mixed)"
if ((HAVE_OURS)); then
	warm "$DIR/mixed-prefix.bin"
	measure "prefix-mkidx-ours" "make mixed $((PREFIX >> 20))M prefix, index only" "$PREFIX" -- \
		"$DESYNC" make -n 2 "$DIR/ours-noidx.caibx" "$DIR/mixed-prefix.bin" || true
fi

# --- report ------------------------------------------------------------------------------
tool_of() { case $1 in *-ours) echo ours ;; *-casync) echo casync ;; esac; }

echo
echo "== results ($SIZE_ARG inputs; MB = 10^6 bytes; CPU = user+sys; RSS = peak resident set)"
printf '%-44s | %-6s | %8s | %8s | %8s | %9s\n' operation tool "wall s" "MB/s" "CPU s" "RSS MiB"
printf '%s\n' "---------------------------------------------+--------+----------+----------+----------+----------"
for row in "${ROWS[@]}"; do
	key=${row%%|*} label=${row#*|}
	tool=$(tool_of "$key")
	w=${WALL[$key]}
	if [[ $w == FAILED || $w == n/a* ]]; then
		printf '%-44s | %-6s | %s\n' "$label" "$tool" "$w"
		continue
	fi
	awk -v l="$label" -v t="$tool" -v w="$w" -v u="${UTIME[$key]}" -v s="${STIME[$key]}" \
		-v m="${RSS[$key]}" -v b="${BYTES[$key]}" 'BEGIN {
		printf "%-44s | %-6s | %8.2f | %8.0f | %8.2f | %9.1f\n", l, t, w, (w > 0 ? b / w / 1e6 : 0), u + s, m / 1024
	}'
done

ratio() { # ratio LABEL OURS_KEY CASYNC_KEY FIELD
	local o=$2 c=$3 f=$4
	local ow=${WALL[$o]:-n/a} cw=${WALL[$c]:-n/a}
	if [[ $ow == FAILED || $ow == n/a* || $cw == FAILED || $cw == n/a* ]]; then
		printf '   %-52s %s\n' "$1" "n/a"
		return
	fi
	local ov cv
	case $f in
	wall) ov=$ow cv=$cw ;;
	cpu) ov=$(awk -v a="${UTIME[$o]}" -v b="${STIME[$o]}" 'BEGIN{print a+b}')
		cv=$(awk -v a="${UTIME[$c]}" -v b="${STIME[$c]}" 'BEGIN{print a+b}') ;;
	rss) ov=${RSS[$o]} cv=${RSS[$c]} ;;
	esac
	awk -v l="$1" -v o="$ov" -v c="$cv" 'BEGIN {
		if (c > 0) printf "   %-52s %6.2f\n", l, o / c; else printf "   %-52s %s\n", l, "n/a (casync 0)"
	}'
}

echo
echo "== ours ÷ casync (below 1 = ours better)"
for name in random mixed mixed-edit; do
	ratio "make $name into store: CPU" "$name-make-ours" "$name-make-casync" cpu
	ratio "make $name into store: wall" "$name-make-ours" "$name-make-casync" wall
	ratio "make $name into store: peak RSS" "$name-make-ours" "$name-make-casync" rss
	ratio "extract $name: CPU" "$name-extract-ours" "$name-extract-casync" cpu
	ratio "extract $name: wall" "$name-extract-ours" "$name-extract-casync" wall
	ratio "extract $name: peak RSS" "$name-extract-ours" "$name-extract-casync" rss
done
echo "   (ours ÷ ours, same file; seeding from an index is work casync cannot do, so it is"
echo "    not compared with casync: casync --seed takes only files, which it chunks and hashes)"
ratio "extract mixed-edit, seed file ÷ no seed: CPU" "mixed-edit-extract-ours" "mixed-edit-extract-noseed-ours" cpu
ratio "extract mixed-edit, index seed ÷ no seed: CPU" "mixed-edit-extract-ixseed-ours" "mixed-edit-extract-noseed-ours" cpu
ratio "extract mixed-edit, index seed ÷ seed file: CPU" "mixed-edit-extract-ixseed-ours" "mixed-edit-extract-ours" cpu
ratio "extract mixed-edit, index seed ÷ seed file: wall" "mixed-edit-extract-ixseed-ours" "mixed-edit-extract-ours" wall

echo
if [[ -n ${RSS[prefix-mkidx-ours]:-} && -n ${RSS[mixed-mkidx-ours]:-} ]]; then
	awk -v p="${RSS[prefix-mkidx-ours]}" -v f="${RSS[mixed-mkidx-ours]}" -v ps="$((PREFIX >> 20))" -v fs="$((SIZE >> 20))" 'BEGIN {
		printf "RSS flatness (ours, make index only): %dM prefix %.1f MiB, full %dM %.1f MiB (ratio %.2f; flat ≈ 1)\n", ps, p / 1024, fs, f / 1024, f / p
	}'
else
	echo "RSS flatness: n/a (our make did not run)"
fi
echo "hint: chunker alone: go test -run XX -bench . -benchtime 2s ./chunker/  (compare runs with benchstat)"

if ((${#FAILED[@]})); then
	echo
	echo "== FAILURES (${#FAILED[@]})"
	printf '   %s\n' "${FAILED[@]}"
	exit 1
fi
echo "all outputs verified"
