package httpstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	httpstore "github.com/folbricht/desync/storage-http"
	"github.com/folbricht/desync/storage/storagetest"
)

// TestStatusErrors checks how the client maps statuses: 404 is a missing
// chunk, 5xx/408/429 transient, other 4xx permanent; messages name the
// URL and the status, and a server's long error body is cut short.
func TestStatusErrors(t *testing.T) {
	long := strings.Repeat("x", 10000) + "\x1b[31m"
	for _, tc := range []struct {
		code      int
		missing   bool
		transient bool
	}{
		{http.StatusNotFound, true, false},
		{http.StatusInternalServerError, false, true},
		{http.StatusBadGateway, false, true},
		{http.StatusServiceUnavailable, false, true},
		{http.StatusTooManyRequests, false, true},
		{http.StatusRequestTimeout, false, true},
		{http.StatusForbidden, false, false},
		{http.StatusUnauthorized, false, false},
		{http.StatusBadRequest, false, false},
		{http.StatusTeapot, false, false},
	} {
		t.Run(http.StatusText(tc.code), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.code)
				w.Write([]byte(long))
			}))
			defer srv.Close()
			s := newClient(t, srv.URL+"/store", storage.Options{})
			c := randomChunk(t, 100, chunk.SHA512_256)
			_, err := s.GetChunk(context.Background(), c.ID())
			if err == nil {
				t.Fatal("GetChunk: no error")
			}
			msg := err.Error()
			if errors.Is(err, chunk.ErrMissing) != tc.missing {
				t.Errorf("GetChunk error %q: matches ErrMissing = %v, want %v", msg, !tc.missing, tc.missing)
			}
			if got := storage.IsTransient(err); got != tc.transient {
				t.Errorf("GetChunk error %q: transient = %v, want %v", msg, got, tc.transient)
			}
			wantURL := srv.URL + "/store/" + c.ID().String()[:4] + "/" + c.ID().String() + ".cacnk"
			if !strings.Contains(msg, wantURL) || !strings.Contains(msg, http.StatusText(tc.code)) {
				t.Errorf("GetChunk error %q does not name the URL %s and the status %d", msg, wantURL, tc.code)
			}
			if len(msg) > 500 || strings.Contains(msg, "\x1b") {
				t.Errorf("GetChunk error quotes the response body at length (%d bytes) or with control characters", len(msg))
			}
			// HEAD: 404 is false without error, others fail the same way.
			ok, err := s.HasChunk(context.Background(), c.ID())
			if tc.missing {
				if ok || err != nil {
					t.Errorf("HasChunk = %v, %v; want false, nil", ok, err)
				}
			} else if err == nil || storage.IsTransient(err) != tc.transient {
				t.Errorf("HasChunk = %v, %v; want an error, transient %v", ok, err, tc.transient)
			}
			// PUT fails on any of these.
			if err := s.StoreChunk(context.Background(), c); err == nil || storage.IsTransient(err) != tc.transient && !tc.missing {
				t.Errorf("StoreChunk: %v; want an error, transient %v", err, tc.transient)
			}
		})
	}
}

// TestRetryThroughOpen: a store opened with storage.Open retries 503s and
// connection failures, but not a 404.
func TestRetryThroughOpen(t *testing.T) {
	objs := newObjectServer(t)
	c := randomChunk(t, 5000, chunk.SHA512_256)
	if err := newClient(t, objs.URL, storage.Options{}).StoreChunk(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		objs.ServeHTTP(w, r)
	}))
	defer srv.Close()
	s, err := storage.Open(context.Background(), srv.URL, storage.Options{ErrorRetry: 3, ErrorRetryBaseInterval: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.GetChunk(context.Background(), c.ID())
	if err != nil {
		t.Fatalf("GetChunk after two 503s: %v", err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d requests, want 3 (two failures, one success)", n)
	}
	if b, _ := got.Plain(); len(b) != 5000 {
		t.Errorf("chunk of %d bytes, want 5000", len(b))
	}
	calls.Store(10)
	missing := randomChunk(t, 10, chunk.SHA512_256)
	if _, err := s.GetChunk(context.Background(), missing.ID()); !errors.Is(err, chunk.ErrMissing) {
		t.Fatalf("GetChunk of a missing chunk: %v, want ErrMissing", err)
	}
	if n := calls.Load(); n != 11 {
		t.Errorf("a missing chunk took %d requests, want 1 (never retried)", n-10)
	}
}

// TestHeaders: http-auth and http-cookie are sent with every request, of
// the chunk store and the index store, reads and writes alike; every call
// gets the answer its status means.
func TestHeaders(t *testing.T) {
	var mu sync.Mutex
	var got []string // method, path and the two headers of every request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, fmt.Sprintf("%s %s auth=%q cookie=%q", r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Cookie")))
		mu.Unlock()
		if r.Method == http.MethodPut {
			w.WriteHeader(http.StatusCreated)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	ctx := context.Background()
	o := storage.Options{HTTPAuth: "Bearer xyz", HTTPCookie: "session=abc"}
	s := newClient(t, srv.URL, o)
	id := randomChunk(t, 10, chunk.SHA512_256).ID()
	if _, err := s.GetChunk(ctx, id); !errors.Is(err, chunk.ErrMissing) {
		t.Errorf("GetChunk on 404: %v, want chunk.ErrMissing", err)
	}
	if ok, err := s.HasChunk(ctx, id); ok || err != nil {
		t.Errorf("HasChunk on 404: %v, %v, want false, nil", ok, err)
	}
	put := randomChunk(t, 10, chunk.SHA512_256)
	if err := s.StoreChunk(ctx, put); err != nil {
		t.Errorf("StoreChunk on 201: %v", err)
	}
	is, err := httpstore.NewIndexStore(mustURL(t, srv.URL+"/ix/"), o)
	if err != nil {
		t.Fatal(err)
	}
	defer is.Close()
	if _, err := is.GetIndex(ctx, "a.caibx"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("GetIndex on 404: %v, want fs.ErrNotExist", err)
	}
	if err := is.StoreIndex(ctx, "b.caibx", caindex.New(chunk.SHA512_256, 16, 64, 256)); err != nil {
		t.Errorf("StoreIndex on 201: %v", err)
	}
	chunkPath := func(id chunk.ID) string { return "/" + id.String()[:4] + "/" + id.String() + ".cacnk" }
	var want []string
	for _, req := range []string{"GET " + chunkPath(id), "HEAD " + chunkPath(id), "PUT " + chunkPath(put.ID()), "GET /ix/a.caibx", "PUT /ix/b.caibx"} {
		want = append(want, req+` auth="Bearer xyz" cookie="session=abc"`)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestIndexStoreRoundTrip stores and reads an index through an HTTP
// server, and through storage.ReadIndex by URL. (Our index-server's round
// trip with this client is tested in module httpserver.)
func TestIndexStoreRoundTrip(t *testing.T) {
	srv := newObjectServer(t)
	ix := caindex.New(chunk.SHA512_256, 16<<10, 64<<10, 256<<10)
	for i := range 3 {
		c := randomChunk(t, 1000+i, chunk.SHA512_256)
		ix.Chunks = append(ix.Chunks, caindex.Chunk{ID: c.ID(), Start: uint64(i) * 3000, Size: 1000 + uint64(i)})
	}
	ix.Chunks[1].Start, ix.Chunks[2].Start = 1000, 2001
	cl, err := httpstore.NewIndexStore(mustURL(t, srv.URL), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.StoreIndex(context.Background(), "image.caibx", ix); err != nil {
		t.Fatalf("StoreIndex: %v", err)
	}
	// A streamed upload whose writer fails sends nothing.
	boom := errors.New("input unreadable")
	if err := cl.WriteIndex(context.Background(), "half.caibx", func(w io.Writer) error { w.Write([]byte("half")); return boom }); err != boom {
		t.Errorf("WriteIndex with a failing writer: %v, want its error", err)
	}
	if _, err := cl.GetIndex(context.Background(), "half.caibx"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed WriteIndex stored something: %v", err)
	}
	if n := srv.Calls(storagetest.OpStore); n != 1 {
		t.Errorf("%d PUTs, want 1 (a failed WriteIndex sends nothing)", n)
	}
	got, err := storage.ReadIndex(context.Background(), srv.URL+"image.caibx", storage.Options{})
	if err != nil {
		t.Fatalf("ReadIndex: %v", err)
	}
	if len(got.Chunks) != 3 || got.Chunks[2] != ix.Chunks[2] {
		t.Errorf("read back %+v, want %+v", got.Chunks, ix.Chunks)
	}
	// An index larger than the cap is refused, not read to its end. (The
	// index is 48 bytes of header, 16 of table header, 3 entries of 40 and
	// a 40-byte tail: 224.)
	small, err := httpstore.NewIndexStore(mustURL(t, srv.URL), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	small.SetMaxIndex(200)
	_, err = small.GetIndex(context.Background(), "image.caibx")
	if err == nil || !strings.Contains(err.Error(), "larger than 200 bytes") {
		t.Errorf("GetIndex of an index over the cap: %v, want a size error", err)
	}
	// CopyIndex gives the stored bytes as they are, under the same cap and
	// with the same 404.
	var want, copied bytes.Buffer
	ix.WriteTo(&want)
	if err := cl.CopyIndex(context.Background(), "image.caibx", &copied); err != nil || !bytes.Equal(copied.Bytes(), want.Bytes()) {
		t.Errorf("CopyIndex: %v, %d bytes, want %d", err, copied.Len(), want.Len())
	}
	if err := small.CopyIndex(context.Background(), "image.caibx", io.Discard); err == nil || !strings.Contains(err.Error(), "larger than 200 bytes") {
		t.Errorf("CopyIndex of an index over the cap: %v, want a size error", err)
	}
	if err := cl.CopyIndex(context.Background(), "nope.caibx", io.Discard); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CopyIndex on 404: %v, want fs.ErrNotExist", err)
	}
	for _, bad := range []string{"", "../x.caibx", "/abs.caibx", "a/../../b"} {
		if _, err := cl.GetIndex(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "invalid index name") {
			t.Errorf("GetIndex(%q): %v, want an invalid name error", bad, err)
		}
	}
}

// TestErrorRetryRequests counts the requests a store opened by storage.Open
// makes per call against a server that always fails with a 500: desync's
// --error-retry N means N requests in all (0 and 1: one), not N retries.
func TestErrorRetryRequests(t *testing.T) {
	defaults := storage.DefaultOptions()
	for _, tc := range []struct {
		name     string
		retry    int
		requests int32
	}{
		{"0", 0, 1},
		{"1", 1, 1},
		{"3", 3, 3},
		{"default", defaults.ErrorRetry, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				http.Error(w, "broken", http.StatusInternalServerError)
			}))
			defer srv.Close()
			o := defaults
			o.ErrorRetry, o.ErrorRetryBaseInterval = tc.retry, time.Microsecond
			s, err := storage.Open(context.Background(), srv.URL, o)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c := randomChunk(t, 100, chunk.SHA512_256)
			calls := map[string]func() error{
				"GetChunk": func() error { _, err := s.GetChunk(context.Background(), c.ID()); return err },
				"HasChunk": func() error { _, err := s.HasChunk(context.Background(), c.ID()); return err },
				"StoreChunk": func() error {
					return s.(chunk.WriteStore).StoreChunk(context.Background(), c)
				},
			}
			for op, call := range calls {
				requests.Store(0)
				err := call()
				var se *httpstore.StatusError
				if !errors.As(err, &se) || se.Code != http.StatusInternalServerError {
					t.Errorf("%s: %v, want the 500", op, err)
				}
				if n := requests.Load(); n != tc.requests {
					t.Errorf("%s with error-retry %d: %d requests, want %d", op, tc.retry, n, tc.requests)
				}
			}
		})
	}
}

// TestConnectionRefused: a request that gets no response fails with an
// error naming the store and the chunk once each (not again in the URL),
// that still unwraps to the *url.Error, and is transient.
func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String() + "/"
	ln.Close()
	s := newClient(t, base, storage.Options{})
	c := randomChunk(t, 100, chunk.SHA512_256)
	_, err = s.GetChunk(context.Background(), c.ID())
	var ue *url.Error
	if err == nil || !errors.As(err, &ue) || !storage.IsTransient(err) {
		t.Fatalf("GetChunk: %v, want a transient *url.Error", err)
	}
	msg := err.Error()
	if strings.Count(msg, base) != 1 || strings.Count(msg, c.ID().String()) != 1 || !strings.Contains(msg, "GET: ") {
		t.Errorf("error %q should name %s and chunk %s once each, and the method", msg, base, c.ID())
	}
}
