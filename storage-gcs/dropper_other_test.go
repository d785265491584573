//go:build !unix

package gcsstore_test

import "testing"

// dropper is the unix one's stand-in: there is no portable way to make
// the kernel drop connections, so the test that needs it skips.
func dropper(t *testing.T) string {
	t.Skip("no dropping endpoint on this system")
	return ""
}
