//go:build !unix

package storagetest

import "testing"

// DroppingEndpoint is the unix one's stand-in: there is no portable way
// to make the kernel drop connections, so the test that needs it skips.
func DroppingEndpoint(t testing.TB) string {
	t.Skip("no dropping endpoint on this system")
	return ""
}
