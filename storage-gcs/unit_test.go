package gcsstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	gcs "cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"

	"github.com/folbricht/desync/storage"
)

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestParseLocation(t *testing.T) {
	for _, tc := range []struct {
		in, want, obj string
	}{
		{"gs://bkt", "gs://bkt", "0a1b/x.cacnk"},
		{"gs://bkt/", "gs://bkt", "0a1b/x.cacnk"},
		{"gs://bkt/a/b/", "gs://bkt/a/b", "a/b/0a1b/x.cacnk"},
		{"gs://bkt/store", "gs://bkt/store", "store/0a1b/x.cacnk"},
	} {
		u, _ := url.Parse(tc.in)
		l, err := parseLocation(u, "store")
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if l.String() != tc.want || l.object("0a1b/x.cacnk") != tc.obj {
			t.Errorf("%s: %s, object %s; want %s, %s", tc.in, l, l.object("0a1b/x.cacnk"), tc.want, tc.obj)
		}
		if name, ok := l.relative(tc.obj); !ok || name != "0a1b/x.cacnk" {
			t.Errorf("%s: relative(%s) = %q, %v", tc.in, tc.obj, name, ok)
		}
	}
	for _, bad := range []string{"gs:///prefix", "gs://user:hunter2@bkt/p", "gs://bkt:80/p", "gs://bkt/p?x=1", "gs://bkt/a//b", "s3://bkt/p"} {
		u, _ := url.Parse(bad)
		_, err := parseLocation(u, "store")
		if err == nil {
			t.Errorf("%s: no error", bad)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the password: %v", bad, err)
		}
	}
	l := location{bucket: "b", prefix: "p"}
	if _, ok := l.relative("other/0a1b/x.cacnk"); ok {
		t.Error("an object outside the prefix is in the store")
	}
}

func TestClassify(t *testing.T) {
	t.Setenv(EmulatorEnv, closedAddr(t))
	u, _ := url.Parse("gs://bkt/p")
	d, err := NewDriver(context.Background(), u, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	api := func(code int) error { return fmt.Errorf("call: %w", &googleapi.Error{Code: code}) }
	for _, tc := range []struct {
		err  error
		want storage.ErrorKind
	}{
		{gcs.ErrObjectNotExist, storage.KindMissing},
		{api(404), storage.KindMissing},
		{d.bucketMissing(), storage.KindPermanent},
		{gcs.ErrBucketNotExist, storage.KindPermanent},
		{api(401), storage.KindPermanent},
		{api(403), storage.KindPermanent},
		{api(400), storage.KindPermanent},
		{api(408), storage.KindTransient},
		{api(429), storage.KindTransient},
		{api(500), storage.KindTransient},
		{api(503), storage.KindTransient},
		{&TimeoutError{Op: "GET x"}, storage.KindTransient},
		{context.DeadlineExceeded, storage.KindTransient},
		{&url.Error{Op: "Get", URL: "http://x", Err: syscall.ECONNREFUSED}, storage.KindTransient},
		{&url.Error{Op: "Get", URL: "http://x", Err: &net.DNSError{Err: "no such host", IsNotFound: true}}, storage.KindPermanent},
		{errors.ErrUnsupported, storage.KindPermanent},
		{context.Canceled, storage.KindUnknown},
		{errors.New("something else"), storage.KindUnknown},
	} {
		if got := d.Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	// A missing bucket is not a missing object, even though the library's
	// ErrBucketNotExist and ErrObjectNotExist are both "not found".
	if errors.Is(d.bucketMissing(), gcs.ErrObjectNotExist) {
		t.Error("the missing bucket error matches ErrObjectNotExist")
	}
}

// TestTimeoutError: the store's timeout is transient (retried), and does
// not pass for a cancelled context (which is not).
func TestTimeoutError(t *testing.T) {
	err := fmt.Errorf("store x: %w", &TimeoutError{Op: "GET x", After: 1})
	if !storage.IsTransient(err) {
		t.Errorf("%v is not transient", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Errorf("%v matches context.Canceled", err)
	}
	w := newWatchdog(context.Background(), 1)
	w.arm()
	<-w.ctx.Done()
	if err := w.fail("GET x", w.ctx.Err()); !errors.As(err, new(*TimeoutError)) {
		t.Errorf("a watchdog that fired: %v, want a *TimeoutError", err)
	}
	w.stop()
	w = newWatchdog(context.Background(), 0)
	w.arm()
	w.stop()
	if err := w.fail("GET x", w.ctx.Err()); !errors.Is(err, context.Canceled) {
		t.Errorf("a stopped watchdog without timeout: %v", err)
	}
}
