package httpstore

import (
	"bytes"
	"context"
	"errors"
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
// Every chunk read is decoded with a size cap and verified against its ID
// (unless SkipVerify), as [storage.Local] does. A 404 is a missing chunk
// (an error matching chunk.ErrMissing, so routers fall through); other
// unexpected statuses are a [*StatusError] naming the URL and the status,
// transient for 5xx, 408 and 429 and [storage.Permanent] otherwise.
// Connection errors and timeouts are transient. Store does not retry:
// storage.Open wraps it in a storage.Retry.
type Store struct {
	endpoint
	conv    chunk.Converter
	suffix  string
	digest  chunk.Digest
	verify  bool
	maxBody int64
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
	e, err := newEndpoint(loc, o, "store")
	if err != nil {
		return nil, err
	}
	s := &Store{endpoint: e, digest: o.Digest, verify: !o.SkipVerify}
	if s.conv, s.suffix, s.maxBody, err = chunkForm(o.Uncompressed, o.MaxChunkSize, o.CompressionLevel); err != nil {
		return nil, err
	}
	return s, nil
}

// chunkForm returns the converter and file suffix of chunks on the wire,
// compressed or not, and the largest body a chunk of at most maxChunk
// plain bytes (0: chunk.MaxSize) can take. The client and the chunk-server
// agree on it.
func chunkForm(uncompressed bool, maxChunk, level int) (conv chunk.Converter, suffix string, maxBody int64, err error) {
	if maxChunk <= 0 || maxChunk > chunk.MaxSize {
		maxChunk = chunk.MaxSize
	}
	if uncompressed {
		return chunk.Uncompressed{}, "", int64(maxChunk), nil
	}
	z, err := chunk.NewZstd(chunk.ZstdOptions{MaxSize: maxChunk, Level: level})
	if err != nil {
		return nil, "", 0, err
	}
	return z, ".cacnk", maxStoredSize(int64(maxChunk)), nil
}

// maxStoredSize is the largest zstd frame a chunk of n bytes can take:
// zstd's worst case for n bytes of input (ZSTD_compressBound) plus the
// largest frame header and a checksum, so frames of any encoder fit. It
// also bounds gzip chunks (casync --compression=gzip), which grow by 5
// bytes a 64 KiB block and 18 bytes of header and trailer.
func maxStoredSize(n int64) int64 {
	const frameOverhead = 18 + 4 // largest frame header, content checksum
	b := n + n>>8 + frameOverhead
	if n < 128<<10 {
		b += (128<<10 - n) >> 11
	}
	return b
}

// URL returns the URL of chunk id.
func (s *Store) URL(id chunk.ID) string {
	h := id.String()
	return join(s.base, h[:4]+"/"+h+s.suffix)
}

// GetChunk fetches, decodes and (unless SkipVerify) verifies a chunk. The
// chunk's plain form is in a pooled buffer that the caller may give back
// with Release.
func (s *Store) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u := s.URL(id)
	resp, err := s.do(ctx, http.MethodGet, u, nil, func() string { return fmt.Sprintf("store %s: chunk %s", s.name, id) })
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, fmt.Errorf("GET %s: %s: %w", redact(u), resp.Status, &chunk.MissingError{ID: id, Store: s.name})
	default:
		return nil, statusError(http.MethodGet, redact(u), resp)
	}
	stored, err := readBody(resp, s.maxBody)
	if errors.Is(err, errTooLarge) {
		return nil, &chunk.InvalidError{ID: id, Store: s.name, Err: fmt.Errorf("GET %s: %w", redact(u), err)}
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: chunk %s: reading %s: %w", s.name, id, redact(u), err)
	}
	// The body is this chunk's alone: it keeps it as its stored form.
	c, err := chunk.LoadOwned(id, stored, s.conv, s.digest, s.verify)
	if err != nil {
		var inv *chunk.InvalidError
		if errors.As(err, &inv) {
			inv.Store = s.name
		}
		return nil, err
	}
	s.log.Debug("fetched chunk", "url", redact(u), "bytes", len(stored))
	return c, nil
}

var errTooLarge = errors.New("response larger than the chunk size limit")

// readBody reads a response body of at most limit bytes, preallocating
// from Content-Length when the server sends one.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, errTooLarge
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

// HasChunk asks the server with a HEAD request: 200 is true, 404 false.
func (s *Store) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	u := s.URL(id)
	resp, err := s.do(ctx, http.MethodHead, u, nil, func() string { return fmt.Sprintf("store %s: chunk %s", s.name, id) })
	if err != nil {
		return false, err
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, statusError(http.MethodHead, redact(u), resp)
}

// StoreChunk uploads a chunk in the store's form with a PUT request. A
// chunk-server verifies it against its ID; a mismatch comes back as a
// permanent *StatusError (4xx).
func (s *Store) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := c.Stored(s.conv)
	if err != nil {
		return fmt.Errorf("store %s: %w", s.name, err)
	}
	u := s.URL(c.ID())
	resp, err := s.do(ctx, http.MethodPut, u, b, func() string { return fmt.Sprintf("store %s: chunk %s", s.name, c.ID()) })
	if err != nil {
		return err
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated, http.StatusNoContent:
		s.log.Debug("stored chunk", "url", redact(u), "bytes", len(b))
		return nil
	}
	return statusError(http.MethodPut, redact(u), resp)
}

// Uncompressed reports whether the store holds plain chunks.
func (s *Store) Uncompressed() bool { return s.suffix == "" }

var _ chunk.WriteStore = (*Store)(nil)
