package chunker

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size limits and defaults of casync's chunker.
const (
	// WindowSize is the number of bytes the rolling hash covers.
	WindowSize = 48
	// MinSizeLimit and MaxSizeLimit bound every chunk size parameter.
	MinSizeLimit = 1
	MaxSizeLimit = 128 << 20
	// DefaultAvg is the average chunk size casync and desync use when none is given.
	DefaultAvg = 64 << 10
)

// Params are the three chunk size parameters recorded in every index header.
// The zero value is not valid; use [NewParams] or [ParseParams].
type Params struct {
	Min, Avg, Max uint64
}

// DefaultParams returns casync's default sizes: 16 KiB, 64 KiB and 256 KiB.
func DefaultParams() Params {
	return Params{Min: DefaultAvg / 4, Avg: DefaultAvg, Max: DefaultAvg * 4}
}

// NewParams derives the full parameter set from the values given, exactly like
// casync's ca_chunker_set_size: a zero means "not given".
//   - A missing avg is the geometric mean of min and max when both are given,
//     else 4·min, else max/4, else 64 KiB.
//   - A missing min is avg/4 (at least 1); a missing max is 4·avg (at most 128 MiB).
//
// It fails when a given value is out of [1, 128 MiB] or the values are not
// ordered min ≤ avg ≤ max.
func NewParams(minSize, avgSize, maxSize uint64) (Params, error) {
	for _, v := range []struct {
		name string
		v    uint64
	}{{"min", minSize}, {"avg", avgSize}, {"max", maxSize}} {
		if v.v != 0 && (v.v < MinSizeLimit || v.v > MaxSizeLimit) {
			return Params{}, fmt.Errorf("chunk size %s %d out of range [%d, %d]", v.name, v.v, MinSizeLimit, MaxSizeLimit)
		}
	}
	if avgSize == 0 {
		switch {
		case minSize != 0 && maxSize != 0:
			avgSize = uint64(math.RoundToEven(math.Exp2((math.Log2(float64(minSize)) + math.Log2(float64(maxSize))) / 2)))
		case minSize != 0:
			avgSize = 4 * minSize
		case maxSize != 0:
			avgSize = maxSize / 4
		default:
			avgSize = DefaultAvg
		}
		avgSize = clamp(avgSize, MinSizeLimit, MaxSizeLimit)
	}
	if minSize == 0 {
		minSize = max(avgSize/4, 1)
	}
	if maxSize == 0 {
		maxSize = min(avgSize*4, MaxSizeLimit)
	}
	p := Params{Min: minSize, Avg: avgSize, Max: maxSize}
	return p, p.Validate()
}

// Validate reports whether p can be used to chunk: every value within
// [1, 128 MiB], min ≤ avg ≤ max, and max at least the 48-byte window unless the
// chunker runs in fixed-size mode (min = avg = max).
func (p Params) Validate() error {
	if p.Min < MinSizeLimit || p.Max > MaxSizeLimit || p.Min > p.Avg || p.Avg > p.Max {
		return fmt.Errorf("invalid chunk sizes %s: need %d ≤ min ≤ avg ≤ max ≤ %d", p, MinSizeLimit, MaxSizeLimit)
	}
	if !p.Fixed() && p.Max < WindowSize {
		return fmt.Errorf("invalid chunk sizes %s: max must be at least the %d-byte window", p, WindowSize)
	}
	return nil
}

// Fixed reports whether p selects fixed-size chunking (min = avg = max).
func (p Params) Fixed() bool { return p.Min == p.Avg && p.Avg == p.Max }

// Discriminator returns the modulus the rolling hash is tested against:
// avg / (1.33237515 − 1.42888852e-7·avg), truncated, then clamped to [min, max].
// It is not stored in the index; it always follows from the three sizes.
func (p Params) Discriminator() uint64 {
	f := float64(p.Avg) / (-1.42888852e-7*float64(p.Avg) + 1.33237515)
	var d uint64
	switch {
	case f <= -1 || f >= float64(MaxSizeLimit):
		// Only for avg beyond ~9.3 MiB, where casync's size_t conversion
		// yields a huge value that the clamp below turns into max.
		d = math.MaxUint64
	case f > 0:
		d = uint64(f)
	}
	return clamp(d, p.Min, p.Max)
}

// String formats p as min:avg:max in bytes.
func (p Params) String() string {
	return fmt.Sprintf("%d:%d:%d", p.Min, p.Avg, p.Max)
}

// ParseParams reads a chunk size specification in the forms desync and casync
// accept on their command lines:
//
//	16:64:256               min:avg:max in KiB (desync's -m)
//	20000B:30000B:40000B    min:avg:max with units (casync's --chunk-size)
//	64K, 1M, 1.5M, 65536B   a single average; min and max derived from it
//
// A number with a unit suffix (B, K, M, G, T, P, E; powers of 1024) is taken
// as is; a bare number is in KiB when three fields are given (desync) and in
// bytes when only one is (casync). Two fields are an error.
func ParseParams(s string) (Params, error) {
	fields := strings.Split(s, ":")
	switch len(fields) {
	case 1:
		avg, err := parseSize(fields[0], 1)
		if err != nil {
			return Params{}, fmt.Errorf("chunk size %q: %w", s, err)
		}
		p, err := NewParams(0, avg, 0)
		if err != nil {
			return Params{}, fmt.Errorf("chunk size %q: %w", s, err)
		}
		return p, nil
	case 3:
		var v [3]uint64
		for i, f := range fields {
			n, err := parseSize(f, 1024)
			if err != nil {
				return Params{}, fmt.Errorf("chunk size %q: %w", s, err)
			}
			v[i] = n
		}
		p := Params{Min: v[0], Avg: v[1], Max: v[2]}
		if err := p.Validate(); err != nil {
			return Params{}, fmt.Errorf("chunk size %q: %w", s, err)
		}
		return p, nil
	default:
		return Params{}, fmt.Errorf("chunk size %q: want AVG or MIN:AVG:MAX", s)
	}
}

// parseSize reads a size with an optional unit suffix; bare numbers are
// multiplied by bareUnit.
func parseSize(s string, bareUnit uint64) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty size")
	}
	unit := bareUnit
	if i := strings.IndexAny(s, "BKMGTPEbkmgtpe"); i >= 0 {
		if i != len(s)-1 {
			return 0, fmt.Errorf("bad size %q", s)
		}
		unit = 1 << (10 * strings.IndexByte("BKMGTPE", byte(strings.ToUpper(s[i:])[0])))
		s = s[:i]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("bad size %q", s)
	}
	v := f * float64(unit)
	if v < 1 || v > MaxSizeLimit {
		return 0, fmt.Errorf("size %s out of range [%d, %d]", strconv.FormatFloat(v, 'f', -1, 64), MinSizeLimit, MaxSizeLimit)
	}
	return uint64(v), nil
}

func clamp(v, lo, hi uint64) uint64 { return min(max(v, lo), hi) }
