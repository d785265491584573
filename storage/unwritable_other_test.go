//go:build !unix

package storage

import "testing"

// runUnprivileged is not needed where there is no uid 0 (Geteuid is -1).
func runUnprivileged(t *testing.T, name string) {
	cannotTest(t, "%s: no unprivileged run on this platform", name)
}
