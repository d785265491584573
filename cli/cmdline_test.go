package cli

import (
	"strings"
	"testing"
)

func TestPermute(t *testing.T) {
	c := (&app{}).makeCmd()
	got := strings.Join(permute(c.FlagSet, []string{"idx", "-s", "st", "file", "--print-stats", "-m=1:2:3", "-", "--", "-x"}), " ")
	if want := "-s st --print-stats -m=1:2:3 -- idx file - -x"; got != want {
		t.Errorf("permute = %q, want %q", got, want)
	}
	// A flag missing its value stays last, not taking "--" as its value.
	got = strings.Join(permute(c.FlagSet, []string{"idx", "file", "-s"}), " ")
	if want := "-s"; got != want {
		t.Errorf("permute = %q, want %q", got, want)
	}
}
