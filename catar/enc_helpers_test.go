package catar

import (
	"fmt"
	"testing"
)

func mustFeatures(t testing.TB, o FeatureOptions) Features {
	t.Helper()
	f, err := o.Features()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// firstDiff describes where two archives first differ.
func firstDiff(got, want []byte) string {
	n := min(len(got), len(want))
	for i := 0; i < n; i++ {
		if got[i] != want[i] {
			return fmt.Sprintf("first difference at offset %d (got %d bytes, want %d)", i, len(got), len(want))
		}
	}
	return fmt.Sprintf("one is a prefix of the other (got %d bytes, want %d)", len(got), len(want))
}
