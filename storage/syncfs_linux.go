//go:build linux

package storage

import (
	"os"

	"golang.org/x/sys/unix"
)

// batchedSync is true where one syncfs can make a whole batch of chunk files
// durable, so they need not be synced one by one.
const batchedSync = true

// syncFS flushes the filesystem holding dir to stable storage.
func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: dir, Err: err}
	}
	return nil
}
