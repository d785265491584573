# bench/lib.sh — shell helpers the benchmark scripts source. The sourcing script defines
# die MESSAGE (print and exit 1).

# parse_size 64M -> 67108864: bytes, or a binary K/M/G/T suffix (KiB, MB, … accepted).
parse_size() {
	local s=${1^^} mult=1
	s=${s%B}; s=${s%I}
	case $s in
	*K) mult=$((1 << 10)); s=${s%K} ;;
	*M) mult=$((1 << 20)); s=${s%M} ;;
	*G) mult=$((1 << 30)); s=${s%G} ;;
	*T) mult=$((1 << 40)); s=${s%T} ;;
	esac
	[[ $s =~ ^[0-9]+$ ]] || die "invalid size '$1'"
	echo $((10#$s * mult))
}
