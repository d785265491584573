//go:build linux

package storage

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// On Linux a temporary file's owner lock is an flock: it belongs to the
// open file description, so it lasts while the writer holds the file open
// and ends when the process dies however it dies; it is seen by every
// process of the machine (whatever their pid namespace) and, on NFS with
// working locks, of every client.

// lockFile takes f's lock, waiting for a cleaner that holds it. A file
// system without locks is no error: its temporary files are then judged
// by age, as on other systems.
func lockFile(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) {
		for {
			if lerr = unix.Flock(int(fd), unix.LOCK_EX); lerr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if noLocks(lerr) {
		return nil
	}
	if lerr != nil {
		return &os.PathError{Op: "flock", Path: f.Name(), Err: lerr}
	}
	return nil
}

// noLocks reports whether err says the file system cannot lock.
func noLocks(err error) bool {
	return errors.Is(err, unix.ENOLCK) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL)
}

// ifStale runs act if the lock of the file p can be taken, holding the
// lock (so that a writer that created p but has not locked it yet finds,
// once it has, that p is no longer its file), and reports whether it did.
// A file that is gone, not a regular file, or locked is left alone. On a
// file system without locks, a file older than staleAge is stale.
func ifStale(p string, act func() error) (bool, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ELOOP) {
			return false, nil
		}
		return false, &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	var held unix.Stat_t
	if err := unix.Fstat(fd, &held); err != nil {
		return false, &os.PathError{Op: "stat", Path: p, Err: err}
	}
	if held.Mode&unix.S_IFMT != unix.S_IFREG {
		return false, nil
	}
	err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	switch {
	case errors.Is(err, unix.EWOULDBLOCK) || errors.Is(err, unix.EINTR):
		return false, nil
	case noLocks(err):
		if !isOld(p) {
			return false, nil
		}
	case err != nil:
		return false, &os.PathError{Op: "flock", Path: p, Err: err}
	}
	// The lock is ours: p's writer is gone. Act only if p is still the
	// file locked (names are random, but a finished writer renames its
	// file away).
	var cur unix.Stat_t
	if err := unix.Lstat(p, &cur); err != nil || cur.Dev != held.Dev || cur.Ino != held.Ino {
		return false, nil
	}
	if err := act(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	return true, nil
}

// keepLock holds f's lock on a copy of its descriptor until release, so
// that f can be closed.
func keepLock(f *os.File) (release func(), err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	dup := -1
	var derr error
	if err := rc.Control(func(fd uintptr) { dup, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, &os.PathError{Op: "dup", Path: f.Name(), Err: derr}
	}
	return func() { unix.Close(dup) }, nil
}
