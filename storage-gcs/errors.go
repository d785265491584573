package gcsstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"cloud.google.com/go/auth"
	gcs "cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"

	"github.com/folbricht/desync/storage"
)

// Classify says what an error of the driver means:
//   - missing: the object does not exist (storage.ErrObjectNotExist, a 404);
//   - permanent: the bucket does not exist, the credentials are refused
//     or lack the permission (401, 403, and other 4xx answers), the host
//     does not resolve, its certificate is not trusted, or the call is
//     one GCS cannot do;
//   - transient: 408, 429 and 5xx answers, timeouts (the store's and the
//     network's), refused or reset connections, a transfer cut short;
//   - unknown: anything else, and a call the caller cancelled.
func (d *Driver) Classify(err error) storage.ErrorKind {
	var (
		ge *googleapi.Error
		ae *auth.Error
	)
	switch {
	case err == nil:
		return storage.KindUnknown
	case errors.Is(err, gcs.ErrBucketNotExist), errors.Is(err, errors.ErrUnsupported), storage.IsPermanent(err):
		return storage.KindPermanent
	case errors.Is(err, gcs.ErrObjectNotExist):
		return storage.KindMissing
	case errors.As(err, &ge):
		return storage.ClassifyStatus(ge.Code)
	case errors.As(err, &ae) && ae.Response != nil:
		// The token endpoint refused the credentials, or is failing.
		return storage.ClassifyStatus(ae.Response.StatusCode)
	case errors.As(err, new(*TimeoutError)):
		return storage.KindTransient
	}
	return storage.ClassifyNetwork(err)
}

// checkBucket is called when an object is not found: GCS answers a read
// of an object in a bucket that does not exist with the same 404, and a
// missing bucket must not pass for a missing chunk (a router would go on
// to the next store, a cache would never fill). It asks for the bucket
// once, until the bucket is known to exist: nil if it exists or the
// credentials may not see its metadata (403: the bucket is there), an
// error matching ErrBucketNotExist if not, or the failure of asking.
func (d *Driver) checkBucket(ctx context.Context) error {
	if d.bucketSeen.Load() {
		return nil
	}
	_, err := d.bucket.Attrs(ctx)
	switch {
	case err == nil, isStatus(err, http.StatusForbidden):
		d.bucketSeen.Store(true)
		return nil
	case errors.Is(err, gcs.ErrBucketNotExist):
		return d.bucketMissing()
	}
	return fmt.Errorf("asking whether bucket %q exists: %w", d.loc.bucket, err)
}

// notFound returns err, the not-found error of a read, or the error of a
// missing bucket (see checkBucket).
func (d *Driver) notFound(ctx context.Context, err error) error {
	if !errors.Is(err, gcs.ErrObjectNotExist) && !isStatus(err, http.StatusNotFound) {
		return err
	}
	if berr := d.checkBucket(ctx); berr != nil {
		return berr
	}
	return err
}

// bucketMissing is the error of the store's missing bucket; it matches
// storage.ErrBucketNotExist (permanent), not ErrObjectNotExist.
func (d *Driver) bucketMissing() error {
	return fmt.Errorf("bucket %q: %w", d.loc.bucket, gcs.ErrBucketNotExist)
}

// opErr names the object of a failed call. A storage.ErrTooLarge and the
// library's errors stay matchable. A failed request's *url.Error shows
// only its cause: its URL repeats the object, with query parameters.
func (d *Driver) opErr(op, object string, err error) error {
	if ue, ok := err.(*url.Error); ok {
		err = quietURLError{ue}
	}
	return fmt.Errorf("%s gs://%s/%s: %w", op, d.loc.bucket, object, err)
}

// quietURLError is a *url.Error that prints only its cause.
type quietURLError struct{ ue *url.Error }

func (e quietURLError) Error() string { return e.ue.Err.Error() }
func (e quietURLError) Unwrap() error { return e.ue }
