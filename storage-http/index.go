package httpstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/storage"
)

// IndexStore is an index store on an HTTP(S) server: an index named
// "x.caibx" is at <base>/x.caibx. GetIndex is a GET, StoreIndex a PUT (to
// an index-server started with -w, or any server that accepts PUT).
type IndexStore struct {
	endpoint
	max int64 // the largest index GetIndex reads: DefaultMaxIndexSize
}

// NewIndexStore returns the index store at loc with the HTTP options of o
// (N, Timeout, TLS settings, HTTPAuth, HTTPCookie).
func NewIndexStore(loc *url.URL, o storage.Options) (*IndexStore, error) {
	e, err := newEndpoint(loc, o, "index store")
	if err != nil {
		return nil, err
	}
	return &IndexStore{endpoint: e, max: DefaultMaxIndexSize}, nil
}

// indexURL checks an index name (a relative path without "." or ".."
// elements) and returns its URL, each element escaped.
func (s *IndexStore) indexURL(name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "/") || path.Clean(name) != name || !fs.ValidPath(name) {
		return "", fmt.Errorf("index store %s: invalid index name %q", s.name, name)
	}
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return join(s.base, strings.Join(parts, "/")), nil
}

// GetIndex downloads and validates an index. A 404 is an error matching
// fs.ErrNotExist, as from a local index store.
func (s *IndexStore) GetIndex(ctx context.Context, name string) (ix *caindex.Index, err error) {
	err = s.get(ctx, name, func(body io.Reader) (err error) {
		ix, err = caindex.Read(body)
		return err
	})
	return ix, err
}

// CopyIndex downloads an index to w as it is, up to the size cap. A 404 is
// an error matching fs.ErrNotExist.
func (s *IndexStore) CopyIndex(ctx context.Context, name string, w io.Writer) error {
	return s.get(ctx, name, func(body io.Reader) error {
		_, err := io.Copy(w, body)
		return err
	})
}

// get GETs the index name and has read take its body, capped at the
// store's maximum index size.
func (s *IndexStore) get(ctx context.Context, name string, read func(io.Reader) error) error {
	u, err := s.indexURL(name)
	if err != nil {
		return err
	}
	resp, err := s.do(ctx, http.MethodGet, u, nil, func() string { return fmt.Sprintf("index store %s: index %q", s.name, name) })
	if err != nil {
		return err
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return fmt.Errorf("GET %s: %s: index %q: %w", redact(u), resp.Status, name, fs.ErrNotExist)
	default:
		return statusError(http.MethodGet, redact(u), resp)
	}
	// A server cannot make the reader hold an endless index.
	if resp.ContentLength > s.max {
		return fmt.Errorf("index %s: larger than %d bytes", redact(u), s.max)
	}
	err = read(http.MaxBytesReader(nil, resp.Body, s.max))
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		return fmt.Errorf("index %s: larger than %d bytes", redact(u), tooLarge.Limit)
	}
	if err != nil {
		return fmt.Errorf("index %s: %w", redact(u), err)
	}
	return nil
}

// StoreIndex uploads an index with a PUT request. An index that is not
// valid is not uploaded.
func (s *IndexStore) StoreIndex(ctx context.Context, name string, ix *caindex.Index) error {
	return s.WriteIndex(ctx, name, func(w io.Writer) error {
		if _, err := ix.WriteTo(w); err != nil {
			return fmt.Errorf("index store %s: index %q: %w", s, name, err)
		}
		return nil
	})
}

// WriteIndex uploads what write writes with one PUT request, once write has
// succeeded (the body is collected first: a request body cannot be taken
// back if write fails halfway). If write fails, its error is returned and
// nothing is sent.
func (s *IndexStore) WriteIndex(ctx context.Context, name string, write func(io.Writer) error) error {
	u, err := s.indexURL(name)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	resp, err := s.do(ctx, http.MethodPut, u, b.Bytes(), func() string { return fmt.Sprintf("index store %s: index %q", s.name, name) })
	if err != nil {
		return err
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated, http.StatusNoContent:
		s.log.Debug("stored index", "url", redact(u), "bytes", b.Len())
		return nil
	}
	return statusError(http.MethodPut, redact(u), resp)
}

var (
	_ storage.IndexStreamStore = (*IndexStore)(nil)
	_ storage.IndexCopyStore   = (*IndexStore)(nil)
)
