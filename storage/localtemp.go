package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ownerToken returns the token of the store's owner lock, taking the lock
// (and creating the store's directory) on first use.
func (s *Local) ownerToken() (string, error) {
	s.ownerMu.Lock()
	defer s.ownerMu.Unlock()
	if s.owner != nil {
		return s.ownerID, nil
	}
	mkdir := true
	for try := 0; try < 100; try++ {
		id := randToken()
		f, ok, err := createLocked(s.ownerPath(id, false), os.O_RDONLY, 0o444)
		switch {
		case errors.Is(err, fs.ErrNotExist) && mkdir:
			mkdir = false
			if err := os.MkdirAll(s.dir, 0o777); err != nil {
				return "", err
			}
			continue
		case errors.Is(err, fs.ErrExist) || (err == nil && !ok):
			continue
		case err != nil:
			return "", err
		}
		s.owner, s.ownerID = f, id
		return id, nil
	}
	return "", fmt.Errorf("no free owner lock name in %s", s.dir)
}

// releaseOwner removes the owner lock, if the store took one, and lets go
// of it; the store's temporary files are all renamed or removed by then.
func (s *Local) releaseOwner() {
	s.ownerMu.Lock()
	defer s.ownerMu.Unlock()
	if s.owner != nil {
		os.Remove(s.ownerPath(s.ownerID, false))
		s.owner.Close()
		s.owner, s.ownerID = nil, ""
	}
}

func (s *Local) ownerPath(id string, dead bool) string {
	if dead {
		return filepath.Join(s.dir, tempMark+id+ownerDead)
	}
	return filepath.Join(s.dir, tempMark+id+ownerLock)
}

// RemoveStaleTemps removes the temporary files that writers of the store
// left when they died, and returns how many it removed. A file of a live
// writer (of this process or another) is never removed (see the package
// documentation for how that is known). Without all, it reads only the
// store's directory, and goes through the chunk directories only if a
// writer died: it costs next to nothing after clean runs. With all it
// goes through them anyway, and also removes other programs' ".*.tmp"
// files there that are older than an hour.
func (s *Local) RemoveStaleTemps(ctx context.Context, all bool) (int, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store %s: %w", s.dir, err)
	}
	sc := staleScan{s: s, owners: map[string]bool{}}
	s.ownerMu.Lock()
	if s.owner != nil {
		sc.owners[s.ownerID] = false
	}
	s.ownerMu.Unlock()
	scan := all
	for _, e := range entries {
		if id, _, ok := parseOwner(e.Name()); ok {
			dead, err := sc.dead(id)
			if err != nil {
				return 0, err
			}
			scan = scan || dead
		}
	}
	if !scan {
		return 0, nil
	}
	n := 0
	for _, e := range entries {
		if ok, _ := s.isChunkDir(e); !ok {
			continue
		}
		sub := filepath.Join(s.dir, e.Name())
		names, err := readDirNames(sub)
		if err != nil {
			return n, fmt.Errorf("store %s: %w", s.dir, err)
		}
		for _, name := range names {
			if err := ctx.Err(); err != nil {
				return n, err
			}
			p := filepath.Join(sub, name)
			removed := false
			if _, owner, ok := parseTemp(name); ok {
				if owner != "" {
					if dead, err := sc.dead(owner); err != nil || !dead {
						if err != nil {
							return n, err
						}
						continue
					}
				}
				// The file of a dead owner is no longer locked by
				// anyone; removeIfStale still checks, so that where
				// locks do not work it is judged by its age.
				if removed, err = removeIfStale(p); err != nil {
					return n, fmt.Errorf("store %s: removing %s: %w", s.dir, p, err)
				}
			} else if all && strings.HasPrefix(name, ".") && strings.HasSuffix(name, tempSuffix) && isOld(p) {
				if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return n, fmt.Errorf("store %s: removing %s: %w", s.dir, p, err)
				}
				removed = true
			}
			if removed {
				n++
				s.o.Logger.Debug("removed a stale temporary file", "store", s.dir, "file", p)
			}
		}
	}
	// Only now that their files are gone do the dead owners' marks go.
	for id, dead := range sc.owners {
		if dead {
			if err := os.Remove(s.ownerPath(id, true)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return n, fmt.Errorf("store %s: %w", s.dir, err)
			}
		}
	}
	return n, nil
}

// staleScan remembers, for one RemoveStaleTemps, which owners are dead.
type staleScan struct {
	s      *Local
	owners map[string]bool // owner token → dead
}

// dead reports whether the owner id no longer runs: its lock could be
// taken (then, holding it, the lock file is renamed to its dead mark, so
// that a writer that has just created it knows it is not its own), it is
// marked dead already, or its lock file is gone (its writer closed the
// store, or another cleaner found it dead).
func (sc *staleScan) dead(id string) (bool, error) {
	if dead, ok := sc.owners[id]; ok {
		return dead, nil
	}
	lock, mark := sc.s.ownerPath(id, false), sc.s.ownerPath(id, true)
	dead, err := ifStale(lock, func() error { return os.Rename(lock, mark) })
	if err != nil {
		return false, fmt.Errorf("store %s: %w", sc.s.dir, err)
	}
	if !dead {
		_, err := os.Lstat(lock)
		dead = errors.Is(err, fs.ErrNotExist)
	}
	sc.owners[id] = dead
	return dead, nil
}
