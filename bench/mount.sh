#!/usr/bin/env bash
# bench/mount.sh — read throughput of a blob through our FUSE mount-index, side by side
# with the original desync's mount-index and with our `desync cat`, in the same run.
#
# Usage: bench/mount.sh [SIZE] [ROUNDS]   SIZE default 64M (random data), ROUNDS default 3
#   BENCH_DIR     work directory (default /var/tmp/desync-bench-mount)
#   DESYNC_ORIG   the original desync binary (default: unpacked from
#                 ../shared/ref/desync-orig.xz next to this checkout, if present)
#
# Each round, in turn: the original's mount, ours, and our cat, all on the same local
# store. A mount is fresh (cold: nothing of the blob in the kernel's page cache for that
# mount, the chunk files themselves in the page cache, nothing else dropped); the blob is
# read twice with dd bs=1M: cold, then warm (what the kernel and the mount kept). cat is
# run twice likewise. Prints MB/s (10^6 bytes/s) per run and the medians, and the ratios
# ours÷original and ours÷cat. Needs root (or fuse user mounts) and fusermount3.
set -euo pipefail

SIZE_ARG=${1:-64M}
ROUNDS=${2:-3}
DIR=${BENCH_DIR:-/var/tmp/desync-bench-mount}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() { echo "bench: $*" >&2; exit 1; }
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # parse_size
SIZE=$(parse_size "$SIZE_ARG")

command -v fusermount3 >/dev/null || die "fusermount3 not found (apt-get install -y fuse3)"
[[ -e /dev/fuse ]] || die "/dev/fuse missing"
mkdir -p "$DIR"
(cd "$ROOT" && go build -o "$DIR/desync" ./cli/cmd/desync) || die "building desync failed"
ORIG=${DESYNC_ORIG:-}
if [[ -z $ORIG && -f $ROOT/../shared/ref/desync-orig.xz ]]; then
	ORIG=$DIR/desync-orig
	xz -dc "$ROOT/../shared/ref/desync-orig.xz" >"$ORIG"
	chmod +x "$ORIG"
fi
[[ -n $ORIG && -x $ORIG ]] || die "no original desync (set DESYNC_ORIG)"

BLOB=$DIR/blob.bin
if [[ ! -f $BLOB || $(stat -c %s "$BLOB") != "$SIZE" ]]; then
	head -c "$SIZE" /dev/urandom >"$BLOB"
	rm -rf "$DIR/store" "$DIR/blob.caibx"
fi
[[ -f $DIR/blob.caibx ]] || "$DIR/desync" make -s "$DIR/store" "$DIR/blob.caibx" "$BLOB"
cat "$DIR"/store/*/* >/dev/null # chunk files in the page cache for everyone
MNT=$DIR/mnt
mkdir -p "$MNT"
mountpoint -q "$MNT" && fusermount3 -u -z "$MNT"

now() { date +%s.%N; }
mbps() { awk -v b="$SIZE" -v s="$1" -v e="$2" 'BEGIN { printf "%.0f", b / (e - s) / 1e6 }'; }

# readmount BINARY: mount, read cold and warm, unmount; prints "cold warm".
readmount() {
	local bin=$1 pid t0 t1 t2 cold warm
	"$bin" mount-index -s "$DIR/store" "$DIR/blob.caibx" "$MNT" 2>>"$DIR/mount.log" &
	pid=$!
	for _ in $(seq 200); do
		mountpoint -q "$MNT" && [[ -e $MNT/blob ]] && break
		sleep 0.05
	done
	mountpoint -q "$MNT" || die "$bin did not mount"
	t0=$(now)
	dd if="$MNT/blob" of=/dev/null bs=1M status=none
	t1=$(now)
	dd if="$MNT/blob" of=/dev/null bs=1M status=none
	t2=$(now)
	kill -TERM "$pid"
	wait "$pid" || true
	mountpoint -q "$MNT" && fusermount3 -u -z "$MNT"
	echo "$(mbps "$t0" "$t1") $(mbps "$t1" "$t2")"
}

readcat() {
	local t0 t1 t2
	t0=$(now)
	"$DIR/desync" cat -s "$DIR/store" "$DIR/blob.caibx" >/dev/null
	t1=$(now)
	"$DIR/desync" cat -s "$DIR/store" "$DIR/blob.caibx" >/dev/null
	t2=$(now)
	echo "$(mbps "$t0" "$t1") $(mbps "$t1" "$t2")"
}

# correctness first: our mount reads back the blob
"$DIR/desync" mount-index -s "$DIR/store" "$DIR/blob.caibx" "$MNT" 2>>"$DIR/mount.log" &
pid=$!
for _ in $(seq 200); do [[ -e $MNT/blob ]] && break; sleep 0.05; done
cmp "$MNT/blob" "$BLOB" || die "our mount differs from the blob"
kill -TERM "$pid"; wait "$pid" || true

declare -a OC OW MC MW CC CW
printf '%-6s %22s %22s %22s\n' round "original cold/warm" "ours cold/warm" "cat cold/warm"
for r in $(seq "$ROUNDS"); do
	read -r oc ow < <(readmount "$ORIG")
	read -r mc mw < <(readmount "$DIR/desync")
	read -r cc cw < <(readcat)
	OC+=("$oc"); OW+=("$ow"); MC+=("$mc"); MW+=("$mw"); CC+=("$cc"); CW+=("$cw")
	printf '%-6s %22s %22s %22s\n' "$r" "$oc / $ow" "$mc / $mw" "$cc / $cw"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
oc=$(median "${OC[@]}"); ow=$(median "${OW[@]}"); mc=$(median "${MC[@]}"); mw=$(median "${MW[@]}")
cc=$(median "${CC[@]}"); cw=$(median "${CW[@]}")
printf '%-6s %22s %22s %22s\n' median "$oc / $ow" "$mc / $mw" "$cc / $cw"
awk -v oc="$oc" -v ow="$ow" -v mc="$mc" -v mw="$mw" -v cc="$cc" -v cw="$cw" 'BEGIN {
	printf "ours/original: cold %.2fx, warm %.2fx (target >= 1.5x)\n", mc / oc, mw / ow
	printf "ours/cat:      cold %.2fx, warm %.2fx (target >= 0.8x)\n", mc / cc, mw / cw
}'
