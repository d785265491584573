package gcsstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	gcsstore "github.com/folbricht/desync/storage-gcs"
	"github.com/folbricht/desync/storage-gcs/gcstest"
)

// faultProxy stands between the client and fake-gcs-server: it answers
// the next n requests with a status of its own, and counts listings.
type faultProxy struct {
	mu     sync.Mutex
	status int
	n      int
	lists  atomic.Int64
}

func (p *faultProxy) fail(status, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status, p.n = status, n
}

// startProxy puts a faultProxy in front of srv and points the client at it.
func startProxy(t *testing.T, srv *gcstest.Server) *faultProxy {
	t.Helper()
	p := &faultProxy{}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: srv.Addr})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/o") {
			p.lists.Add(1)
		}
		p.mu.Lock()
		status := 0
		if p.n > 0 {
			p.n--
			status = p.status
		}
		p.mu.Unlock()
		if status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":{"code":%d,"message":"injected %s"}}`, status, http.StatusText(status))
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Setenv(gcsstore.EmulatorEnv, strings.TrimPrefix(hs.URL, "http://"))
	return p
}

// TestServerAnswers: real HTTP answers are classified as they should be:
// 503 and 429 are retried (a call through storage.Open succeeds on its
// second attempt), 403 and 401 are permanent and not retried.
func TestServerAnswers(t *testing.T) {
	srv := gcstest.Start(t)
	bucket := srv.Bucket(t)
	p := startProxy(t, srv)
	ctx := context.Background()
	s, err := storage.Open(ctx, "gs://"+bucket+"/store", storage.Options{ErrorRetry: 3, ErrorRetryBaseInterval: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := chunk.New(chunk.SHA512_256.Sum([]byte("answers")), []byte("answers"))
	if err := s.(chunk.WriteStore).StoreChunk(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		status    int
		transient bool
	}{
		{http.StatusServiceUnavailable, true},
		{http.StatusTooManyRequests, true},
		{http.StatusInternalServerError, true},
		{http.StatusForbidden, false},
		{http.StatusUnauthorized, false},
	} {
		p.fail(tc.status, 1)
		_, err := s.GetChunk(ctx, c.ID())
		p.mu.Lock()
		left := p.n
		p.mu.Unlock()
		switch {
		case left != 0:
			t.Errorf("the injected %d was not sent", tc.status)
		case tc.transient && err != nil:
			t.Errorf("GetChunk after one %d: %v, want success on the retry", tc.status, err)
		case !tc.transient && err == nil:
			t.Errorf("GetChunk after one %d: success, want a permanent failure (no retry)", tc.status)
		case !tc.transient && (storage.IsTransient(err) || errors.Is(err, chunk.ErrMissing)):
			t.Errorf("GetChunk after one %d: %v, want permanent", tc.status, err)
		}
		p.fail(0, 0)
	}
}

// TestListPages: a listing crosses pages (a page size of 3 over 20
// chunks: several list requests), and yields each chunk once.
func TestListPages(t *testing.T) {
	srv := gcstest.Start(t)
	bucket := srv.Bucket(t)
	p := startProxy(t, srv)
	ctx := context.Background()
	u, _ := url.Parse("gs://" + bucket + "/store")
	s, err := gcsstore.NewStore(ctx, u, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	gcsstore.SetPageSize(s.Driver().(*gcsstore.Driver), 3)
	want := map[chunk.ID]bool{}
	for i := range 20 {
		b := []byte{byte(i), 'x'}
		c := chunk.New(chunk.SHA512_256.Sum(b), b)
		if err := s.StoreChunk(ctx, c); err != nil {
			t.Fatal(err)
		}
		want[c.ID()] = true
	}
	srv.Put(t, bucket, "other/0000/not-in-the-store.cacnk", []byte("x")) // outside the prefix
	p.lists.Store(0)
	seen := map[chunk.ID]int{}
	for id, err := range s.ListChunks(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		seen[id]++
	}
	if len(seen) != len(want) {
		t.Errorf("listed %d chunks, want %d", len(seen), len(want))
	}
	for id, n := range seen {
		if !want[id] || n != 1 {
			t.Errorf("chunk %s listed %d times (stored: %v)", id, n, want[id])
		}
	}
	if n := p.lists.Load(); n < 7 {
		t.Errorf("%d list requests for 20 chunks in pages of 3, want at least 7", n)
	}
}
