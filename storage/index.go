package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
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

// IndexStreamStore stores an index while it is being written (as
// assemble.Make writes it with MakeOptions.IndexTo), so that the caller
// need not hold the index. A local store writes it straight to its file; a
// remote one may collect the bytes before it sends them.
type IndexStreamStore interface {
	IndexWriteStore
	// WriteIndex stores under name what write writes to w, which must be a
	// whole index. If write fails, its error is returned, nothing is
	// stored and an index of that name is left as it was.
	WriteIndex(ctx context.Context, name string, write func(w io.Writer) error) error
}

// IndexCopyStore can copy an index's bytes as they are stored, so that a
// caller can keep them in a file and read them a chunk at a time
// (caindex.Reader) instead of holding the parsed index.
type IndexCopyStore interface {
	IndexStore
	// CopyIndex writes the index's bytes to w, unparsed; a missing index
	// is an error matching fs.ErrNotExist.
	CopyIndex(ctx context.Context, name string, w io.Writer) error
}

// LocalIndex is an index store in a directory. Names are confined to the
// directory: absolute names and names with ".." are rejected.
type LocalIndex struct {
	dir  string
	sync Syncer // nil: SystemSync; tests observe the syncs through it
}

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

// StoreIndex writes an index atomically (as WriteIndex). An index that is
// not valid is not written.
func (s *LocalIndex) StoreIndex(ctx context.Context, name string, ix *caindex.Index) error {
	return s.WriteIndex(ctx, name, func(w io.Writer) error {
		if _, err := ix.WriteTo(w); err != nil {
			return fmt.Errorf("index %s: %w", filepath.Join(s.dir, name), err)
		}
		return nil
	})
}

// WriteIndex writes an index atomically ([WriteFileAtomic]): into a
// temporary file next to it, synced and renamed over the name only when
// write has succeeded (and the directory synced after), creating
// directories as needed. On failure the temporary file is removed and an
// existing index of that name is left as it was. Temporary files of the
// name left by writers that died are removed first.
func (s *LocalIndex) WriteIndex(ctx context.Context, name string, write func(io.Writer) error) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
		return fmt.Errorf("writing index %s: %w", p, err)
	}
	var writeErr error
	err = WriteFileAtomic(p, 0o644, s.sync, func(f *os.File) error {
		writeErr = write(f)
		return writeErr
	})
	if err != nil && err != writeErr {
		return fmt.Errorf("writing index %s: %w", p, err)
	}
	return err
}

// CopyIndex copies the index file's bytes to w, unparsed; a missing index
// matches fs.ErrNotExist.
func (s *LocalIndex) CopyIndex(ctx context.Context, name string, w io.Writer) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("index store %s: index %q: %w", s.dir, name, err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("index store %s: index %q: %w", s.dir, name, err)
	}
	return nil
}

func (s *LocalIndex) Close() error { return nil }

var (
	_ IndexStreamStore = (*LocalIndex)(nil)
	_ IndexCopyStore   = (*LocalIndex)(nil)
)

func (s *LocalIndex) String() string { return s.dir }
