package s3store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage-s3/s3test"
)

// counter is a reverse proxy in front of versitygw that counts the S3
// requests by kind, and can fail the next listings.
type counter struct {
	srv       *httptest.Server
	mu        sync.Mutex
	n         map[string]int // HEAD, PUT, GET, LIST
	failLists atomic.Int32
}

func newCounter(t *testing.T, s3 *s3test.Server) *counter {
	target, _ := url.Parse("http://" + s3.Endpoint)
	proxy := httputil.NewSingleHostReverseProxy(target)
	c := &counter{n: map[string]int{}}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := r.Method
		if r.Method == http.MethodGet && r.URL.Query().Has("list-type") {
			kind = "LIST"
			if c.failLists.Add(-1) >= 0 {
				c.count(kind)
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected</Message></Error>`)
				return
			}
		}
		c.count(kind)
		proxy.ServeHTTP(w, r) // the Host header stays the proxy's, as signed
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *counter) count(kind string) {
	c.mu.Lock()
	c.n[kind]++
	c.mu.Unlock()
}

func (c *counter) reset() {
	c.mu.Lock()
	c.n = map[string]int{}
	c.mu.Unlock()
}

func (c *counter) get(kind string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[kind]
}

func (c *counter) url(bucket, prefix string) string {
	return "s3+http://" + strings.TrimPrefix(c.srv.URL, "http://") + "/" + bucket + "/" + prefix
}

// s3Chunks returns n distinct chunks of a few KiB.
func s3Chunks(seed uint64, n int) []*chunk.Chunk {
	r := rand.New(rand.NewPCG(seed, 2))
	var cs []*chunk.Chunk
	for range n {
		b := make([]byte, 1000+r.IntN(3000))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		cs = append(cs, chunk.New(chunk.SHA512_256.Sum(b), b))
	}
	return cs
}

// makeS3 opens loc for writing as make does (storage.OpenWith, then an
// Uploads queue), asks for each chunk and stores the missing ones on 4
// goroutines, and closes the store.
func makeS3(t *testing.T, srv *s3test.Server, loc string, o storage.Options, cs []*chunk.Chunk) {
	t.Helper()
	ctx := context.Background()
	o.Credentials = rootKeys(srv)
	st, err := storage.Open(ctx, loc, o)
	if err != nil {
		t.Fatal(err)
	}
	u := storage.NewUploads(ctx, st.(chunk.WriteStore), storage.UploadOptions{ListWait: -1} /* requests counted do not depend on timing */)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(cs) && errs[w] == nil; i += 4 {
				has, err := u.HasChunk(ctx, cs[i].ID())
				if err == nil && !has {
					err = u.StoreChunk(ctx, cs[i])
				}
				errs[w] = err
			}
		})
	}
	wg.Wait()
	if err := errors.Join(append(errs, u.Close())...); err != nil {
		t.Fatal(err)
	}
}

// wantObjects fails unless every chunk of cs is in the bucket's
// directory, in the store's layout, and reads back.
func wantObjects(t *testing.T, srv *s3test.Server, bucket, prefix string, cs []*chunk.Chunk) {
	t.Helper()
	s := open(t, srv.URL(bucket, prefix), storage.Options{Credentials: rootKeys(srv)})
	defer s.Close()
	for _, c := range cs {
		if _, err := os.Stat(filepath.Join(srv.Dir, bucket, prefix, s.Name(c.ID()))); err != nil {
			t.Errorf("chunk %s: %v", c.ID(), err)
			continue
		}
		if _, err := s.GetChunk(context.Background(), c.ID()); err != nil {
			t.Errorf("chunk %s does not read back: %v", c.ID(), err)
		}
	}
}

// fakeObjects writes n objects named as chunks (not valid ones: only
// their names are listed or asked for) into the bucket's directory.
func fakeObjects(t *testing.T, dir string, n int) {
	t.Helper()
	for i := range n {
		id := chunk.SHA512_256.Sum(fmt.Appendf(nil, "fake %d", i))
		p := filepath.Join(dir, id.String()[:4], id.String()+".cacnk")
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("fake"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestListBeforeWrite counts the S3 requests of a make-like write into
// versitygw: a store within the listing's bound is listed once and never
// asked per chunk; one past it, or whose listing fails, is asked with a
// HEAD per chunk; in every case each chunk ends up stored, and a chunk the
// store holds is not uploaded again.
func TestListBeforeWrite(t *testing.T) {
	srv := s3test.Start(t)
	c := newCounter(t, srv)
	cs := s3Chunks(1, 80)

	t.Run("Empty", func(t *testing.T) {
		b := newBucket(t, srv)
		c.reset()
		makeS3(t, srv, c.url(b, "store"), storage.Options{}, cs)
		if h, p, l := c.get("HEAD"), c.get("PUT"), c.get("LIST"); h != 0 || p != len(cs) || l != 1 {
			t.Errorf("make into an empty store: %d HEADs, %d PUTs, %d LISTs; want 0, %d, 1", h, p, l, len(cs))
		}
		wantObjects(t, srv, b, "store", cs)
	})
	t.Run("HalfStored", func(t *testing.T) {
		b := newBucket(t, srv)
		makeS3(t, srv, srv.URL(b, "store"), storage.Options{}, cs[:40])
		c.reset()
		makeS3(t, srv, c.url(b, "store"), storage.Options{}, cs)
		if h, p := c.get("HEAD"), c.get("PUT"); h != 0 || p != 40 {
			t.Errorf("make into a half-full store: %d HEADs, %d PUTs; want 0, 40", h, p)
		}
		wantObjects(t, srv, b, "store", cs)
	})
	t.Run("TwoPages", func(t *testing.T) {
		b := newBucket(t, srv)
		fakeObjects(t, filepath.Join(srv.Dir, b, "store"), 1100)
		makeS3(t, srv, srv.URL(b, "store"), storage.Options{ListBeforeWrite: -1}, cs[:40])
		c.reset()
		makeS3(t, srv, c.url(b, "store"), storage.Options{ListBeforeWrite: 2000}, cs)
		if h, p, l := c.get("HEAD"), c.get("PUT"), c.get("LIST"); h != 0 || p != 40 || l != 2 {
			t.Errorf("make into a store of 1,140 objects: %d HEADs, %d PUTs, %d LISTs; want 0, 40, 2", h, p, l)
		}
		wantObjects(t, srv, b, "store", cs)
	})
	t.Run("PastBound", func(t *testing.T) {
		b := newBucket(t, srv)
		fakeObjects(t, filepath.Join(srv.Dir, b, "store"), 1100)
		makeS3(t, srv, srv.URL(b, "store"), storage.Options{ListBeforeWrite: -1}, cs[:40])
		c.reset()
		makeS3(t, srv, c.url(b, "store"), storage.Options{ListBeforeWrite: 1000}, cs)
		if h, p, l := c.get("HEAD"), c.get("PUT"), c.get("LIST"); h != len(cs) || p != 40 || l != 2 {
			t.Errorf("make into a store past the bound: %d HEADs, %d PUTs, %d LISTs; want %d, 40, 2", h, p, l, len(cs))
		}
		wantObjects(t, srv, b, "store", cs)
	})
	t.Run("ListingFails", func(t *testing.T) {
		b := newBucket(t, srv)
		makeS3(t, srv, srv.URL(b, "store"), storage.Options{}, cs[:40])
		c.reset()
		c.failLists.Store(1)
		makeS3(t, srv, c.url(b, "store"), storage.Options{}, cs)
		if h, p, l := c.get("HEAD"), c.get("PUT"), c.get("LIST"); h != len(cs) || p != 40 || l != 1 {
			t.Errorf("make after a failed listing: %d HEADs, %d PUTs, %d LISTs; want %d, 40, 1", h, p, l, len(cs))
		}
		wantObjects(t, srv, b, "store", cs)
	})
	t.Run("ConcurrentWriter", func(t *testing.T) {
		// Another writer stores chunks after this one listed the store:
		// they are uploaded again (the same bytes), and all are there.
		b := newBucket(t, srv)
		ctx := context.Background()
		st, err := storage.Open(ctx, c.url(b, "store"), storage.Options{Credentials: rootKeys(srv)})
		if err != nil {
			t.Fatal(err)
		}
		u := storage.NewUploads(ctx, st.(chunk.WriteStore), storage.UploadOptions{ListWait: -1} /* requests counted do not depend on timing */)
		defer u.Close()
		if has, err := u.HasChunk(ctx, cs[0].ID()); err != nil || has { // lists the empty store
			t.Fatalf("HasChunk in an empty store: %v, %v", has, err)
		}
		makeS3(t, srv, srv.URL(b, "store"), storage.Options{}, cs[:40])
		c.reset()
		for _, ch := range cs {
			has, err := u.HasChunk(ctx, ch.ID())
			if err == nil && !has {
				err = u.StoreChunk(ctx, ch)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := u.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if h, p := c.get("HEAD"), c.get("PUT"); h != 0 || p != len(cs) {
			t.Errorf("make beside another writer: %d HEADs, %d PUTs; want 0, %d", h, p, len(cs))
		}
		wantObjects(t, srv, b, "store", cs)
	})
}
