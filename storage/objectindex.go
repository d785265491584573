package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/folbricht/desync/caindex"
)

// ObjectStreamer is an optional capability of an [ObjectDriver]: reading
// an object as a stream, so that an [ObjectIndexStore] can parse or copy a
// large index without holding it.
type ObjectStreamer interface {
	// Open returns a reader of the object's content. An object of more
	// than limit bytes fails (at Open or while reading) with an error
	// matching [ErrTooLarge].
	Open(ctx context.Context, name string, limit int64) (io.ReadCloser, error)
}

// DefaultMaxIndexSize is the largest index an [ObjectIndexStore] reads:
// 1 GiB holds the index of a store of some 20 million chunks.
const DefaultMaxIndexSize = 1 << 30

// ObjectIndexStore is an index store over an [ObjectDriver]: index "x.caibx"
// is the object "x.caibx". Names are relative paths without "." or ".."
// elements. It writes an index whole, once its writer has succeeded (an
// object store cannot take a partial upload back), and copies one unparsed.
type ObjectIndexStore struct {
	d   ObjectDriver
	max int64
}

// NewObjectIndexStore returns the index store on d; indexes larger than
// maxSize bytes (0: DefaultMaxIndexSize) are refused.
func NewObjectIndexStore(d ObjectDriver, maxSize int64) *ObjectIndexStore {
	if maxSize <= 0 {
		maxSize = DefaultMaxIndexSize
	}
	return &ObjectIndexStore{d: d, max: maxSize}
}

// CheckIndexName refuses index names that could escape a store: empty,
// absolute, with "." or ".." elements, or not in clean form.
func CheckIndexName(store, name string) error {
	if name == "" || strings.HasPrefix(name, "/") || path.Clean(name) != name || !fs.ValidPath(name) {
		return fmt.Errorf("index store %s: invalid index name %q", store, name)
	}
	return nil
}

func (s *ObjectIndexStore) err(name string, err error) error {
	if s.d.Classify(err) == KindMissing {
		return fmt.Errorf("index store %s: index %q: %w (%w)", s.d, name, fs.ErrNotExist, err)
	}
	return classified(s.d.Classify(err), fmt.Errorf("index store %s: index %q: %w", s.d, name, err))
}

// read has use take the index's content: streamed if the driver can,
// else read whole.
func (s *ObjectIndexStore) read(ctx context.Context, name string, use func(io.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckIndexName(s.d.String(), name); err != nil {
		return err
	}
	var r io.Reader
	if st, ok := s.d.(ObjectStreamer); ok {
		rc, err := st.Open(ctx, name, s.max)
		if err != nil {
			return s.readErr(name, err)
		}
		defer rc.Close()
		r = rc
	} else {
		b, err := s.d.Get(ctx, name, s.max)
		if err != nil {
			return s.readErr(name, err)
		}
		r = bytes.NewReader(b)
	}
	if err := use(r); err != nil {
		return s.readErr(name, err)
	}
	return nil
}

func (s *ObjectIndexStore) readErr(name string, err error) error {
	if errors.Is(err, ErrTooLarge) {
		return fmt.Errorf("index store %s: index %q: larger than %d bytes", s.d, name, s.max)
	}
	return s.err(name, err)
}

// GetIndex reads and validates an index; a missing one matches
// fs.ErrNotExist.
func (s *ObjectIndexStore) GetIndex(ctx context.Context, name string) (ix *caindex.Index, err error) {
	err = s.read(ctx, name, func(r io.Reader) (err error) {
		ix, err = caindex.Read(r)
		return err
	})
	return ix, err
}

// CopyIndex writes the index's bytes to w, unparsed.
func (s *ObjectIndexStore) CopyIndex(ctx context.Context, name string, w io.Writer) error {
	return s.read(ctx, name, func(r io.Reader) error {
		_, err := io.Copy(w, r)
		return err
	})
}

// StoreIndex stores a valid index.
func (s *ObjectIndexStore) StoreIndex(ctx context.Context, name string, ix *caindex.Index) error {
	return s.WriteIndex(ctx, name, func(w io.Writer) error {
		_, err := ix.WriteTo(w)
		return err
	})
}

// WriteIndex collects what write writes and puts it once write has
// succeeded; if write fails, nothing is stored.
func (s *ObjectIndexStore) WriteIndex(ctx context.Context, name string, write func(io.Writer) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckIndexName(s.d.String(), name); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	if err := s.d.Put(ctx, name, b.Bytes()); err != nil {
		return s.err(name, err)
	}
	return nil
}

func (s *ObjectIndexStore) Close() error   { return s.d.Close() }
func (s *ObjectIndexStore) String() string { return s.d.String() }

var (
	_ IndexStreamStore = (*ObjectIndexStore)(nil)
	_ IndexCopyStore   = (*ObjectIndexStore)(nil)
)
