package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/folbricht/desync/caindex"
)

// IndexStore reads indexes by name (a path relative to the store).
type IndexStore interface {
	GetIndex(ctx context.Context, name string) (*caindex.Index, error)
	io.Closer
	fmt.Stringer
}

// IndexWriteStore also stores indexes.
type IndexWriteStore interface {
	IndexStore
	StoreIndex(ctx context.Context, name string, ix *caindex.Index) error
}

// LocalIndex is an index store in a directory. Names are confined to the
// directory: absolute names and names with ".." are rejected.
type LocalIndex struct{ dir string }

// NewLocalIndex returns the index store at dir.
func NewLocalIndex(dir string) *LocalIndex { return &LocalIndex{dir: dir} }

func (s *LocalIndex) path(name string) (string, error) {
	if !filepath.IsLocal(name) {
		return "", fmt.Errorf("index store %s: invalid index name %q", s.dir, name)
	}
	return filepath.Join(s.dir, name), nil
}

// GetIndex reads and validates an index; a missing one matches fs.ErrNotExist.
func (s *LocalIndex) GetIndex(ctx context.Context, name string) (*caindex.Index, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	ix, err := caindex.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("index store %s: index %q: %w", s.dir, name, err)
	}
	return ix, err
}

// StoreIndex writes an index atomically (a synced temporary file renamed
// over the name), creating directories as needed. On failure an existing
// index of that name is left as it was.
func (s *LocalIndex) StoreIndex(ctx context.Context, name string, ix *caindex.Index) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if _, err := ix.WriteTo(&b); err != nil {
		return fmt.Errorf("index %s: %w", p, err)
	}
	if err := writeFileAtomic(p, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing index %s: %w", p, err)
	}
	return nil
}

func (s *LocalIndex) Close() error   { return nil }
func (s *LocalIndex) String() string { return s.dir }
