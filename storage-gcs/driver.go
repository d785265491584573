package gcsstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	gcs "cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"

	"github.com/folbricht/desync/storage"
)

// Driver is the Google Cloud Storage [storage.ObjectDriver]: the object
// named n of a store at gs://bucket/prefix is prefix/n in bucket. Every
// call runs under the caller's context and the store's timeout (see
// [DefaultTimeout]); the client library's own retries are off, since
// storage.Retry repeats what [Driver.Classify] calls transient.
type Driver struct {
	client  *gcs.Client
	bucket  *gcs.BucketHandle
	loc     location
	timeout time.Duration
	log     *slog.Logger
	// pageSize, if set, is the listing's page size (tests cross pages
	// with it); 0 is the server's (1000 for GCS).
	pageSize int
	// bucketSeen is set once the bucket is known to exist (a call
	// succeeded or the bucket answered), so that a missing object need
	// not be told from a missing bucket again.
	bucketSeen atomic.Bool
}

// NewDriver returns the driver for the store at loc (gs://bucket/prefix)
// with the options of o it uses (Timeout, N, Logger). The client signs in
// with application default credentials, or, when STORAGE_EMULATOR_HOST
// is set, talks to that emulator without credentials. Opening makes no
// request: a bucket that does not exist or refused credentials show at
// the first call.
func NewDriver(ctx context.Context, loc *url.URL, o storage.Options) (*Driver, error) {
	return newDriver(ctx, loc, o, "store")
}

func newDriver(ctx context.Context, loc *url.URL, o storage.Options, kind string) (*Driver, error) {
	l, err := parseLocation(loc, kind)
	if err != nil {
		return nil, err
	}
	client, err := newClient(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, l, err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Driver{
		client:  client,
		bucket:  client.Bucket(l.bucket).Retryer(gcs.WithPolicy(gcs.RetryNever)),
		loc:     l,
		timeout: o.RequestTimeout(DefaultTimeout),
		log:     log,
	}, nil
}

// call runs one request-sized operation under a watchdog armed once.
func (d *Driver) call(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	w := newWatchdog(ctx, d.timeout)
	defer w.stop()
	w.arm()
	return w.fail(op, fn(w.ctx))
}

// Get reads the whole object, refusing one larger than limit.
func (d *Driver) Get(ctx context.Context, name string, limit int64) ([]byte, error) {
	var b []byte
	obj := d.loc.object(name)
	err := d.call(ctx, "GET "+obj, func(ctx context.Context) error {
		r, err := d.bucket.Object(obj).NewReader(ctx)
		if err != nil {
			return d.notFound(ctx, err)
		}
		defer r.Close()
		if r.Attrs.Size > limit {
			return storage.ErrTooLarge
		}
		var buf bytes.Buffer
		if r.Attrs.Size > 0 {
			buf.Grow(int(r.Attrs.Size) + bytes.MinRead)
		}
		n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
		if err != nil {
			return err
		}
		if n > limit {
			return storage.ErrTooLarge
		}
		b = buf.Bytes()
		return nil
	})
	if err != nil {
		return nil, d.opErr("reading", obj, err)
	}
	d.bucketSeen.Store(true)
	d.log.Debug("fetched", "object", obj, "bytes", len(b))
	return b, nil
}

// Open reads the object as a stream of at most limit bytes; the timeout
// bounds each read, not the whole transfer.
func (d *Driver) Open(ctx context.Context, name string, limit int64) (io.ReadCloser, error) {
	obj := d.loc.object(name)
	w := newWatchdog(ctx, d.timeout)
	w.arm()
	r, err := d.bucket.Object(obj).NewReader(w.ctx)
	if err != nil {
		err = w.fail("GET "+obj, d.notFound(w.ctx, err))
		w.stop()
		return nil, d.opErr("reading", obj, err)
	}
	w.disarm()
	if r.Attrs.Size > limit {
		r.Close()
		w.stop()
		return nil, d.opErr("reading", obj, storage.ErrTooLarge)
	}
	d.bucketSeen.Store(true)
	return &streamReader{d: d, obj: obj, r: r, w: w, left: limit}, nil
}

// streamReader is an object being read, each read under the watchdog.
type streamReader struct {
	d    *Driver
	obj  string
	r    *gcs.Reader
	w    *watchdog
	left int64
}

func (s *streamReader) Read(p []byte) (int, error) {
	if s.left < 0 {
		return 0, storage.ErrTooLarge
	}
	if int64(len(p)) > s.left+1 {
		p = p[:s.left+1]
	}
	s.w.arm()
	n, err := s.r.Read(p)
	s.w.disarm()
	s.left -= int64(n)
	if s.left < 0 {
		return n + int(s.left), storage.ErrTooLarge
	}
	if err != nil && err != io.EOF {
		err = s.d.opErr("reading", s.obj, s.w.fail("GET "+s.obj, err))
	}
	return n, err
}

func (s *streamReader) Close() error {
	err := s.r.Close()
	s.w.stop()
	return err
}

// Exists asks for the object's metadata.
func (d *Driver) Exists(ctx context.Context, name string) (bool, error) {
	obj := d.loc.object(name)
	found := false
	err := d.call(ctx, "HEAD "+obj, func(ctx context.Context) error {
		_, err := d.bucket.Object(obj).Attrs(ctx)
		switch {
		case err == nil:
			found = true
			return nil
		case errors.Is(err, gcs.ErrObjectNotExist):
			return d.checkBucket(ctx)
		}
		return err
	})
	if err != nil {
		return false, d.opErr("probing", obj, err)
	}
	return found, nil
}

// castagnoli is the CRC32C table: GCS checks an upload against it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Put uploads data in one request, with its CRC32C for the server to
// check. A 404 on an upload can only be a missing bucket.
func (d *Driver) Put(ctx context.Context, name string, data []byte) error {
	obj := d.loc.object(name)
	err := d.call(ctx, "PUT "+obj, func(ctx context.Context) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel() // a Writer not closed is abandoned by cancelling its context
		w := d.bucket.Object(obj).NewWriter(ctx)
		w.ChunkSize = 0 // one request, and no 16 MiB buffer per upload
		w.CRC32C, w.SendCRC32C = crc32.Checksum(data, castagnoli), true
		w.ContentType = "application/octet-stream"
		if _, err := w.Write(data); err != nil {
			return err
		}
		return w.Close()
	})
	if err != nil {
		if isStatus(err, http.StatusNotFound) || errors.Is(err, gcs.ErrObjectNotExist) {
			err = d.bucketMissing()
		}
		return d.opErr("writing", obj, err)
	}
	d.bucketSeen.Store(true)
	d.log.Debug("stored", "object", obj, "bytes", len(data))
	return nil
}

// Delete removes the object; a missing one is an error Classify calls
// missing.
func (d *Driver) Delete(ctx context.Context, name string) error {
	obj := d.loc.object(name)
	err := d.call(ctx, "DELETE "+obj, func(ctx context.Context) error {
		return d.bucket.Object(obj).Delete(ctx)
	})
	if err != nil {
		return d.opErr("deleting", obj, err)
	}
	return nil
}

// List yields the store's object names under prefix, page by page as
// the server sends them (1000 a page), each page request under the
// timeout; nothing is collected.
func (d *Driver) List(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		w := newWatchdog(ctx, d.timeout)
		defer w.stop()
		q := &gcs.Query{Prefix: d.loc.listPrefix(prefix), Projection: gcs.ProjectionNoACL}
		if err := q.SetAttrSelection([]string{"Name"}); err != nil {
			yield("", err)
			return
		}
		it := d.bucket.Objects(w.ctx, q)
		it.PageInfo().MaxSize = d.pageSize
		for {
			w.arm()
			attrs, err := it.Next()
			w.disarm()
			if err == iterator.Done {
				d.bucketSeen.Store(true)
				return
			}
			if err != nil {
				yield("", d.opErr("listing", q.Prefix, w.fail("LIST "+q.Prefix, err)))
				return
			}
			name, ok := d.loc.relative(attrs.Name)
			if ok && !yield(name, nil) {
				return
			}
		}
	}
}

// String is gs://bucket/prefix.
func (d *Driver) String() string { return d.loc.String() }

// Close releases the client.
func (d *Driver) Close() error { return d.client.Close() }

// Bucket and Prefix are where the store is.
func (d *Driver) Bucket() string { return d.loc.bucket }
func (d *Driver) Prefix() string { return d.loc.prefix }

var (
	_ storage.ObjectDriver   = (*Driver)(nil)
	_ storage.ObjectStreamer = (*Driver)(nil)
)

// isStatus reports whether err is an answer of the JSON API with code.
func isStatus(err error, code int) bool {
	var ge *googleapi.Error
	return errors.As(err, &ge) && ge.Code == code
}
