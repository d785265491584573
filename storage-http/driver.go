package httpstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/folbricht/desync/storage"
)

// Driver is the HTTP(S) [storage.ObjectDriver]: an object named n is the
// resource <base>/n, read with GET, probed with HEAD, written with PUT and
// removed with DELETE. It cannot list (HTTP has no listing), so a store
// over it does not prune or verify. Its errors: a 404 is missing; other
// unexpected statuses are a [*StatusError], transient for 5xx, 408 and
// 429 and permanent otherwise; a request that got no response is
// permanent for TLS failures and a host that does not resolve, transient
// otherwise (refused or reset connections, timeouts).
type Driver struct {
	endpoint
}

// NewDriver returns the driver for the store at loc (an http or https
// URL) with the HTTP options of o (N, Timeout, TLS settings, HTTPAuth,
// HTTPCookie, Logger).
func NewDriver(loc *url.URL, o storage.Options) (*Driver, error) {
	return newDriver(loc, o, "store")
}

// newDriver is NewDriver; kind ("store", "index store") names it in the
// errors of its setup.
func newDriver(loc *url.URL, o storage.Options, kind string) (*Driver, error) {
	e, err := newEndpoint(loc, o, kind)
	if err != nil {
		return nil, err
	}
	return &Driver{endpoint: e}, nil
}

// URL returns the URL of the object name, each of its elements escaped.
func (d *Driver) URL(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return join(d.base, strings.Join(parts, "/"))
}

// request sends one request for the object name; a failure to get a
// response is classified by requestError.
func (d *Driver) request(ctx context.Context, method, name string, body []byte) (*http.Response, string, error) {
	u := d.URL(name)
	resp, err := d.do(ctx, method, u, body, func() string { return "" })
	return resp, u, err
}

// Get fetches an object of at most limit bytes.
func (d *Driver) Get(ctx context.Context, name string, limit int64) ([]byte, error) {
	resp, u, err := d.request(ctx, http.MethodGet, name, nil)
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(http.MethodGet, redact(u), resp)
	}
	b, err := readBody(resp, limit)
	switch {
	case errors.Is(err, storage.ErrTooLarge):
		return nil, fmt.Errorf("GET %s: %w", redact(u), err)
	case err != nil:
		// The connection failed halfway: worth another try, unless the
		// caller gave up.
		err = fmt.Errorf("reading %s: %w", redact(u), err)
		if ctx.Err() == nil {
			err = storage.Transient(err)
		}
		return nil, err
	}
	d.log.Debug("fetched", "url", redact(u), "bytes", len(b))
	return b, nil
}

// Open GETs an object as a stream of at most limit bytes: a larger one
// fails, at once if the server says its length, else when the reader
// passes the limit, with an error matching storage.ErrTooLarge.
func (d *Driver) Open(ctx context.Context, name string, limit int64) (io.ReadCloser, error) {
	resp, u, err := d.request(ctx, http.MethodGet, name, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer drain(resp)
		return nil, statusError(http.MethodGet, redact(u), resp)
	}
	if resp.ContentLength > limit {
		drain(resp)
		return nil, fmt.Errorf("GET %s: %w", redact(u), storage.ErrTooLarge)
	}
	return &cappedBody{resp: resp, left: limit}, nil
}

// cappedBody reads a response body, failing past its limit.
type cappedBody struct {
	resp *http.Response
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, storage.ErrTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.resp.Body.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n + int(b.left), storage.ErrTooLarge
	}
	return n, err
}

func (b *cappedBody) Close() error {
	drain(b.resp)
	return nil
}

// readBody reads a response body of at most limit bytes, preallocating
// from Content-Length when the server sends one.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, storage.ErrTooLarge
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
		return nil, storage.ErrTooLarge
	}
	return buf.Bytes(), nil
}

// Exists asks with a HEAD request: 200 is true, 404 false.
func (d *Driver) Exists(ctx context.Context, name string) (bool, error) {
	resp, u, err := d.request(ctx, http.MethodHead, name, nil)
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

// Put uploads data with a PUT request; 200, 201 and 204 are success.
func (d *Driver) Put(ctx context.Context, name string, data []byte) error {
	resp, u, err := d.request(ctx, http.MethodPut, name, data)
	if err != nil {
		return err
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated, http.StatusNoContent:
		d.log.Debug("stored", "url", redact(u), "bytes", len(data))
		return nil
	}
	return statusError(http.MethodPut, redact(u), resp)
}

// Delete removes an object with a DELETE request (404 is missing).
func (d *Driver) Delete(ctx context.Context, name string) error {
	resp, u, err := d.request(ctx, http.MethodDelete, name, nil)
	if err != nil {
		return err
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusOK, http.StatusAccepted, http.StatusNoContent:
		return nil
	}
	return statusError(http.MethodDelete, redact(u), resp)
}

// List is not possible over HTTP: it yields an error matching
// errors.ErrUnsupported.
func (d *Driver) List(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		yield("", fmt.Errorf("store %s: listing over HTTP: %w", d.name, errors.ErrUnsupported))
	}
}

// Classify: a 404 is missing; errors marked permanent (4xx statuses, TLS
// failures, unknown hosts) are permanent; errors marked transient (5xx,
// 408, 429, other failed requests) are transient.
func (d *Driver) Classify(err error) storage.ErrorKind {
	var se *StatusError
	switch {
	case errors.As(err, &se) && se.Code == http.StatusNotFound:
		return storage.KindMissing
	case errors.Is(err, errors.ErrUnsupported):
		return storage.KindPermanent
	case storage.IsPermanent(err):
		return storage.KindPermanent
	case storage.IsTransient(err):
		return storage.KindTransient
	}
	return storage.KindUnknown
}

var (
	_ storage.ObjectDriver   = (*Driver)(nil)
	_ storage.ObjectStreamer = (*Driver)(nil)
)
