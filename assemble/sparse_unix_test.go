//go:build unix

package assemble

import (
	"os"
	"syscall"
	"testing"
)

func allocatedBytes(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Blocks * 512
}
