package httpstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// Store is a chunk store on an HTTP(S) server, laid out as casync and
// desync lay stores out: <base>/<first 4 hex digits>/<id>.cacnk, or
// <base>/<4 hex>/<id> for an uncompressed store. It reads any static web
// server holding a casync store, and reads and writes a desync (or our)
// chunk-server.
//
// It is a [storage.ObjectStore] over the HTTP [Driver]: every chunk read
// is decoded with a size cap and verified against its ID (unless
// SkipVerify), as [storage.Local] does. A 404 is a missing chunk (an error
// matching chunk.ErrMissing, so routers fall through); other unexpected
// statuses are a [*StatusError] naming the URL and the status, transient
// for 5xx, 408 and 429 and [storage.Permanent] otherwise. Connection
// errors and timeouts are transient. Store does not retry: storage.Open
// wraps it in a storage.Retry. It neither lists nor removes chunks.
type Store struct {
	d *Driver
	s *storage.ObjectStore
}

// endpoint is what the chunk and index store clients share: the base URL,
// the HTTP client, and the headers every request carries.
type endpoint struct {
	base   *url.URL
	name   string // base, redacted
	client *http.Client
	auth   string
	cookie string
	log    *slog.Logger
}

// newEndpoint checks loc and makes the client for o; kind ("store", "index
// store") names it in errors.
func newEndpoint(loc *url.URL, o storage.Options, kind string) (endpoint, error) {
	base, err := baseURL(loc)
	if err != nil {
		return endpoint{}, err
	}
	client, err := newClient(o)
	if err != nil {
		return endpoint{}, fmt.Errorf("%s %s: %w", kind, base.Redacted(), err)
	}
	e := endpoint{base: base, name: base.Redacted(), client: client, auth: o.HTTPAuth, cookie: o.HTTPCookie, log: o.Logger}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e, nil
}

// do sends a request to u with the endpoint's headers, and body (if not
// nil) as application/octet-stream. A failure to get a response is a
// requestError naming what() (a message built only then, not per request).
func (e *endpoint) do(ctx context.Context, method, u string, body []byte, what func() string) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "desync")
	if e.auth != "" {
		req.Header.Set("Authorization", e.auth)
	}
	if e.cookie != "" {
		req.Header.Set("Cookie", e.cookie)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, requestError(what(), err)
	}
	return resp, nil
}

// Close releases the idle connections.
func (e *endpoint) Close() error {
	e.client.CloseIdleConnections()
	return nil
}

// String returns the base URL (without a password).
func (e *endpoint) String() string { return e.name }

// NewStore returns the chunk store at loc (an http or https URL) with the
// options that apply to HTTP: N (idle connections kept per host), Timeout,
// ClientCert/ClientKey, CACert, TrustInsecure, HTTPAuth (the Authorization
// header), HTTPCookie (the Cookie header), Uncompressed, SkipVerify,
// Digest, MaxChunkSize, CompressionLevel and Logger. Retries are not
// done here (see [storage.Open]).
func NewStore(loc *url.URL, o storage.Options) (*Store, error) {
	d, err := NewDriver(loc, o)
	if err != nil {
		return nil, err
	}
	s, err := storage.NewObjectStore(d, o)
	if err != nil {
		return nil, err
	}
	return &Store{d: d, s: s}, nil
}

// URL returns the URL of chunk id.
func (s *Store) URL(id chunk.ID) string { return s.d.URL(s.s.Name(id)) }

// GetChunk fetches, decodes and (unless SkipVerify) verifies a chunk. The
// response body becomes the chunk's stored form.
func (s *Store) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	return s.s.GetChunk(ctx, id)
}

// HasChunk asks the server with a HEAD request: 200 is true, 404 false.
func (s *Store) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	return s.s.HasChunk(ctx, id)
}

// StoreChunk uploads a chunk in the store's form with a PUT request. A
// chunk-server verifies it against its ID; a mismatch comes back as a
// permanent *StatusError (4xx).
func (s *Store) StoreChunk(ctx context.Context, c *chunk.Chunk) error { return s.s.StoreChunk(ctx, c) }

// Uncompressed reports whether the store holds plain chunks.
func (s *Store) Uncompressed() bool { return s.s.Uncompressed() }

// Close releases the idle connections.
func (s *Store) Close() error { return s.s.Close() }

// String returns the base URL (without a password).
func (s *Store) String() string { return s.s.String() }

var _ chunk.WriteStore = (*Store)(nil)
