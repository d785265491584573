package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/folbricht/desync/chunk"
)

// ErrNoStore is matched (errors.Is) by the error of [CheckExists] for a
// local store whose directory does not exist.
var ErrNoStore = errors.New("no such directory")

// Exists checks that the store's directory is there. A store that is only
// read from and is not there is a mistyped path or a missing mount; [Local]
// itself treats it as an empty store, which it creates on its first write.
func (s *Local) Exists() error {
	fi, err := os.Stat(s.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("store %s: %w", s.dir, ErrNoStore)
	case err != nil:
		return fmt.Errorf("store %s: %w", s.dir, err)
	case !fi.IsDir():
		return fmt.Errorf("store %s: not a directory", s.dir)
	}
	return nil
}

// CheckExists checks, before any chunk is read, that every local store that
// s reads from exists ([Local.Exists]), through the composition types: each
// member of a [Router] or [Failover], the store behind a [Cache] (but not the
// cache, which is made on its first write), and what a decorator wraps.
// Stores of other types are not checked. Commands that only read call it
// after opening, so that a store that is not there fails at once, naming
// the store, instead of as a missing chunk per chunk.
func CheckExists(s chunk.Store) error {
	switch s := s.(type) {
	case *Local:
		return s.Exists()
	case *Router:
		return checkAll(s.stores)
	case *Failover:
		return checkAll(s.stores)
	case *Cache:
		return CheckExists(s.store)
	case Wrapper:
		return CheckExists(s.Unwrap())
	}
	return nil
}

func checkAll(stores []chunk.Store) error {
	for _, s := range stores {
		if err := CheckExists(s); err != nil {
			return err
		}
	}
	return nil
}
