#!/usr/bin/env bash
# scripts/check-modules.sh — proves the module isolation rules of DESIGN §1.
#
# Reads modules.txt (release order) and checks, for every module listed there:
#   layout  <dir>/go.mod exists, declares github.com/folbricht/desync/<dir>; go.work uses
#           exactly the modules of modules.txt; no unlisted top-level module exists
#           but tools (NOT_RELEASED: the release tool's module)
#   (a)     chunker requires nothing outside github.com/folbricht/desync/...
#   (b)     GOWORK=off go build ./... and GOWORK=off go vet ./... pass in the module
#   (c)     GOWORK=off go mod tidy -diff is clean (no unused or missing requirement)
#   (d)     every sibling it requires is listed in modules.txt before it (imports point down)
#   (e)     storage-s3 does not pull cloud.google.com/go, storage-gcs does not pull
#           minio-go, nothing but fuse and cli pulls hanwen/go-fuse (go.mod and go.sum)
#   (f)     every sibling requirement is v0.0.0 with a replace to ../<dir>
#   (g)     its direct sibling requirements are allowed by the DESIGN §1 table (an import
#           may go to any module reachable down the table; backends never import each
#           other); modules the table does not know are not checked
#   (h)     the core modules (chunk, caindex, catar, storage, assemble) directly require
#           no third-party module beyond the table's
#   (i)     backend SDKs stay in their backend (BACKEND_SDK): no module but the backend
#           that owns an SDK (and cli, which ships every backend) imports any package of
#           it, tests included (go list -deps -test), so catar, chunk, chunker and the
#           other core modules import none; a backend module (storage-*) requires no
#           other backend module
#   (j)     every module of modules.txt is known to the DESIGN §1 table below
#   (k)     server-only third-party modules (SERVER_ONLY: the Prometheus client) are
#           pulled by no module but their owner (httpserver) and cli: not in go.mod,
#           not in go.sum, not among the packages imported, tests included; so
#           storage-http, the HTTP client, does not pull prometheus
# The coming modules (storage-s3, storage-gcs, storage-sftp, storage-oci, catar, fuse)
# are in the tables already; while one is absent (not in modules.txt, no go.mod) it is
# skipped and named in the summary, and its rules apply from the day it is listed.
# Prints each failure and exits 1; prints a one-line summary and exits 0 otherwise.
# Needs go (and the module proxy or a warm module cache for third-party modules).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PREFIX=github.com/folbricht/desync/
export GOWORK=off # every check below is per module, as a consumer sees it

# DESIGN §1 table: direct sibling imports, and third-party modules (path prefixes).
declare -A TABLE_SIB=(
	[chunker]="" [chunk]="" [caindex]="chunk" [catar]="chunk"
	[storage]="chunk caindex"
	[storage-http]="storage" [storage-s3]="storage" [storage-gcs]="storage" [storage-sftp]="storage"
	[storage-oci]="storage"
	[httpserver]="storage storage-http"
	[assemble]="chunk chunker caindex storage"
	[fuse]="assemble catar storage"
	[cli]="*"
)
# storage uses golang.org/x/sys/unix for syncfs (batched chunk durability on Linux);
# httpserver uses prometheus/client_golang for the servers' /metrics; storage-http, the
# HTTP client, requires nothing but its siblings (httpserver requires storage-http for
# its tests, which run the client against the servers).
declare -A TABLE_3RD=(
	[chunker]="" [chunk]="github.com/klauspost/compress golang.org/x/crypto golang.org/x/sys" [caindex]="" [catar]="github.com/dchest/siphash"
	[storage]="golang.org/x/sys" [storage-http]="" [httpserver]="github.com/prometheus/client_golang"
	[assemble]=""
)

# Third-party modules (path prefixes) only the named modules (and cli) may pull, in
# go.mod, go.sum or the packages they import (tests included): the Prometheus client is
# the servers' alone, so the HTTP client module (storage-http) never pulls it.
declare -A SERVER_ONLY=(
	[github.com/prometheus]="httpserver"
)

# The SDK (package path prefixes) each backend module may import, and only it (and cli).
declare -A BACKEND_SDK=(
	[storage-s3]="github.com/minio/minio-go"
	[storage-gcs]="cloud.google.com/go/storage"
	[storage-sftp]="github.com/pkg/sftp golang.org/x/crypto/ssh"
	[storage-oci]="oras.land/oras-go github.com/google/go-containerregistry"
)
# Modules of the table that are still to come; absent ones are skipped.
COMING=(storage-s3 storage-gcs storage-sftp storage-oci catar fuse)

FAILS=()
fail() {
	FAILS+=("$1")
	echo "FAIL: $1"
	if [[ -n ${2:-} ]]; then
		printf '%s\n' "$2" | sed -n '1,40s/^/      /p'
	fi
}

# --- modules.txt -----------------------------------------------------------------------------
[[ -f modules.txt ]] || { echo "FAIL: modules.txt not found"; exit 1; }
MODULES=()
declare -A POS=()
while IFS= read -r line; do
	line=${line%%#*}
	line=${line//[[:space:]]/}
	[[ -n $line ]] || continue
	if [[ -n ${POS[$line]+x} ]]; then
		fail "modules.txt lists $line twice"
		continue
	fi
	POS[$line]=${#MODULES[@]}
	MODULES+=("$line")
done <modules.txt
((${#MODULES[@]})) || { echo "FAIL: modules.txt lists no module"; exit 1; }

# Transitive closure of TABLE_SIB: every module reachable down the table.
reach() { # reach MOD -> space-separated closure (excluding MOD)
	local -A seen=()
	local todo=(${TABLE_SIB[$1]}) m
	while ((${#todo[@]})); do
		m=${todo[0]}
		todo=("${todo[@]:1}")
		[[ -z ${seen[$m]+x} ]] || continue
		seen[$m]=1
		todo+=(${TABLE_SIB[$m]:-})
	done
	echo "${!seen[@]}"
}

# modinfo DIR: the go.mod as lines "module P", "require P V direct|indirect",
# "replace OLDPATH OLDVER NEWPATH NEWVER" (- for no version), from go mod edit -json.
modinfo() {
	(cd "$1" && go mod edit -json) | awk '
	function val(s) { sub(/^[^:]*: "/, "", s); sub(/",?$/, "", s); return s }
	{ match($0, /^\t*/); d = RLENGTH; line = substr($0, d + 1) }
	d == 1 && line ~ /^"[A-Za-z]+":/ { sec = line; sub(/^"/, "", sec); sub(/".*/, "", sec); next }
	sec == "Module" && d == 2 && line ~ /^"Path":/ { print "module", val(line); next }
	d == 2 && line ~ /^\{/ { p = v = ind = op = ov = np = nv = part = ""; next }
	sec == "Require" && d == 3 {
		if (line ~ /^"Path":/) p = val(line)
		else if (line ~ /^"Version":/) v = val(line)
		else if (line ~ /^"Indirect": true/) ind = 1
		next
	}
	sec == "Replace" && d == 3 && line ~ /^"(Old|New)":/ { part = substr(line, 2, 3); next }
	sec == "Replace" && d == 4 {
		if (line ~ /^"Path":/) { if (part == "Old") op = val(line); else np = val(line) }
		else if (line ~ /^"Version":/) { if (part == "Old") ov = val(line); else nv = val(line) }
		next
	}
	sec == "Require" && d == 2 && line ~ /^\}/ { print "require", p, v, (ind ? "indirect" : "direct"); next }
	sec == "Replace" && d == 2 && line ~ /^\}/ {
		print "replace", op, (ov == "" ? "-" : ov), np, (nv == "" ? "-" : nv); next
	}'
}

# --- layout: go.work and unlisted modules ----------------------------------------------------
if [[ -f go.work ]]; then
	declare -A USED=()
	while read -r p; do
		p=${p#./}
		USED[$p]=1
		[[ -n ${POS[$p]+x} ]] || fail "go.work uses $p, which modules.txt does not list"
	done < <(GOWORK= go work edit -json go.work | sed -n 's/^[[:space:]]*"DiskPath": "\(.*\)",\{0,1\}$/\1/p')
	for m in "${MODULES[@]}"; do
		[[ -n ${USED[$m]+x} ]] || fail "go.work does not use ./$m (listed in modules.txt)"
	done
else
	fail "go.work not found"
fi
# tools/ is the release tool's module (tools/release, run by scripts/release): never
# released, outside go.work on purpose, so it is the one top-level module not listed.
NOT_RELEASED=(tools)
for gm in */go.mod; do
	[[ -e $gm ]] || continue
	d=${gm%/go.mod}
	[[ " ${NOT_RELEASED[*]} " != *" $d "* ]] || continue
	[[ -n ${POS[$d]+x} ]] || fail "$d/go.mod exists but modules.txt does not list $d"
done

# --- per module ------------------------------------------------------------------------------
CHECKED=()
for mod in "${MODULES[@]}"; do
	if [[ ! -f $mod/go.mod ]]; then
		fail "$mod: listed in modules.txt but $mod/go.mod does not exist"
		continue
	fi
	info=$(modinfo "$mod") || { fail "$mod: go mod edit -json failed"; continue; }
	path=$(awk '$1 == "module" { print $2 }' <<<"$info")
	[[ $path == "$PREFIX$mod" ]] || fail "$mod: go.mod declares module '$path', want $PREFIX$mod"

	declare -A REPL=()
	while read -r _ old oldv new newv; do
		REPL[$old]="$oldv $new $newv"
	done < <(awk '$1 == "replace"' <<<"$info")

	allowed_sib=""
	if [[ ${TABLE_SIB[$mod]-} == "*" ]]; then
		allowed_sib=" * "
	elif [[ -n ${TABLE_SIB[$mod]+x} ]]; then
		allowed_sib=" $(reach "$mod") "
	fi
	allowed_3rd=""
	if [[ -n ${TABLE_3RD[$mod]+x} ]]; then
		allowed_3rd=${TABLE_3RD[$mod]}
		for s in $(reach "$mod"); do allowed_3rd+=" ${TABLE_3RD[$s]:-}"; done
		read -r -a words <<<"$allowed_3rd"
		allowed_3rd=${words[*]}
	fi

	while read -r _ req ver kind; do
		if [[ $req != "$PREFIX"* ]]; then
			# (a) chunker has no third-party requirement at all.
			[[ $mod != chunker ]] || fail "(a) chunker requires third-party module $req $ver"
			# (h) core modules: only the table's third-party modules, directly.
			if [[ $mod != chunker && -n ${TABLE_3RD[$mod]+x} && $kind == direct ]]; then
				ok=0
				for a in $allowed_3rd; do [[ $req == "$a" || $req == "$a"/* ]] && ok=1; done
				((ok)) || fail "(h) $mod requires $req directly; DESIGN §1 allows it only: ${allowed_3rd:-nothing}"
			fi
			continue
		fi
		sib=${req#"$PREFIX"}
		# (i) backends never require each other.
		if [[ $mod == storage-* && $sib == storage-* ]]; then
			fail "(i) backend $mod requires backend $sib (backends never import each other)"
		fi
		# (d) siblings are listed, and earlier.
		if [[ -z ${POS[$sib]+x} ]]; then
			fail "(d) $mod requires $req, which is not a module in modules.txt"
		elif ((POS[$sib] >= POS[$mod])); then
			fail "(d) $mod requires $sib, which comes after it in modules.txt (imports must point down)"
		fi
		# (f) v0.0.0 with a replace to ../<dir>.
		[[ $ver == v0.0.0 ]] || fail "(f) $mod requires $req at $ver, want v0.0.0"
		if [[ -z ${REPL[$req]+x} ]]; then
			fail "(f) $mod requires $req but has no replace directive for it"
		else
			read -r oldv new newv <<<"${REPL[$req]}"
			[[ $new == "../$sib" && $newv == - && ($oldv == - || $oldv == v0.0.0) ]] ||
				fail "(f) $mod replaces $req (version $oldv) with '$new' (version $newv), want ../$sib"
		fi
		# (g) the DESIGN table allows the direct import.
		if [[ $kind == direct && -n $allowed_sib && $allowed_sib != " * " && $allowed_sib != *" $sib "* ]]; then
			fail "(g) $mod imports $sib; DESIGN §1 lets $mod import only:${allowed_sib% }"
		fi
	done < <(awk '$1 == "require"' <<<"$info")
	unset REPL

	# (e) what the module pulls, per go.mod and go.sum.
	pulls() { # pulls MODULEPATH: does this module's go.mod or go.sum mention it?
		grep -qF "$1" "$mod/go.mod" || { [[ -f $mod/go.sum ]] && grep -q "^$1[/ ]" "$mod/go.sum"; }
	}
	if [[ $mod == storage-s3 ]] && pulls cloud.google.com/go; then
		fail "(e) storage-s3 pulls cloud.google.com/go (go.mod/go.sum)"
	fi
	if [[ $mod == storage-gcs ]] && pulls github.com/minio/minio-go; then
		fail "(e) storage-gcs pulls github.com/minio/minio-go (go.mod/go.sum)"
	fi
	if [[ $mod != fuse && $mod != cli ]] && pulls github.com/hanwen/go-fuse; then
		fail "(e) $mod pulls github.com/hanwen/go-fuse (only fuse and cli may)"
	fi

	# (i) no other module's backend SDK among the packages it imports (tests included).
	deps=""
	if [[ $mod != cli ]]; then
		if ! deps=$(cd "$mod" && go list -deps -test -f '{{.ImportPath}}' ./... 2>&1); then
			fail "(i) $mod: go list -deps -test ./... failed" "$deps"
			deps=""
		else
			for b in "${!BACKEND_SDK[@]}"; do
				[[ $b != "$mod" ]] || continue
				for sdk in ${BACKEND_SDK[$b]}; do
					if bad=$(awk -v p="$sdk" '$0 == p || index($0, p "/") == 1' <<<"$deps") && [[ -n $bad ]]; then
						fail "(i) $mod imports $sdk, the SDK of $b (only $b and cli may)" "$bad"
					fi
				done
			done
		fi
	fi

	# (k) server-only modules stay in the servers' module.
	if [[ $mod != cli ]]; then
		for p in "${!SERVER_ONLY[@]}"; do
			[[ " ${SERVER_ONLY[$p]} " != *" $mod "* ]] || continue
			if pulls "$p"; then
				fail "(k) $mod pulls $p (go.mod/go.sum); only ${SERVER_ONLY[$p]} and cli may"
			fi
			if bad=$(awk -v p="$p" '$0 == p || index($0, p "/") == 1' <<<"$deps") && [[ -n $bad ]]; then
				fail "(k) $mod imports $p (only ${SERVER_ONLY[$p]} and cli may)" "$bad"
			fi
		done
	fi

	# (b) builds and vets on its own; (c) is tidy.
	if ! out=$(cd "$mod" && go build ./... 2>&1); then
		fail "(b) $mod: GOWORK=off go build ./... failed" "$out"
	fi
	if ! out=$(cd "$mod" && go vet ./... 2>&1); then
		fail "(b) $mod: GOWORK=off go vet ./... failed" "$out"
	fi
	if ! out=$(cd "$mod" && go mod tidy -diff 2>&1); then
		fail "(c) $mod: go mod tidy -diff is not clean" "$out"
	fi
	CHECKED+=("$mod")
done

# (j) every listed module is in the table; the coming ones are named when absent.
for m in "${MODULES[@]}"; do
	[[ -n ${TABLE_SIB[$m]+x} ]] ||
		fail "(j) $m is in modules.txt but not in the DESIGN §1 table of scripts/check-modules.sh (TABLE_SIB)"
done
ABSENT=()
for m in "${COMING[@]}"; do
	[[ -n ${POS[$m]+x} ]] || ABSENT+=("$m")
done

if ((${#FAILS[@]})); then
	echo "check-modules: ${#FAILS[@]} failure(s)"
	exit 1
fi
echo "check-modules: OK: ${#CHECKED[@]} modules (${CHECKED[*]}): isolation, order, replaces, backend SDKs, GOWORK=off build+vet, tidy${ABSENT[*]:+; not yet present, skipped: ${ABSENT[*]}}"
