//go:build !linux && !darwin

package cli

import "testing"

// TestMountIndexUnsupported: without FUSE the command says so and exits 2.
func TestMountIndexUnsupported(t *testing.T) {
	isolate(t)
	expect(t, 2, nil, []string{"not supported"}, "mount-index", "-s", t.TempDir(), "x.caibx", t.TempDir())
}
