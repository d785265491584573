package ocistore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	ocistore "github.com/folbricht/desync/storage-oci"
	"github.com/folbricht/desync/storage-oci/ocitest"
)

// TestClassify: what each kind of failure means for the caller.
func TestClassify(t *testing.T) {
	noDocker(t)
	d, err := ocistore.NewDriver(context.Background(), mustURL(t, "oci+http://127.0.0.1:1/r"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	status := func(code int) error { return &errcode.ErrorResponse{Method: "GET", URL: &url.URL{}, StatusCode: code} }
	for _, tc := range []struct {
		err  error
		want storage.ErrorKind
	}{
		{fmt.Errorf("tag x: %w", errdef.ErrNotFound), storage.KindMissing},
		{status(http.StatusNotFound), storage.KindMissing},
		{status(http.StatusUnauthorized), storage.KindPermanent},
		{status(http.StatusForbidden), storage.KindPermanent},
		{status(http.StatusBadRequest), storage.KindPermanent},
		{status(http.StatusTooManyRequests), storage.KindTransient},
		{status(http.StatusServiceUnavailable), storage.KindTransient},
		{status(http.StatusInternalServerError), storage.KindTransient},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), storage.KindPermanent},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), storage.KindTransient},
		{context.DeadlineExceeded, storage.KindTransient},
		{errors.New("something else"), storage.KindUnknown},
	} {
		if got := d.Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}

// TestTransientRetried: a registry answering 503 and 429 a few times is
// retried by the store storage.Open returns, and the chunk arrives.
func TestTransientRetried(t *testing.T) {
	noDocker(t)
	srv := ocitest.Start(t)
	target, _ := url.Parse("http://" + srv.Addr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var fails atomic.Int32
	fails.Store(4)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") && fails.Add(-1) >= 0 {
			code := http.StatusServiceUnavailable
			if fails.Load()%2 == 0 {
				code = http.StatusTooManyRequests
			}
			http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}`, code)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	loc := "oci+http://" + strings.TrimPrefix(front.URL, "http://") + "/desync/retry"
	s, err := storage.Open(context.Background(), loc, storage.Options{ErrorRetry: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := chunk.New(chunk.SHA512_256.Sum([]byte("retry")), []byte("retry"))
	if err := s.(chunk.WriteStore).StoreChunk(context.Background(), c); err != nil {
		t.Fatalf("StoreChunk through 503s and 429s: %v", err)
	}
	if _, err := s.GetChunk(context.Background(), c.ID()); err != nil {
		t.Fatalf("GetChunk: %v", err)
	}
	if fails.Load() >= 0 {
		t.Errorf("the registry's failures were not all met (%d left)", fails.Load()+1)
	}
}

// TestSizeCapBeforeBlob: a chunk whose blob is larger than the store's cap
// is invalid, and the blob is never asked for.
func TestSizeCapBeforeBlob(t *testing.T) {
	noDocker(t)
	srv := ocitest.Start(t)
	var blobGets atomic.Int32
	target, _ := url.Parse("http://" + srv.Addr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
			blobGets.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	loc := "oci+http://" + strings.TrimPrefix(front.URL, "http://") + "/desync/cap"
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte(i*7 + i>>8)
	}
	c := chunk.New(chunk.SHA512_256.Sum(big), big)
	w := open(t, loc, storage.Options{Uncompressed: true})
	defer w.Close()
	if err := w.StoreChunk(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	small := open(t, loc, storage.Options{Uncompressed: true, MaxChunkSize: 4 << 10})
	defer small.Close()
	_, err := small.GetChunk(context.Background(), c.ID())
	var inv *chunk.InvalidError
	if !errors.As(err, &inv) || !errors.Is(err, storage.ErrTooLarge) {
		t.Errorf("GetChunk of a blob over the cap: %v, want an invalid chunk, too large", err)
	}
	if n := blobGets.Load(); n != 0 {
		t.Errorf("%d blob GETs for a chunk over the cap, want none", n)
	}
}
