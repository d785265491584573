package storage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/folbricht/desync/caindex"
)

// WriteIndex stores under name in s what write writes (a whole index):
// as it is written if s is an [IndexStreamStore], otherwise (a store that
// takes only whole indexes) collected and parsed first, then stored with
// StoreIndex. If write fails, its error is returned and nothing is
// stored. A store that takes no indexes is an error naming it.
func WriteIndex(ctx context.Context, s IndexStore, name string, write func(w io.Writer) error) error {
	switch w := s.(type) {
	case IndexStreamStore:
		return w.WriteIndex(ctx, name, write)
	case IndexWriteStore:
		var b bytes.Buffer
		if err := write(&b); err != nil {
			return err
		}
		ix, err := caindex.Read(&b)
		if err != nil {
			return fmt.Errorf("index store %s: index %q: %w", s, name, err)
		}
		return w.StoreIndex(ctx, name, ix)
	}
	return fmt.Errorf("index store %s does not accept indexes", s)
}

// CopyIndex writes the bytes of index name in s to w: unparsed if s is an
// [IndexCopyStore], otherwise read, parsed and written again (which
// writes the same bytes for an index in the canonical form). A missing
// index is an error matching fs.ErrNotExist.
func CopyIndex(ctx context.Context, s IndexStore, name string, w io.Writer) error {
	if c, ok := s.(IndexCopyStore); ok {
		return c.CopyIndex(ctx, name, w)
	}
	ix, err := s.GetIndex(ctx, name)
	if err != nil {
		return err
	}
	_, err = ix.WriteTo(w)
	return err
}

// IndexRetry repeats the calls of an index store that fail with a
// transient error, as [Retry] does for chunk stores. It has the write and
// copy capabilities of the store it wraps: an index being written is
// collected once and sent again on a retry, and a copy is repeated only
// while nothing has been written to the caller's writer.
type IndexRetry struct {
	s      IndexStore
	o      RetryOptions
	streak streak
}

// NewIndexRetry wraps s. Use [WrapIndexRetry] to keep s's capabilities
// visible by type assertion.
func NewIndexRetry(s IndexStore, o RetryOptions) *IndexRetry {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &IndexRetry{s: s, o: o}
}

// WrapIndexRetry wraps s in an [IndexRetry] that is an [IndexStreamStore]
// if s can store indexes and an [IndexCopyStore] if s can copy them.
func WrapIndexRetry(s IndexStore, o RetryOptions) IndexStore {
	r := NewIndexRetry(s, o)
	_, canWrite := s.(IndexWriteStore)
	_, canCopy := s.(IndexCopyStore)
	switch {
	case canWrite && canCopy:
		return struct {
			*IndexRetry
			indexWriter
			indexCopier
		}{r, indexWriter{r}, indexCopier{r}}
	case canWrite:
		return struct {
			*IndexRetry
			indexWriter
		}{r, indexWriter{r}}
	case canCopy:
		return struct {
			*IndexRetry
			indexCopier
		}{r, indexCopier{r}}
	}
	return r
}

// GetIndex reads an index, retrying transient failures.
func (r *IndexRetry) GetIndex(ctx context.Context, name string) (ix *caindex.Index, err error) {
	err = retry(ctx, r.o, &r.streak, r.s.String(), "get index", name, func() (err error) {
		ix, err = r.s.GetIndex(ctx, name)
		return err
	})
	return ix, err
}

// Unwrap returns the wrapped index store.
func (r *IndexRetry) Unwrap() IndexStore { return r.s }

func (r *IndexRetry) Close() error   { return r.s.Close() }
func (r *IndexRetry) String() string { return r.s.String() }

type indexWriter struct{ r *IndexRetry }

// StoreIndex stores an index, retrying transient failures.
func (w indexWriter) StoreIndex(ctx context.Context, name string, ix *caindex.Index) error {
	return w.WriteIndex(ctx, name, func(out io.Writer) error {
		_, err := ix.WriteTo(out)
		return err
	})
}

// WriteIndex collects what write writes, then stores it, retrying
// transient failures.
func (w indexWriter) WriteIndex(ctx context.Context, name string, write func(io.Writer) error) error {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	return retry(ctx, w.r.o, &w.r.streak, w.r.s.String(), "store index", name, func() error {
		return WriteIndex(ctx, w.r.s, name, func(out io.Writer) error {
			_, err := out.Write(b.Bytes())
			return err
		})
	})
}

type indexCopier struct{ r *IndexRetry }

// CopyIndex copies an index, retrying transient failures that happen
// before any byte has reached w.
func (c indexCopier) CopyIndex(ctx context.Context, name string, w io.Writer) error {
	cw := &countWriter{w: w}
	return retry(ctx, c.r.o, &c.r.streak, c.r.s.String(), "copy index", name, func() error {
		err := CopyIndex(ctx, c.r.s, name, cw)
		if err != nil && cw.n > 0 {
			return Permanent(err) // the caller has part of it: no retry
		}
		return err
	})
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

var _ IndexStreamStore = struct {
	*IndexRetry
	indexWriter
	indexCopier
}{}
