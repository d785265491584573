#!/usr/bin/env bash
# bench/oci.sh — OCI registry extract throughput, ours side by side with the original desync,
# in the same run against the same repository.
#
# Usage: bench/oci.sh [ROUNDS]     ROUNDS per tool (default 3), alternating ours/orig
#   SIZE       input size in MiB of random data (default 64)
#   N          -n of every extract (default 10, both tools' default)
#   ORIG       the original binary (default /tmp/desync-orig, unpacked from
#              /work/shared/ref/desync-orig.xz when missing)
#   BENCH_DIR  scratch directory (default /var/tmp/desync-oci)
#
# Starts the distribution registry (`registry` in PATH or $(go env GOPATH)/bin; pinned:
# go install github.com/distribution/distribution/v3/cmd/registry@v3.0.0) on 127.0.0.1 with a
# filesystem root in the scratch directory, builds ours, makes the input into
# oci+http://ADDR/bench/store with ours, then extracts it with each tool in turn (no cache,
# fresh output, compared with cmp). Per run: wall seconds, MiB/s, user+sys CPU seconds of the
# tool (/usr/bin/time), peak RSS; then medians per tool and the ratio ours/orig.
set -euo pipefail

ROUNDS=${1:-3}
SIZE=${SIZE:-64}
N=${N:-10}
ORIG=${ORIG:-/tmp/desync-orig}
DIR=${BENCH_DIR:-/var/tmp/desync-oci}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PATH=$PATH:$(go env GOPATH)/bin

die() { echo "oci: $*" >&2; exit 1; }
command -v registry >/dev/null || die "registry not found"
if [[ ! -x $ORIG ]]; then
	xz -dc /work/shared/ref/desync-orig.xz >"$ORIG" && chmod +x "$ORIG"
fi
mkdir -p "$DIR"
WORK=$(mktemp -d "$DIR/run.XXXXXX")
REG_PID=
cleanup() {
	[[ -n $REG_PID ]] && kill "$REG_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

(cd "$ROOT" && go build -o "$WORK/desync-ours" ./cli/cmd/desync) || die "build failed"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
cat >"$WORK/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/root
  delete:
    enabled: true
http:
  addr: $ADDR
YML
registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 100); do curl -sf "http://$ADDR/v2/" >/dev/null && break; sleep 0.1; done
curl -sf "http://$ADDR/v2/" >/dev/null || die "registry did not start: $(cat "$WORK/registry.log")"

export HOME=$WORK/home DOCKER_CONFIG=$WORK/docker DESYNC_OCI_USERNAME= DESYNC_OCI_PASSWORD=
mkdir -p "$HOME" "$DOCKER_CONFIG"
STORE=oci+http://$ADDR/bench/store
head -c $((SIZE << 20)) /dev/urandom >"$WORK/in"
"$WORK/desync-ours" make -n "$N" -s "$STORE" "$WORK/in.caibx" "$WORK/in"
echo "made $SIZE MiB into $STORE: $("$WORK/desync-ours" list-chunks "$WORK/in.caibx" | sort -u | wc -l) chunks"

declare -A WALL CPU
for r in $(seq "$ROUNDS"); do
	for tool in ours orig; do
		bin=$WORK/desync-ours
		[[ $tool == orig ]] && bin=$ORIG
		rm -f "$WORK/out"
		/usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$bin" extract -n "$N" -s "$STORE" "$WORK/in.caibx" "$WORK/out"
		cmp "$WORK/in" "$WORK/out" || die "$tool extracted something else"
		read -r wall user sys rss <"$WORK/time"
		cpu=$(echo "$user + $sys" | bc)
		WALL[$tool]+="$wall "
		CPU[$tool]+="$cpu "
		printf '%-4s round %d: wall %6.2f s  %7.1f MiB/s  cpu %6.2f s  rss %6d KiB\n' "$tool" "$r" "$wall" "$(echo "$SIZE / $wall" | bc -l)" "$cpu" "$rss"
	done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for tool in ours orig; do
	w=$(echo "${WALL[$tool]}" | median) c=$(echo "${CPU[$tool]}" | median)
	printf '%-4s median: wall %6.2f s  %7.1f MiB/s  cpu %6.2f s\n' "$tool" "$w" "$(echo "$SIZE / $w" | bc -l)" "$c"
	eval "M_$tool=$w C_$tool=$c"
done
printf 'ratio ours/orig: wall %.2f  cpu %.2f\n' "$(echo "$M_ours / $M_orig" | bc -l)" "$(echo "$C_ours / $C_orig" | bc -l)"
