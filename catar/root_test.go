package catar

import (
	"os"
	"testing"
)

// needRoot skips a test that needs root, or fails it under CI=true, where
// the tests run as root.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: this test needs root")
		}
		t.Skip("needs root")
	}
}
