//go:build !linux

package catartest

import "testing"

// Build skips the test: the tree needs Linux (mknod, chattr, xattrs).
func Build(t testing.TB, dir string) {
	t.Helper()
	t.Skip("testtree: Linux only")
}
