//go:build linux

package storage

import (
	"errors"
	"os"
	"sync/atomic"

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

// renameNoReplace renames a chunk's temporary file to its name, unless a
// file has that name already: then the temporary file is removed, and the
// chunk on disk stays as it is. unsupported is set once the file system
// refuses RENAME_NOREPLACE, so that later chunks of the same store do not
// try it again; they look, then rename.
func renameNoReplace(tmp, path string, unsupported *atomic.Bool) error {
	if !unsupported.Load() {
		err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, path, unix.RENAME_NOREPLACE)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EEXIST):
			return os.Remove(tmp)
		case !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS):
			return &os.LinkError{Op: "rename", Old: tmp, New: path, Err: err}
		}
		unsupported.Store(true)
	}
	if _, err := os.Lstat(path); err == nil {
		return os.Remove(tmp)
	}
	return os.Rename(tmp, path)
}
