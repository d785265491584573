package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// MisplacedLister is a store that can find chunk files that are not where
// its layout puts them, such as a chunk 1234… under abcd/ or at the top of
// the store: reads, listings and pruning do not see them.
type MisplacedLister interface {
	// ListMisplaced yields the name of each misplaced chunk file, relative
	// to the store, with slashes ("abcd/1234….cacnk"). It yields an error
	// (and then stops) when listing fails.
	ListMisplaced(ctx context.Context) iter.Seq2[string, error]
	// RemoveMisplaced deletes a file ListMisplaced named. Any other name
	// is an error; a file already gone is not.
	RemoveMisplaced(ctx context.Context, name string) error
}

var _ MisplacedLister = (*Local)(nil)

// ListMisplaced yields the chunk files of the store that are at its top or
// in a <4 hex> directory other than their own. A store directory that does
// not exist has none.
func (s *Local) ListMisplaced(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		entries, err := os.ReadDir(s.dir)
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		if err != nil {
			yield("", fmt.Errorf("store %s: %w", s.dir, err))
			return
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				yield("", err)
				return
			}
			if !e.IsDir() {
				if s.misplaced("", e.Name()) && !yield(e.Name(), nil) {
					return
				}
				continue
			}
			if ok, err := s.isChunkDir(e); !ok {
				if err != nil {
					yield("", err)
					return
				}
				continue
			}
			names, err := readDirNames(filepath.Join(s.dir, e.Name()))
			if err != nil {
				yield("", fmt.Errorf("store %s: %w", s.dir, err))
				return
			}
			for _, name := range names {
				if s.misplaced(e.Name(), name) && !yield(e.Name()+"/"+name, nil) {
					return
				}
			}
		}
	}
}

// misplaced reports whether name, in the store's sub-directory dir ("" for
// the top), is a chunk file name whose place is elsewhere.
func (s *Local) misplaced(dir, name string) bool {
	if len(name) < 4 || dir == name[:4] {
		return false
	}
	_, ok := s.chunkName(name[:4], name)
	return ok
}

// RemoveMisplaced deletes the misplaced chunk file name (as ListMisplaced
// gives it).
func (s *Local) RemoveMisplaced(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	if dir != "" && (len(dir) != 4 || strings.Trim(dir, "0123456789abcdef") != "") || !s.misplaced(dir, base) {
		return fmt.Errorf("store %s: %q is not a misplaced chunk file", s.dir, name)
	}
	if err := os.Remove(filepath.Join(s.dir, filepath.FromSlash(name))); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store %s: removing %s: %w", s.dir, name, err)
	}
	return nil
}
