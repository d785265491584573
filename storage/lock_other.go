//go:build !linux

package storage

import "os"

// Without Linux's flock semantics to rely on, owner locks are not taken,
// and a temporary file is judged by its age: one not modified for
// staleAge is taken as abandoned.

func lockFile(*os.File) error { return nil }

// ifStale runs act if the file p is older than staleAge, and reports
// whether it did.
func ifStale(p string, act func() error) (bool, error) {
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() || !isOld(p) {
		return false, nil
	}
	if err := act(); err != nil && !os.IsNotExist(err) {
		return false, err
	}
	return true, nil
}

func keepLock(*os.File) (release func(), err error) { return func() {}, nil }
