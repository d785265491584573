#!/usr/bin/env bash
# scripts/interop-encryption.sh — encrypted stores and chunk servers, this desync against
# the original desync binary, both ways. Not part of the tests (they must not need the
# original); run by hand where the original is at hand:
#
#   scripts/interop-encryption.sh [path/to/desync-orig]
#
# Default: /tmp/desync-orig, else ../shared/ref/desync-orig.xz unpacked. Exits 0 having
# printed "SKIP" when neither exists. Checks, for xchacha20-poly1305 and aes-256-gcm,
# compressed and not: a store ours writes extracts with the original and one the original
# writes extracts with ours; the original's chunk-server --encryption serves ours and
# accepts our uploads, and the reverse.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ORIG=${1:-/tmp/desync-orig}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
if [[ ! -x $ORIG ]]; then
	if [[ -f ../shared/ref/desync-orig.xz ]]; then
		xz -dc ../shared/ref/desync-orig.xz >"$WORK/desync-orig"
		chmod +x "$WORK/desync-orig"
		ORIG=$WORK/desync-orig
	else
		echo "SKIP: no original desync"
		exit 0
	fi
fi
OURS=$WORK/desync
(cd cli && go build -o "$OURS" ./cmd/desync)

K=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
cd "$WORK"
(head -c 1000000 /dev/urandom; seq 1 200000) >in.bin
WANT=$(sha256sum <in.bin)
fail() { echo "FAIL: $*"; exit 1; }
same() { [[ $(sha256sum <"$1") == "$WANT" ]] || fail "$2"; echo "ok: $2"; }

opts() { # alg uncompressed
	echo "{\"encryption\": true, \"encryption-key\": \"$K\", \"encryption-algorithm\": \"$1\", \"uncompressed\": $2}"
}
P1=18731 P2=18732
{
	echo '{"store-options": {'
	for alg in xchacha20-poly1305 aes-256-gcm; do
		for u in false true; do
			echo "\"$WORK/ours-$alg-$u\": $(opts $alg $u),"
			echo "\"$WORK/orig-$alg-$u\": $(opts $alg $u),"
		done
	done
	echo "\"http://127.0.0.1:$P1/\": $(opts aes-256-gcm false),"
	echo "\"http://127.0.0.1:$P2/\": $(opts aes-256-gcm false)"
	echo '}}'
} >cfg.json

for alg in xchacha20-poly1305 aes-256-gcm; do
	for u in false true; do
		s=$alg-$u
		mkdir -p ours-$s orig-$s
		"$OURS" --config cfg.json make -s "$WORK/ours-$s" o-$s.caibx in.bin
		"$ORIG" --config cfg.json extract -s "$WORK/ours-$s" o-$s.caibx x-o-$s
		same x-o-$s "store $s written by ours, read by the original"
		"$ORIG" --config cfg.json make -s "$WORK/orig-$s" g-$s.caibx in.bin
		"$OURS" --config cfg.json extract -s "$WORK/orig-$s" g-$s.caibx x-g-$s
		same x-g-$s "store $s written by the original, read by ours"
	done
done

mkdir -p srv-ours srv-orig
"$OURS" chunk-server --encryption-key $K --encryption-algorithm aes-256-gcm -w -s srv-ours -l 127.0.0.1:$P1 2>ours.log &
"$ORIG" chunk-server --encryption-key $K --encryption-algorithm aes-256-gcm -w -s srv-orig -l 127.0.0.1:$P2 2>orig.log &
sleep 2
"$ORIG" --config cfg.json make -s http://127.0.0.1:$P1/ w1.caibx in.bin
"$OURS" --config cfg.json extract -s http://127.0.0.1:$P1/ w1.caibx x-w1
same x-w1 "the original uploads to our encrypting chunk-server, ours reads back"
"$ORIG" --config cfg.json extract -s http://127.0.0.1:$P1/ w1.caibx x-w1o
same x-w1o "the original reads from our encrypting chunk-server"
"$OURS" --config cfg.json make -s http://127.0.0.1:$P2/ w2.caibx in.bin
"$ORIG" --config cfg.json extract -s http://127.0.0.1:$P2/ w2.caibx x-w2
same x-w2 "ours uploads to the original's encrypting chunk-server, the original reads back"
"$OURS" --config cfg.json extract -s http://127.0.0.1:$P2/ w2.caibx x-w2o
same x-w2o "ours reads from the original's encrypting chunk-server"
echo "interop-encryption: all passed"
