package storage

import (
	"errors"
	"os"
	"runtime"
	"syscall"
)

// Syncer makes written data durable. Every sync this package does for
// durability goes through one, so that a test can see that each happens,
// and in what order; a program leaves it nil, which means [SystemSync].
type Syncer interface {
	// SyncFile makes f's data and size durable (fsync; F_FULLFSYNC on macOS).
	SyncFile(f *os.File) error
	// SyncDir makes the entries of directory dir durable, such as a file
	// just renamed into it.
	SyncDir(dir string) error
	// SyncFS makes everything written to the file system holding dir
	// durable (syncfs on Linux; nothing elsewhere, where files are synced
	// one by one instead).
	SyncFS(dir string) error
}

// SystemSync is the operating system's [Syncer].
type SystemSync struct{}

func (SystemSync) SyncFile(f *os.File) error { return f.Sync() }

// SyncDir fsyncs the directory. A file system that cannot sync a
// directory (EINVAL, as some FUSE ones) is no error, nor is Windows, which
// cannot sync one.
func (SystemSync) SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}

func (SystemSync) SyncFS(dir string) error { return syncFS(dir) }

// NoSync is a [Syncer] that does nothing: the data is written, but a crash
// may lose it.
type NoSync struct{}

func (NoSync) SyncFile(*os.File) error { return nil }
func (NoSync) SyncDir(string) error    { return nil }
func (NoSync) SyncFS(string) error     { return nil }

// syncerOr returns s, or SystemSync if s is nil.
func syncerOr(s Syncer) Syncer {
	if s == nil {
		return SystemSync{}
	}
	return s
}
