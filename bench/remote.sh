#!/usr/bin/env bash
# bench/remote.sh — make and extract against real remote stores on loopback, ours side by side
# with other builds (the original desync by default), alternating tool by tool.
#
# Usage: bench/remote.sh [ROUNDS]          ROUNDS per tool and operation (default 2)
#   TOOLS      space-separated NAME=BINARY pairs, run in this order within each round (the
#              order rotates round by round). Default: "ours=<built from this checkout>
#              orig=/tmp/desync-orig" (the original is unpacked from
#              /work/shared/ref/desync-orig.xz, or $REF_XZ, when missing)
#   SIZE       input size (default 256M); the input is gendata's "mixed" kind (random, text
#              and zero regions, as bench/bench.sh makes), generated once into $BENCH_DIR
#   N          -n of every command (default 10, the default of both tools)
#   OPS        operations (default "s3-make s3-extract s3-extract-cache sftp-make
#              sftp-extract sftp-extract-cache")
#   BENCH_DIR  scratch directory (default /var/tmp/desync-remote)
#
# Servers, started by the script on 127.0.0.1 and killed at its end: versitygw (posix
# backend in a temporary directory, access log on, so S3 requests are counted per run) and
# a key-only sshd (the ssh wrapper in CASYNC_SSH_PATH logs in with its key and checks the
# host key). Needs versitygw in PATH (or /root/go/bin) and /usr/sbin/sshd.
#
# Every make writes to a fresh store (a new prefix in the bucket, a new directory over
# sftp), at zstd level 3 (the original's; ours gets --compression-level 3 when it has the
# flag). Every extract reads the store and index of the same tool's latest make; with
# -c the cache is a fresh empty directory. Outputs are compared with cmp against the input.
# Reported per run: wall seconds, MB/s (input MiB / wall), peak RSS (/usr/bin/time %M),
# S3 requests (access log lines), and CPU seconds of the tool (user+sys) and of the server
# (versitygw, or sshd with its sessions: on a small box the two share the cores), then medians per tool and operation and the ratio of
# each tool to the last one in TOOLS.
set -euo pipefail

ROUNDS=${1:-2}
DIR=${BENCH_DIR:-/var/tmp/desync-remote}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-10}
OPS=${OPS:-"s3-make s3-extract s3-extract-cache sftp-make sftp-extract sftp-extract-cache"}
PATH=$PATH:/root/go/bin:$(go env GOPATH 2>/dev/null)/bin

die() { echo "remote: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
SIZE=$(parse_size "${SIZE:-256M}")

command -v versitygw >/dev/null || die "versitygw not found"
[[ -x /usr/sbin/sshd ]] || die "/usr/sbin/sshd not found"
mkdir -p "$DIR"
WORK=$(mktemp -d "$DIR/run.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -z ${TOOLS:-} ]]; then
	(cd "$ROOT" && go build -o "$DIR/desync-ours" ./cli/cmd/desync) || die "build failed"
	if [[ ! -x /tmp/desync-orig ]]; then
		xz -dc "${REF_XZ:-/work/shared/ref/desync-orig.xz}" >/tmp/desync-orig && chmod +x /tmp/desync-orig
	fi
	TOOLS="ours=$DIR/desync-ours orig=/tmp/desync-orig"
fi
read -ra TOOL_LIST <<<"$TOOLS"

# The input.
IN=$DIR/mixed-$SIZE.bin
if [[ ! -s $IN ]]; then
	(cd "$ROOT" && go build -o "$DIR/gendata" ./cli/internal/gendata/cmd/gendata) || die "building gendata failed"
	"$DIR/gendata" -kind mixed -size "$SIZE" -seed 1 -o "$IN"
fi
MIB=$(awk -v s="$SIZE" 'BEGIN { printf "%.1f", s / 1048576 }')

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	die "nothing listens on port $1"
}

# versitygw.
export S3_ACCESS_KEY=benchaccess S3_SECRET_KEY=bench-secret-0123456789 S3_REGION=us-east-1
S3PORT=$(freeport)
mkdir -p "$WORK/s3" "$WORK/s3/bench"
ACCESS_LOG=$WORK/s3-access.log
versitygw --access "$S3_ACCESS_KEY" --secret "$S3_SECRET_KEY" --port "127.0.0.1:$S3PORT" \
	--keep-alive --quiet --access-log "$ACCESS_LOG" posix "$WORK/s3" >"$WORK/versitygw.out" 2>&1 &
PIDS+=($!)
S3PID=$!
wait_port "$S3PORT"
curl -sf -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
	"http://127.0.0.1:$S3PORT/bench" >/dev/null || true # a directory may already serve as the bucket

# sshd, key-only, and the ssh wrapper both tools run.
ETC=$WORK/etc
mkdir -p "$ETC" "$WORK/sftp" /run/sshd
for k in host user; do ssh-keygen -q -t ed25519 -N "" -C "$k" -f "$ETC/$k"; done
cp "$ETC/user.pub" "$ETC/authorized_keys"
SSHPORT=$(freeport)
cat >"$ETC/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSHPORT
HostKey $ETC/host
AuthorizedKeysFile $ETC/authorized_keys
PidFile $ETC/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
MaxStartups 100
MaxSessions 100
Subsystem sftp internal-sftp
EOF
/usr/sbin/sshd -D -e -f "$ETC/sshd_config" 2>"$WORK/sshd.log" &
PIDS+=($!)
SSHPID=$!
wait_port "$SSHPORT"
echo "[127.0.0.1]:$SSHPORT $(cat "$ETC/host.pub")" >"$ETC/known_hosts"
# The original desync passes host:port to ssh as one host name: both tools get a Host alias.
cat >"$ETC/ssh_config" <<EOF
Host benchsftp
	HostName 127.0.0.1
	Port $SSHPORT
Host *
	IdentityFile $ETC/user
	IdentitiesOnly yes
	IdentityAgent none
	UserKnownHostsFile $ETC/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	BatchMode yes
	LogLevel ERROR
EOF
printf '#!/bin/sh\nexec ssh -F %s "$@"\n' "$ETC/ssh_config" >"$ETC/ssh"
chmod +x "$ETC/ssh"
export CASYNC_SSH_PATH=$ETC/ssh
SFTP_BASE="sftp://$(id -un)@benchsftp$WORK/sftp"

# has_level BIN: whether the tool takes --compression-level (ours does; the original's
# level is fixed at 3).
has_level() { "$1" make -h 2>&1 | grep -q -- "compression-level"; }

RESULTS=$WORK/results
: >"$RESULTS"
# cpu PID: CPU seconds of the process and its reaped children (sshd's sessions).
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15 + $16 + $17) / hz }' "/proc/$1/stat"; }
# timed TOOL OP ROUND CMD...: runs CMD under /usr/bin/time, records wall, RSS, requests,
# the tool's CPU seconds and the server's.
timed() {
	local tool=$1 op=$2 round=$3; shift 3
	local before after spid=$S3PID s0 s1
	[[ $op == sftp-* ]] && spid=$SSHPID
	before=$(wc -l <"$ACCESS_LOG" 2>/dev/null || echo 0)
	sync
	s0=$(cpu "$spid")
	if ! /usr/bin/time -f "%e %M %U %S" -o "$WORK/time" "$@" >"$WORK/out" 2>&1; then
		cat "$WORK/out" >&2
		die "$tool $op failed: $*"
	fi
	after=$(wc -l <"$ACCESS_LOG" 2>/dev/null || echo 0)
	s1=$(cpu "$spid")
	read -r wall rss usr sys <"$WORK/time"
	local tcpu scpu
	tcpu=$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')
	scpu=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.1f", b - a }')
	local req=$((after - before))
	[[ $op == s3-* ]] || req=-
	local mbs
	mbs=$(awk -v m="$MIB" -v w="$wall" 'BEGIN { printf "%.1f", (w > 0 ? m / w : 0) }')
	printf "%-6s %-20s round %d: %7.2fs %7s MB/s %6d KiB RSS %8s requests  CPU s: tool %5s server %5s\n" \
		"$tool" "$op" "$round" "$wall" "$mbs" "$rss" "$req" "$tcpu" "$scpu"
	echo "$tool $op $wall $rss $req" >>"$RESULTS"
}

declare -A STORE INDEX
run_op() { # run_op TOOL BIN OP ROUND
	local tool=$1 bin=$2 op=$3 round=$4 lvl=()
	has_level "$bin" && lvl=(--compression-level 3)
	local out=$WORK/out.bin cache=$WORK/cache-$tool
	rm -rf "$cache" "$out"
	case $op in
	s3-make | sftp-make)
		local be=${op%-make} id="$tool-r$round-$RANDOM"
		if [[ $be == s3 ]]; then
			STORE[$tool.$be]="s3+http://127.0.0.1:$S3PORT/bench/$id"
		else
			mkdir -p "$WORK/sftp/$id"
			STORE[$tool.$be]="$SFTP_BASE/$id/"
		fi
		INDEX[$tool.$be]=$WORK/$tool-$be.caibx
		timed "$tool" "$op" "$round" "$bin" make -n "$N" "${lvl[@]}" -s "${STORE[$tool.$be]}" "${INDEX[$tool.$be]}" "$IN"
		;;
	*-extract | *-extract-cache)
		local be=${op%%-*} c=()
		[[ $op == *-cache ]] && c=(-c "$cache") && mkdir -p "$cache"
		[[ -n ${STORE[$tool.$be]:-} ]] || die "$op needs $be-make first"
		timed "$tool" "$op" "$round" "$bin" extract -n "$N" -s "${STORE[$tool.$be]}" "${c[@]}" "${INDEX[$tool.$be]}" "$out"
		cmp -s "$out" "$IN" || die "$tool $op: the output differs from the input"
		;;
	*) die "unknown operation $op" ;;
	esac
	rm -rf "$cache" "$out"
}

echo "input $IN ($MIB MiB), -n $N, $ROUNDS rounds, tools: $TOOLS"
for ((r = 1; r <= ROUNDS; r++)); do
	# Rotate the tool order each round.
	order=()
	for ((i = 0; i < ${#TOOL_LIST[@]}; i++)); do
		order+=("${TOOL_LIST[$(((i + r - 1) % ${#TOOL_LIST[@]}))]}")
	done
	for op in $OPS; do
		for t in "${order[@]}"; do
			run_op "${t%%=*}" "${t#*=}" "$op" "$r"
		done
	done
done

echo
echo "medians (wall s, MB/s, peak RSS KiB, S3 requests; ratio = wall / wall of the last tool)"
last=${TOOL_LIST[-1]%%=*}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for op in $OPS; do
	ref=$(awk -v t="$last" -v o="$op" '$1 == t && $2 == o { print $3 }' "$RESULTS" | median)
	for t in "${TOOL_LIST[@]}"; do
		name=${t%%=*}
		wall=$(awk -v t="$name" -v o="$op" '$1 == t && $2 == o { print $3 }' "$RESULTS" | median)
		rss=$(awk -v t="$name" -v o="$op" '$1 == t && $2 == o { print $4 }' "$RESULTS" | median)
		req=$(awk -v t="$name" -v o="$op" '$1 == t && $2 == o { print $5 }' "$RESULTS" | head -1)
		printf "%-20s %-6s %7.2fs %7s MB/s %7d KiB %8s req  ratio %s\n" "$op" "$name" "$wall" \
			"$(awk -v m="$MIB" -v w="$wall" 'BEGIN { printf "%.1f", m / w }')" "$rss" "$req" \
			"$(awk -v a="$wall" -v b="$ref" 'BEGIN { printf "%.2f", a / b }')"
	done
done
