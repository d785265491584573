//go:build !linux

package assemble

import (
	"errors"
	"os"
)

// reflinkSupported: cloning is implemented on Linux only; elsewhere seed
// data is copied.
const reflinkSupported = false

func cloneRange(dst, src *os.File, srcOff, dstOff, length int64) error {
	return errors.ErrUnsupported
}

func fileBlockSize(*os.File) uint64 { return 4096 }

func punchHole(*os.File, int64, int64) bool { return false }

// changeTime is 0 here: the size and modification time stand for it.
func changeTime(os.FileInfo) int64 { return 0 }

// startWriteback does nothing here; the final sync writes everything.
func startWriteback(*os.File) {}
