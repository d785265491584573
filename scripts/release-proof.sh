#!/usr/bin/env bash
# scripts/release-proof.sh — proves that consumers get what the design promises from a
# release, offline from everything but the module proxy:
#
#   scripts/release-proof.sh [VERSION]
#
# Prints the plan of a release at a test version (scripts/release --dry-run; default
# v0.99.0, or the patch after the highest <dir>/v* tag once a release is above it), builds
# the module proxy directory of every module at that version (scripts/release --proxy
# --all --allow-missing-changelog), then, in empty consumer modules with that
# directory first in GOPROXY (third-party modules from the ordinary proxy, or the module
# cache, after it), GOWORK=off and GOFLAGS=-mod=mod:
#   chunker      go get …/chunker@V adds nothing else: `go list -m all` is the consumer
#                and chunker, go.sum holds chunker alone; the package builds
#   storage-s3   go get …/storage-s3@V pulls no cloud.google.com/go (go list -m all, go.sum)
#   storage-gcs  go get …/storage-gcs@V pulls no github.com/minio/minio-go
#   cli          go install …/cli/cmd/desync@V builds; `desync --version` says V; the
#                binary makes a small file into a local store and extracts it back
# Any broken promise fails the script (exit 1) with what broke. The released modules at
# V are removed from the module cache before and after, so no run reuses another's.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
P=github.com/folbricht/desync

V=${1:-}
if [[ -z $V ]]; then
	V=v0.99.0
	highest=$(git tag --list '*/v*' | sed 's|.*/||' | grep -E '^v[0-9]+\.[0-9]+\.[0-9]+$' | sort -V | tail -1 || true)
	if [[ -n $highest ]] && [[ $(printf '%s\n%s\n' "$highest" "$V" | sort -V | tail -1) != "$V" || $highest == "$V" ]]; then
		IFS=. read -r maj min pat <<<"${highest#v}"
		V=v$maj.$min.$((pat + 1))
	fi
fi

modcache=$(go env GOMODCACHE)
forget() { # the test version of every desync module, out of the module cache
	local d
	for d in "$modcache/$P"/*@"$V"; do
		[[ -e $d ]] || continue
		chmod -R u+w "$d" && rm -rf "$d"
	done
	rm -f "$modcache/cache/download/$P"/*/@v/"$V".*
	for d in "$modcache/cache/download/$P"/*/@v/list; do
		[[ -e $d ]] || continue
		sed -i "/^${V//./\\.}\$/d" "$d"
		[[ -s $d ]] || rm -f "$d"
	done
}
tmp=$(mktemp -d)
cleanup() {
	forget
	chmod -R u+w "$tmp" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
forget

FAILS=0
fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}
step() { printf -- '--- %s (%ds)\n' "$1" "$SECONDS"; }

step "scripts/release --dry-run $V"
scripts/release --dry-run "$V"

step "scripts/release --proxy (every module at $V)"
scripts/release --proxy "$tmp/proxy" --all --allow-missing-changelog "$V" 2>"$tmp/release.log" ||
	{ cat "$tmp/release.log"; exit 1; }

export GOWORK=off GOFLAGS=-mod=mod
# The go command indexes each module cache directory once (in GOCACHE) and trusts
# the cache to be immutable; the test version is made again on every run, with
# other contents, so its stale index would hide files (goindex=0 turns it off).
export GODEBUG=${GODEBUG:+$GODEBUG,}goindex=0
export GOPROXY="file://$tmp/proxy,$(go env GOPROXY)"
export GONOSUMDB=$P${GONOSUMDB:+,$GONOSUMDB}

consumer() { # consumer NAME: an empty module example.com/NAME in $tmp/NAME; cd there
	mkdir -p "$tmp/$1"
	cd "$tmp/$1"
	go mod init "example.com/$1" 2>/dev/null
}

get() { # go get, its chatter ("go: added …") kept for a failure
	go get "$1" 2>"$tmp/get.log" || { cat "$tmp/get.log"; fail "go get $1 failed"; return 1; }
}

step "chunker pulls nothing else"
consumer chunker
get "$P/chunker@$V"
got=$(go list -m all)
want=$(printf 'example.com/chunker\n%s/chunker %s' "$P" "$V")
[[ $got == "$want" ]] || fail "go list -m all after go get $P/chunker@$V is not the consumer and chunker alone:" $'\n'"$got"
if other=$(grep -v "^$P/chunker $V" go.sum) && [[ -n $other ]]; then
	fail "go.sum holds more than chunker:"$'\n'"$other"
fi
go build "$P/chunker" || fail "$P/chunker@$V does not build for a consumer"

step "storage-s3 pulls no cloud.google.com/go"
consumer s3
get "$P/storage-s3@$V"
mods=$(go list -m all)
if bad=$(grep '^cloud.google.com/go' <<<"$mods"); then
	fail "storage-s3@$V pulls (go list -m all):"$'\n'"$bad"
fi
if grep -q '^cloud.google.com/go' go.sum; then fail "storage-s3@$V: go.sum has cloud.google.com/go"; fi
grep -q '^github.com/minio/minio-go' <<<"$mods" || fail "storage-s3@$V: no minio-go in go list -m all (is the check looking at the right thing?)"
go build "$P/storage-s3" || fail "$P/storage-s3@$V does not build for a consumer"

step "storage-gcs pulls no minio-go"
consumer gcs
get "$P/storage-gcs@$V"
mods=$(go list -m all)
if bad=$(grep '^github.com/minio/minio-go' <<<"$mods"); then
	fail "storage-gcs@$V pulls (go list -m all):"$'\n'"$bad"
fi
if grep -q '^github.com/minio/minio-go' go.sum; then fail "storage-gcs@$V: go.sum has minio-go"; fi
grep -q '^cloud.google.com/go/storage' <<<"$mods" || fail "storage-gcs@$V: no cloud.google.com/go/storage in go list -m all"

step "go install $P/cli/cmd/desync@$V"
cd "$tmp"
if GOBIN=$tmp/bin go install "$P/cli/cmd/desync@$V"; then
	desync=$tmp/bin/desync
	ver=$("$desync" --version) || fail "desync --version failed"
	[[ ${ver%%$'\n'*} == "desync $V" ]] || fail "desync --version says '${ver%%$'\n'*}', want 'desync $V'"
	grep -q "$P/cli[[:space:]]*$V\$" <<<"$ver" || fail "desync --version does not give the cli module at $V:"$'\n'"$ver"
	head -c 3000000 /dev/urandom >"$tmp/in.bin"
	"$desync" make -s "$tmp/store" "$tmp/in.caibx" "$tmp/in.bin" || fail "desync make failed"
	"$desync" extract -s "$tmp/store" "$tmp/in.caibx" "$tmp/out.bin" || fail "desync extract failed"
	cmp -s "$tmp/in.bin" "$tmp/out.bin" || fail "desync extract did not give back the file desync make stored"
else
	fail "go install $P/cli/cmd/desync@$V failed"
fi

step "done"
if ((FAILS)); then
	echo "release-proof: $FAILS promise(s) broken at $V"
	exit 1
fi
echo "release-proof: OK at $V: chunker alone, storage-s3 without GCS, storage-gcs without minio-go, desync installed, versioned, make+extract"
