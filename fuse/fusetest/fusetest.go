//go:build linux

// Package fusetest holds what the FUSE tests of the fuse module and of the
// CLI share: whether real mounts are possible here, and whether a
// directory is mounted.
package fusetest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Require skips a test where FUSE mounts are impossible (no /dev/fuse or
// no fusermount3), but fails it under CI=true, which installs fuse3.
func Require(t testing.TB) {
	t.Helper()
	_, errDev := os.Stat("/dev/fuse")
	_, errBin := exec.LookPath("fusermount3")
	if errDev == nil && errBin == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("FUSE is required in CI (apt-get install fuse3): /dev/fuse: %v, fusermount3: %v", errDev, errBin)
	}
	t.Skipf("no FUSE here: /dev/fuse: %v, fusermount3: %v", errDev, errBin)
}

// Mounted reports whether dir is a mount point in /proc/self/mountinfo.
func Mounted(t testing.TB, dir string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}
