package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Temporary files. Every file this package writes goes first to a
// temporary file next to its final name, and each such file has an owner
// lock: a file the writing process keeps locked (flock) for as long as the
// temporary file is its own. A temporary file whose owner lock can be taken
// belongs to no live process and is stale. The names:
//
//	.<name>.desync-<rand>.tmp          its own owner lock (WriteFileAtomic)
//	.<name>.desync-<owner>-<rand>.tmp  a chunk file of a Local store, owned by
//	.desync-<owner>.lock               in the store's directory
//
// See the package documentation for the rules.

const (
	tempMark   = ".desync-"
	tempSuffix = ".tmp"
	ownerLock  = ".lock"
	ownerDead  = ".dead"
	// staleAge is how old a temporary file must be to be taken as
	// abandoned where its owner lock cannot be tested (no flock: other
	// systems, or a file system without locks), and how old another
	// program's ".*.tmp" file in a store's chunk directory must be for
	// Prune to delete it.
	staleAge = time.Hour
)

func randToken() string { return strconv.FormatUint(rand.Uint64(), 36) }

// tempName returns a new name for a temporary file for base in dir; owner
// is the token of the owner lock, or "" for a file that is its own.
func tempName(dir, base, owner string) string {
	tail := randToken()
	if owner != "" {
		tail = owner + "-" + tail
	}
	return filepath.Join(dir, "."+base+tempMark+tail+tempSuffix)
}

// parseTemp reports whether name is one of this package's temporary file
// names, and returns the final name's base and the owner token ("" for a
// file that is its own owner lock).
func parseTemp(name string) (base, owner string, ok bool) {
	rest, ok := strings.CutSuffix(name, tempSuffix)
	if !ok || !strings.HasPrefix(rest, ".") {
		return "", "", false
	}
	i := strings.LastIndex(rest, tempMark)
	if i < 1 {
		return "", "", false
	}
	base, tail := rest[1:i], rest[i+len(tempMark):]
	owner, r, found := strings.Cut(tail, "-")
	if !found {
		owner, r = "", tail
	}
	if !isToken(r) || (found && !isToken(owner)) {
		return "", "", false
	}
	return base, owner, true
}

// parseOwner reports whether name is an owner lock (".desync-<owner>.lock")
// or one found stale and marked so (".desync-<owner>.dead"), and returns
// the token.
func parseOwner(name string) (owner string, dead, ok bool) {
	rest, ok := strings.CutPrefix(name, tempMark)
	if !ok {
		return "", false, false
	}
	if owner, ok = strings.CutSuffix(rest, ownerLock); !ok {
		if owner, ok = strings.CutSuffix(rest, ownerDead); !ok {
			return "", false, false
		}
		dead = true
	}
	return owner, dead, isToken(owner)
}

func isToken(s string) bool {
	return len(s) > 0 && len(s) <= 13 && strings.Trim(s, "0123456789abcdefghijklmnopqrstuvwxyz") == ""
}

// createLocked creates the new file name (O_EXCL, permissions perm less
// the umask) and takes its owner lock. If a cleaner took the lock first
// (and so removed or renamed the file), ok is false and the caller tries
// another name.
func createLocked(name string, flag int, perm os.FileMode) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(name, flag|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, false, err
	}
	if ok, err = claim(f); !ok {
		f.Close()
		return nil, false, err
	}
	return f, true, nil
}

// claim takes the lock of the file f just created and reports whether f is
// still under its name: between the create and the lock, a cleaner may
// have taken the lock and, holding it, removed or renamed the file.
func claim(f *os.File) (bool, error) {
	if err := lockFile(f); err != nil {
		os.Remove(f.Name())
		return false, err
	}
	fi, err1 := f.Stat()
	cur, err2 := os.Lstat(f.Name())
	return err1 == nil && err2 == nil && os.SameFile(fi, cur), nil
}

// newTemp creates a temporary file for path with create, under a new name
// (tempName with owner) until one is free, and returns the name. With
// mkdir, a missing directory is made on first use: one mkdir, or MkdirAll
// for a store that does not exist yet.
func newTemp(path, owner string, mkdir bool, create func(name string) (retry bool, err error)) (string, error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	for try := 0; ; try++ {
		name := tempName(dir, base, owner)
		retry, err := create(name)
		switch {
		case (retry || errors.Is(err, fs.ErrExist)) && try < 100:
			continue
		case errors.Is(err, fs.ErrNotExist) && mkdir:
			mkdir = false
			if err := os.Mkdir(dir, 0o777); errors.Is(err, fs.ErrNotExist) {
				if err := os.MkdirAll(dir, 0o777); err != nil {
					return "", err
				}
			} else if err != nil && !errors.Is(err, fs.ErrExist) {
				return "", err
			}
			continue
		case err != nil:
			return "", err
		case retry:
			return "", errors.New("no free temporary file name for " + path)
		}
		return name, nil
	}
}

// createTemp creates a new temporary file next to path, its own owner
// lock, with permissions mode less the umask. The lock lasts until the
// file is closed.
func createTemp(path string, mode os.FileMode) (f *os.File, err error) {
	_, err = newTemp(path, "", false, func(name string) (bool, error) {
		var ok bool
		f, ok, err = createLocked(name, os.O_RDWR, mode)
		return !ok && err == nil, err
	})
	return f, err
}

// removeStaleTemps removes the stale temporary files of path (those named
// for its base that are their own owner lock) and returns how many. It is
// best effort: a directory it cannot read holds none it knows of.
func removeStaleTemps(path string) int {
	dir, base := filepath.Dir(path), filepath.Base(path)
	names, err := readDirNames(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, name := range names {
		if b, owner, ok := parseTemp(name); ok && b == base && owner == "" {
			if removed, _ := removeIfStale(filepath.Join(dir, name)); removed {
				n++
			}
		}
	}
	return n
}

// removeIfStale removes the temporary file p, its own owner lock, if its
// lock can be taken.
func removeIfStale(p string) (bool, error) {
	return ifStale(p, func() error { return os.Remove(p) })
}

// isOld reports whether the file at p was last modified more than
// staleAge ago.
func isOld(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && time.Since(fi.ModTime()) > staleAge
}

// WriteFileAtomic has fill write (and read) a new temporary file next to
// path (created with perm less the umask) and renames it over path once
// fill has succeeded. sync (nil: [SystemSync]) makes the file durable
// before the rename and the directory after it; [NoSync] skips both. On
// any error the temporary file is removed and path is left as it was;
// fill's error is returned as it is. The directory must exist. First it
// removes the stale temporary files of path: those left by a writer that
// died, which no live process owns.
func WriteFileAtomic(path string, perm os.FileMode, sync Syncer, fill func(f *os.File) error) (err error) {
	sync = syncerOr(sync)
	removeStaleTemps(path)
	f, err := createTemp(path, perm)
	if err != nil {
		return err
	}
	tmp := f.Name()
	// The lock is kept on a copy of the descriptor until the rename, so
	// that f can be closed first and report what a close reports (as NFS
	// does for a failed write-back).
	release, err := keepLock(f)
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	defer release()
	defer func() {
		if err != nil {
			f.Close() // unless it was closed below; then this only fails
			os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := sync.SyncFile(f); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if err := sync.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("%s renamed into place but not synced: %w", path, err)
	}
	return nil
}
