package chunker

import (
	"strings"
	"testing"
)

func TestDiscriminator(t *testing.T) {
	// Values from the casync format description.
	for _, tc := range []struct {
		p    Params
		want uint64
	}{
		{Params{16384, 65536, 262144}, 49535},
		{Params{4096, 16384, 65536}, 12318},
		{Params{2048, 8192, 32768}, 6153},
		{Params{1024, 4096, 16384}, 3075},
		{Params{7500, 30000, 120000}, 22588},
		{Params{25000, 100000, 400000}, 75867},
		{Params{256 << 10, 1 << 20, 4 << 20}, 886711},
		{Params{16384, 16384, 65536}, 16384}, // 12318 clamped up to min
		{Params{1, 1, 48}, 1},
		{Params{MaxSizeLimit, MaxSizeLimit, MaxSizeLimit}, MaxSizeLimit},
		{Params{1, 64 << 20, MaxSizeLimit}, MaxSizeLimit}, // negative quotient → max
	} {
		if got := tc.p.Discriminator(); got != tc.want {
			t.Errorf("Discriminator(%s) = %d, want %d", tc.p, got, tc.want)
		}
	}
}

func TestNewParams(t *testing.T) {
	for _, tc := range []struct {
		min, avg, max uint64
		want          Params
		err           string
	}{
		{0, 0, 0, Params{16384, 65536, 262144}, ""},
		{0, 65536, 0, Params{16384, 65536, 262144}, ""},
		{0, 4, 0, Params{1, 4, 16}, "window"},
		{0, 1 << 20, 0, Params{256 << 10, 1 << 20, 4 << 20}, ""},
		{0, 64 << 20, 0, Params{16 << 20, 64 << 20, MaxSizeLimit}, ""},
		{1000, 0, 0, Params{1000, 4000, 16000}, ""},
		{0, 0, 400000, Params{25000, 100000, 400000}, ""},
		{16384, 0, 262144, Params{16384, 65536, 262144}, ""},
		{20000, 0, 40000, Params{20000, 28284, 40000}, ""},
		{0, MaxSizeLimit + 1, 0, Params{}, "out of range"},
		{70000, 65536, 0, Params{}, "min ≤ avg"},
		{0, 65536, 1000, Params{}, "avg ≤ max"},
	} {
		got, err := NewParams(tc.min, tc.avg, tc.max)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("NewParams(%d,%d,%d) error %v, want one containing %q", tc.min, tc.avg, tc.max, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NewParams(%d,%d,%d) = %s, %v; want %s", tc.min, tc.avg, tc.max, got, err, tc.want)
		}
	}
}

func TestParseParams(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Params
		err  string
	}{
		{"16:64:256", Params{16384, 65536, 262144}, ""},
		{"2:8:32", Params{2048, 8192, 32768}, ""},
		{"20000B:30000B:40000B", Params{20000, 30000, 40000}, ""},
		{"16K:64K:256K", Params{16384, 65536, 262144}, ""},
		{"1M", Params{256 << 10, 1 << 20, 4 << 20}, ""},
		{"1.5M", Params{393216, 1572864, 6291456}, ""},
		{"65536", Params{16384, 65536, 262144}, ""},
		{"64k", Params{16384, 65536, 262144}, ""},
		{"8K:8K:8K", Params{8192, 8192, 8192}, ""},
		{"0.5:1:2", Params{512, 1024, 2048}, ""},
		{"16:64", Params{}, "MIN:AVG:MAX"},
		{"64:16:256", Params{}, "min ≤ avg"},
		{"1:2:200000", Params{}, "out of range"},
		{"8B:16B:32B", Params{}, "window"},
		{"abc", Params{}, "bad size"},
		{"1X", Params{}, "bad size"},
		{"-4", Params{}, "bad size"},
		{"", Params{}, "empty"},
		{"K", Params{}, "bad size"},
	} {
		got, err := ParseParams(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseParams(%q) error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseParams(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}
