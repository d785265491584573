package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/folbricht/desync/storage"
	"github.com/minio/minio-go/v7"
)

// DefaultTimeout bounds one request (connecting, sending and reading the
// whole answer) when storage.Options.Timeout is 0, as for HTTP stores.
const DefaultTimeout = time.Minute

// Driver is the S3 [storage.ObjectDriver]: the object named n is the key
// <prefix>/n in the location's bucket. Get and Open are GETs, Exists a
// HEAD, Put a single PUT, Delete a DELETE, and List walks ListObjectsV2
// a page (1000 keys) at a time. Its errors are an *[Error], classified as
// [Driver.Classify] says. minio-go's own retries are off: a
// [storage.Retry] repeats what is transient.
type Driver struct {
	c        *minio.Client
	core     minio.Core
	loc      *Location
	name     string
	timeout  time.Duration
	log      *slog.Logger
	tr       http.RoundTripper
	bucketOK atomic.Bool // a GET said NoSuchKey: the bucket exists
}

// newDriver returns the driver on the bucket of loc with client c.
func newDriver(c *minio.Client, tr http.RoundTripper, loc *Location, o storage.Options) *Driver {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Driver{c: c, core: minio.Core{Client: c}, loc: loc, name: loc.String(), timeout: o.RequestTimeout(DefaultTimeout), log: log, tr: tr}
}

// Location returns the driver's parsed location.
func (d *Driver) Location() *Location { return d.loc }

// Client returns the minio-go client under the driver.
func (d *Driver) Client() *minio.Client { return d.c }

// bound gives a request its deadline (the store's timeout).
func (d *Driver) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if d.timeout > 0 {
		return context.WithTimeout(ctx, d.timeout)
	}
	return context.WithCancel(ctx)
}

func (d *Driver) fail(op, key string, err error) error {
	return &Error{Op: op, Bucket: d.loc.Bucket, Key: key, Err: err}
}

// Get fetches an object of at most limit bytes.
func (d *Driver) Get(ctx context.Context, name string, limit int64) ([]byte, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	key := d.loc.Key(name)
	body, info, _, err := d.core.GetObject(ctx, d.loc.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, d.fail("GET", key, err)
	}
	defer body.Close()
	if info.Size > limit {
		return nil, d.fail("GET", key, storage.ErrTooLarge)
	}
	var buf bytes.Buffer
	if info.Size > 0 {
		buf.Grow(int(info.Size) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(body, limit+1))
	switch {
	case err != nil:
		return nil, d.fail("GET", key, err)
	case n > limit:
		return nil, d.fail("GET", key, storage.ErrTooLarge)
	}
	return buf.Bytes(), nil
}

// Open GETs an object as a stream of at most limit bytes; a larger one
// fails with an error matching storage.ErrTooLarge, at once when its
// size is known. The store's timeout bounds the whole read.
func (d *Driver) Open(ctx context.Context, name string, limit int64) (io.ReadCloser, error) {
	ctx, cancel := d.bound(ctx)
	key := d.loc.Key(name)
	body, info, _, err := d.core.GetObject(ctx, d.loc.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		cancel()
		return nil, d.fail("GET", key, err)
	}
	if info.Size > limit {
		body.Close()
		cancel()
		return nil, d.fail("GET", key, storage.ErrTooLarge)
	}
	return &capped{d: d, key: key, r: body, left: limit, cancel: cancel}, nil
}

// capped reads an object's body, failing past its limit, and ends the
// request's context when closed.
type capped struct {
	d      *Driver
	key    string
	r      io.ReadCloser
	left   int64
	cancel context.CancelFunc
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, c.d.fail("GET", c.key, storage.ErrTooLarge)
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n + int(c.left), c.d.fail("GET", c.key, storage.ErrTooLarge)
	}
	if err != nil && err != io.EOF {
		err = c.d.fail("GET", c.key, err)
	}
	return n, err
}

func (c *capped) Close() error {
	err := c.r.Close()
	c.cancel()
	return err
}

// Exists asks with a HEAD: a missing object is false (in a bucket that
// exists).
func (d *Driver) Exists(ctx context.Context, name string) (bool, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	key := d.loc.Key(name)
	_, err := d.c.StatObject(ctx, d.loc.Bucket, key, minio.StatObjectOptions{})
	if err == nil {
		return true, nil
	}
	if err = d.headError(ctx, key, err); classify(err) == storage.KindMissing {
		return false, nil
	}
	return false, d.fail("HEAD", key, err)
}

// headError makes the error of a HEAD say what went wrong. The answer to
// a HEAD has no body, so minio-go reads a 404 as NoSuchKey and a 403 as
// AccessDenied, whatever the server meant: a missing bucket, an unknown
// access key, a wrong secret key. So a refused HEAD is asked again as a
// GET of one byte, whose body has the real code, and a missing object is
// believed only once such a GET has said NoSuchKey (then the bucket
// exists, and later misses are taken as they come). This costs a request
// only on the way to a permanent failure, or once per store.
func (d *Driver) headError(ctx context.Context, key string, err error) error {
	var r minio.ErrorResponse
	if !errors.As(err, &r) || (r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden) {
		return err
	}
	if r.StatusCode == http.StatusNotFound && d.bucketOK.Load() {
		return err
	}
	var o minio.GetObjectOptions
	o.SetRange(0, 0)
	body, _, _, gerr := d.core.GetObject(ctx, d.loc.Bucket, key, o)
	if gerr == nil {
		body.Close()
		return err
	}
	if classify(gerr) == storage.KindMissing {
		d.bucketOK.Store(true)
		return err
	}
	var g minio.ErrorResponse
	if errors.As(gerr, &g) && g.Code != "" {
		return gerr
	}
	return err
}

// Put uploads data in one PUT request whose payload is signed: its
// SHA-256 goes in the signature (x-amz-content-sha256), computed once
// here. (minio-go's default over plain HTTP is a streaming signature,
// one signature per 64 KiB piece of an aws-chunked body, which costs
// client and server far more for the same protection.)
func (d *Driver) Put(ctx context.Context, name string, data []byte) error {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	key := d.loc.Key(name)
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	_, err := d.core.PutObject(ctx, d.loc.Bucket, key, bytes.NewReader(data), int64(len(data)), "", sum, minio.PutObjectOptions{
		DisableContentSha256: true, // with sum given: sign it, not the streaming way
		ContentType:          "application/octet-stream",
	})
	if err != nil {
		return d.fail("PUT", key, err)
	}
	return nil
}

// Delete removes an object; S3 answers a missing one with success.
func (d *Driver) Delete(ctx context.Context, name string) error {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	key := d.loc.Key(name)
	if err := d.c.RemoveObject(ctx, d.loc.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return d.fail("DELETE", key, err)
	}
	return nil
}

// List yields the names under prefix as ListObjectsV2 returns them, one
// page of up to 1000 keys at a time, so a store of millions of chunks is
// streamed, never collected. The store's timeout does not bound a
// listing, which may take long in all: the caller's context ends it.
func (d *Driver) List(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel() // stops minio-go's pager when the caller stops early
		lp := d.loc.listPrefix(prefix)
		for obj := range d.c.ListObjectsIter(ctx, d.loc.Bucket, minio.ListObjectsOptions{Prefix: lp, Recursive: true}) {
			if obj.Err != nil {
				yield("", d.fail("LIST", lp, obj.Err))
				return
			}
			if strings.HasSuffix(obj.Key, "/") {
				continue // a "directory" marker some tools create
			}
			name, ok := d.loc.Name(obj.Key)
			if !ok {
				continue
			}
			if !yield(name, nil) {
				return
			}
		}
	}
}

// Classify says what a driver error means; see [Error] and the package
// documentation.
func (d *Driver) Classify(err error) storage.ErrorKind { return classify(err) }

// String is the store's location without credentials.
func (d *Driver) String() string { return d.name }

// Close releases the driver's idle connections.
func (d *Driver) Close() error {
	if t, ok := d.tr.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	return nil
}

var (
	_ storage.ObjectDriver   = (*Driver)(nil)
	_ storage.ObjectStreamer = (*Driver)(nil)
)
