#!/usr/bin/env bash
# bench/http-load.sh — a bounded load test of desync's chunk-server on loopback.
#
# Usage: bench/http-load.sh [SIZE] [CLIENTS]     SIZE default 256M, CLIENTS default 8
#   BENCH_DIR   work directory (default /var/tmp/desync-http-load; needs ~2×SIZE free)
#   KIND        input kind for gendata: random (default) or mixed
#   N           concurrent requests per client (extract -n), default 4
#
# What it does:
#   1. builds desync and gendata from this checkout;
#   2. generates a deterministic input of SIZE bytes, makes its index and a local store;
#   3. starts `desync chunk-server -s STORE -l 127.0.0.1:0` and records its CPU time;
#   4. runs CLIENTS `desync extract -s http://127.0.0.1:PORT/ -n N INDEX -` at once, each
#      output piped into cmp against the input (exact outputs, no disk writes);
#   5. prints wall time, requests/s (from the server's /metrics), MB/s (decoded output of
#      all clients, and bytes on the wire), the server's CPU seconds (user+sys, from
#      /proc) and the errors: any failed client, mismatching output, or a request
#      counted with a result other than "ok" fails the run.
# Client and server share the machine, so the figures are a lower bound for a server
# with its own cores. Timing is reported, never asserted: this is not a pass/fail test of
# speed, only of correctness under load.
set -euo pipefail

SIZE_ARG=${1:-256M}
CLIENTS=${2:-8}
DIR=${BENCH_DIR:-/var/tmp/desync-http-load}
KIND=${KIND:-random}
N=${N:-4}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() { echo "http-load: $*" >&2; exit 1; }

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # parse_size
SIZE=$(parse_size "$SIZE_ARG")
[[ $CLIENTS =~ ^[1-9][0-9]*$ ]] || die "invalid client count '$CLIENTS'"
command -v go >/dev/null || die "go not found"
command -v curl >/dev/null || die "curl not found"

mkdir -p "$DIR"
echo "== http load: $CLIENTS clients × $SIZE_ARG ($KIND), -n $N, work dir $DIR"
echo "   $(nproc) CPUs, $(uname -sr), $(go version | cut -d' ' -f3-)"
(cd "$ROOT" && go build -o "$DIR/desync" ./cli/cmd/desync && go build -o "$DIR/gendata" ./cli/internal/gendata/cmd/gendata)
DESYNC=$DIR/desync

INPUT=$DIR/$KIND-$SIZE.bin
if [[ $(stat -c %s "$INPUT" 2>/dev/null || echo -1) != "$SIZE" ]]; then
	echo "   generating $INPUT"
	"$DIR/gendata" -kind "$KIND" -size "$SIZE" -seed 1 -o "$INPUT"
fi
STORE=$DIR/store
INDEX=$DIR/$KIND-$SIZE.caibx
if [[ ! -s $INDEX || $INDEX -ot $INPUT ]]; then
	echo "   making the index and store"
	"$DESYNC" make -s "$STORE" "$INDEX" "$INPUT"
fi
CHUNKS=$("$DESYNC" list-chunks "$INDEX" | wc -l)

SERVER_LOG=$DIR/server.log
"$DESYNC" chunk-server -s "$STORE" -l 127.0.0.1:0 2>"$SERVER_LOG" &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
URL=
for _ in $(seq 100); do
	URL=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$SERVER_LOG" | head -n1)
	[[ -n $URL ]] && break
	sleep 0.1
done
[[ -n $URL ]] || die "the chunk-server did not start: $(cat "$SERVER_LOG")"

TCK=$(getconf CLK_TCK)
cpu() { awk -v t="$TCK" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$SERVER/stat"; }
CPU0=$(cpu)
cat "$INPUT" >/dev/null # warm the page cache: measure the server, not the disk
find "$STORE" -type f -exec cat {} + >/dev/null

echo "== running $CLIENTS clients against $URL ($CHUNKS chunks each)"
START=$(date +%s.%N)
PIDS=()
for i in $(seq "$CLIENTS"); do
	( "$DESYNC" extract -s "$URL" -n "$N" "$INDEX" - 2>"$DIR/client$i.err" | cmp -s - "$INPUT" ) &
	PIDS+=($!)
done
FAILS=0
for i in "${!PIDS[@]}"; do
	if ! wait "${PIDS[$i]}"; then
		FAILS=$((FAILS + 1))
		echo "   client $((i + 1)) FAILED: $(head -c 500 "$DIR/client$((i + 1)).err")"
	fi
done
END=$(date +%s.%N)
CPU1=$(cpu)
METRICS=$(curl -fsS "${URL}metrics")
REQS=$(awk '/^desync_http_requests_total\{/ { s += $2 } END { print s + 0 }' <<<"$METRICS")
BAD=$(awk '/^desync_http_requests_total\{/ && !/result="ok"/ && !/operation="metrics"/ { s += $2 } END { print s + 0 }' <<<"$METRICS")
OUT=$(awk '/^desync_http_response_bytes_total\{operation="get"/ { s += $2 } END { print s + 0 }' <<<"$METRICS")

awk -v s="$START" -v e="$END" -v c0="$CPU0" -v c1="$CPU1" -v n="$CLIENTS" -v size="$SIZE" \
	-v reqs="$REQS" -v bad="$BAD" -v out="$OUT" -v fails="$FAILS" 'BEGIN {
	wall = e - s
	printf "wall            %.2f s\n", wall
	printf "requests        %d (%.0f/s), not ok: %d\n", reqs, reqs / wall, bad
	printf "decoded output  %.1f MB/s (%d × %d bytes, all compared exactly)\n", n * size / wall / 1e6, n, size
	printf "on the wire     %.1f MB/s\n", out / wall / 1e6
	printf "server CPU      %.2f s (user+sys), %.0f%% of one core\n", c1 - c0, (c1 - c0) / wall * 100
	printf "failed clients  %d\n", fails
}'
if ((FAILS > 0 || BAD > 0)); then
	echo "== FAILED"
	exit 1
fi
echo "== OK"
