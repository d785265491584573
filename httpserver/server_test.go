package httpserver_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/httpserver"
	"github.com/folbricht/desync/storage"
	httpstore "github.com/folbricht/desync/storage-http"
	"github.com/folbricht/desync/storage/storagetest"
)

func do(t *testing.T, method, u string, body []byte, hdr ...string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func chunkPath(id chunk.ID, suffix string) string {
	h := id.String()
	return h[:4] + "/" + h + suffix
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// TestChunkServerUploads: a writable server stores a valid chunk; a
// tampered one (content of another chunk, garbage, a flipped bit, too
// large) is refused with a 4xx and nothing is stored; a read-only server
// refuses every PUT.
func TestChunkServerUploads(t *testing.T) {
	zstd, _ := chunk.NewZstd(chunk.ZstdOptions{})
	l := newLocal(t, storage.LocalOptions{})
	_, base := startChunkServer(t, l, httpserver.ChunkServerOptions{Writable: true, MaxChunkSize: 64 << 10})
	good := randomChunk(t, 4000, chunk.SHA512_256)
	other := randomChunk(t, 4000, chunk.SHA512_256)
	goodZ, _ := good.Stored(zstd)
	otherZ, _ := other.Stored(zstd)
	flipped := bytes.Clone(goodZ)
	flipped[len(flipped)/2] ^= 1
	huge := randomChunk(t, 100<<10, chunk.SHA512_256)
	hugeZ, _ := huge.Stored(zstd)
	for _, tc := range []struct {
		name string
		id   chunk.ID
		body []byte
		want int
		msg  string // in the response; "" for any
	}{
		{"OtherChunkContent", good.ID(), otherZ, http.StatusUnprocessableEntity, "does not match its ID"},
		{"Garbage", good.ID(), []byte("not a chunk at all"), http.StatusUnprocessableEntity, "does not decode"},
		{"FlippedBit", good.ID(), flipped, http.StatusUnprocessableEntity, ""},
		{"Plain", good.ID(), mustPlain(t, good), http.StatusUnprocessableEntity, "does not decode"},
		{"Empty", good.ID(), []byte{}, http.StatusUnprocessableEntity, "does not decode"},
		{"TooLarge", huge.ID(), hugeZ, http.StatusRequestEntityTooLarge, "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, http.MethodPut, base+chunkPath(tc.id, ".cacnk"), tc.body)
			if code != tc.want || !bytes.Contains(body, []byte(tc.msg)) {
				t.Errorf("PUT: status %d %q, want %d %q", code, body, tc.want, tc.msg)
			}
			l.Flush(context.Background())
			if n := countFiles(t, l.String()); n != 0 {
				t.Errorf("%d files in the store after a refused upload, want 0", n)
			}
		})
	}
	// Through the client: refused permanently, and reported.
	s := newClient(t, base, storage.Options{})
	if err := s.StoreChunk(context.Background(), chunk.NewStored(good.ID(), otherZ, zstd)); err == nil || storage.IsTransient(err) || !strings.Contains(err.Error(), "422") {
		t.Errorf("StoreChunk of a tampered chunk: %v, want a permanent 422 error", err)
	}
	if code, _ := do(t, http.MethodPut, base+chunkPath(good.ID(), ".cacnk"), goodZ); code != http.StatusOK {
		t.Fatalf("PUT of a valid chunk: status %d, want 200", code)
	}
	// Durable and visible in the directory as soon as the PUT is answered.
	if _, err := os.Stat(l.Path(good.ID())); err != nil {
		t.Errorf("valid upload not in the store's directory after 200: %v", err)
	}
	// Wrong paths.
	for _, p := range []string{"", "abcd", chunkPath(good.ID(), ""), chunkPath(good.ID(), ".cacnk") + "x",
		"0000/" + good.ID().String() + ".cacnk", strings.ToUpper(chunkPath(good.ID(), "")) + ".cacnk",
		strings.Replace(chunkPath(good.ID(), ".cacnk"), "/", "%2F", 1)} {
		if code, _ := do(t, http.MethodGet, base+p, nil); code != http.StatusBadRequest {
			t.Errorf("GET /%s: status %d, want 400", p, code)
		}
	}

	// Read-only.
	l2 := newLocal(t, storage.LocalOptions{})
	_, ro := startChunkServer(t, l2, httpserver.ChunkServerOptions{})
	if code, _ := do(t, http.MethodPut, ro+chunkPath(good.ID(), ".cacnk"), goodZ); code != http.StatusMethodNotAllowed {
		t.Errorf("PUT to a read-only server: status %d, want 405", code)
	}
	if code, _ := do(t, http.MethodDelete, ro+chunkPath(good.ID(), ".cacnk"), nil); code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: status %d, want 405", code)
	}
	if n := countFiles(t, l2.String()); n != 0 {
		t.Errorf("read-only server stored %d files", n)
	}
}

func mustPlain(t *testing.T, c *chunk.Chunk) []byte {
	b, err := c.Plain()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChunkServerForms: a compressed server serves zstd chunks from a
// plain store and an uncompressed one plain chunks from a zstd store,
// converting; HEAD answers existence.
func TestChunkServerForms(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name                   string
		storePlain, servePlain bool
	}{
		{"ZstdFromZstd", false, false},
		{"ZstdFromPlain", true, false},
		{"PlainFromZstd", false, true},
		{"PlainFromPlain", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLocal(t, storage.LocalOptions{Uncompressed: tc.storePlain})
			c := randomChunk(t, 3000, chunk.SHA512_256)
			if err := l.StoreChunk(ctx, c); err != nil {
				t.Fatal(err)
			}
			l.Flush(ctx)
			// Behind a Dedup (as the CLI serves), or a Router (no fast path).
			for _, s := range []chunk.Store{storage.NewDedup(l), storage.NewRouter(l)} {
				_, base := startChunkServer(t, s, httpserver.ChunkServerOptions{Uncompressed: tc.servePlain})
				cl := newClient(t, base, storage.Options{Uncompressed: tc.servePlain})
				got, err := cl.GetChunk(ctx, c.ID())
				if err != nil {
					t.Fatalf("%T: GetChunk: %v", s, err)
				}
				if !bytes.Equal(mustPlain(t, got), mustPlain(t, c)) {
					t.Fatalf("%T: content differs", s)
				}
				// A fetched zstd frame is kept: a local cache behind the
				// client stores it without encoding it again.
				if z, _ := chunk.NewZstd(chunk.ZstdOptions{}); !tc.servePlain {
					if _, ok := got.StoredAs(z); !ok {
						t.Errorf("%T: the fetched chunk did not keep its zstd frame", s)
					}
				}
				suffix := ".cacnk"
				if tc.servePlain {
					suffix = ""
				}
				code, body := do(t, http.MethodGet, base+chunkPath(c.ID(), suffix), nil)
				if code != 200 || tc.servePlain != bytes.Equal(body, mustPlain(t, c)) {
					t.Errorf("%T: GET: %d, plain body %v, want 200, %v", s, code, !tc.servePlain, tc.servePlain)
				}
				resp, err := http.Get(base + chunkPath(c.ID(), suffix))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
					t.Errorf("%T: GET: Cache-Control %q, want immutable", s, cc)
				}
				if code, _ := do(t, http.MethodHead, base+chunkPath(c.ID(), suffix), nil); code != 200 {
					t.Errorf("%T: HEAD of a stored chunk: %d, want 200", s, code)
				}
				if code, _ := do(t, http.MethodHead, base+chunkPath(randomChunk(t, 5, 0).ID(), suffix), nil); code != 404 {
					t.Errorf("%T: HEAD of a missing chunk: %d, want 404", s, code)
				}
			}
		})
	}
}

// TestAuthorization: with an expected Authorization value, requests
// without it or with a wrong one get 401 (also /metrics); the client with
// the right value works.
func TestAuthorization(t *testing.T) {
	l := newLocal(t, storage.LocalOptions{})
	c := randomChunk(t, 100, chunk.SHA512_256)
	l.StoreChunk(context.Background(), c)
	_, base := startChunkServer(t, l, httpserver.ChunkServerOptions{Authorization: "Bearer secret", Metrics: httpserver.NewMetrics(), Writable: true})
	p := base + chunkPath(c.ID(), ".cacnk")
	for _, tc := range []struct {
		name string
		hdr  []string
		want int
	}{
		{"None", nil, 401},
		{"Wrong", []string{"Authorization", "Bearer secreT"}, 401},
		{"Prefix", []string{"Authorization", "Bearer secre"}, 401},
		{"Longer", []string{"Authorization", "Bearer secret2"}, 401},
		{"Right", []string{"Authorization", "Bearer secret"}, 200},
	} {
		for _, u := range []string{p, base + "metrics"} {
			if code, body := do(t, http.MethodGet, u, nil, tc.hdr...); code != tc.want {
				t.Errorf("%s: GET %s: %d, want %d", tc.name, u, code, tc.want)
			} else if code == 401 && bytes.Contains(body, []byte("secret")) {
				t.Errorf("%s: the 401 response quotes the secret", tc.name)
			}
		}
	}
	if code, _ := do(t, http.MethodPut, p, []byte("x")); code != 401 {
		t.Errorf("PUT without authorization: %d, want 401", code)
	}
	bad := newClient(t, base, storage.Options{HTTPAuth: "Bearer nope"})
	if _, err := bad.GetChunk(context.Background(), c.ID()); err == nil || storage.IsTransient(err) || !strings.Contains(err.Error(), "401") {
		t.Errorf("client with a wrong http-auth: %v, want a permanent 401 error", err)
	}
	good := newClient(t, base, storage.Options{HTTPAuth: "Bearer secret"})
	if _, err := good.GetChunk(context.Background(), c.ID()); err != nil {
		t.Errorf("client with the right http-auth: %v", err)
	}
}

// TestNoErrorDetails: a failing backend gives a 500 with a fixed message;
// the error itself goes to the log only.
func TestNoErrorDetails(t *testing.T) {
	l := newLocal(t, storage.LocalOptions{})
	c := randomChunk(t, 100, chunk.SHA512_256)
	l.StoreChunk(context.Background(), c)
	l.Flush(context.Background())
	p := l.Path(c.ID())
	os.Chmod(p, 0o644)
	os.WriteFile(p, []byte("secret-internal-path-and-garbage"), 0o644)
	var logbuf bytes.Buffer
	// A Router: no fast path, so the store's own read (and its error) is used.
	_, base := startChunkServer(t, storage.NewRouter(l), httpserver.ChunkServerOptions{Logger: newLogger(&logbuf)})
	code, body := do(t, http.MethodGet, base+chunkPath(c.ID(), ".cacnk"), nil)
	if code != 500 || bytes.Contains(body, []byte(l.String())) || bytes.Contains(body, []byte("invalid")) {
		t.Errorf("GET of a corrupt chunk: %d %q, want 500 without details", code, body)
	}
	if !strings.Contains(logbuf.String(), c.ID().String()) {
		t.Errorf("the error was not logged: %q", logbuf.String())
	}
}

// TestMetrics: /metrics has the request counters by operation and result,
// bytes and latency, and no chunk ID.
func TestMetrics(t *testing.T) {
	l := newLocal(t, storage.LocalOptions{})
	m := httpserver.NewMetrics()
	_, base := startChunkServer(t, l, httpserver.ChunkServerOptions{Writable: true, Metrics: m})
	s := newClient(t, base, storage.Options{})
	c := randomChunk(t, 1000, chunk.SHA512_256)
	ctx := context.Background()
	s.GetChunk(ctx, c.ID())
	s.StoreChunk(ctx, c)
	s.GetChunk(ctx, c.ID())
	s.HasChunk(ctx, c.ID())
	code, body := do(t, http.MethodGet, base+"metrics", nil)
	if code != 200 {
		t.Fatalf("GET /metrics: %d", code)
	}
	text := string(body)
	for _, want := range []string{
		`desync_http_requests_total{operation="get",result="ok",server="chunk"} 1`,
		`desync_http_requests_total{operation="get",result="not_found",server="chunk"} 1`,
		`desync_http_requests_total{operation="put",result="ok",server="chunk"} 1`,
		`desync_http_requests_total{operation="head",result="ok",server="chunk"} 1`,
		`desync_http_request_bytes_total{operation="put",server="chunk"}`,
		`desync_http_response_bytes_total{operation="get",server="chunk"}`,
		`desync_http_request_duration_seconds_bucket{operation="get",server="chunk",le="0.005"}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(text, c.ID().String()[:16]) {
		t.Error("/metrics holds a chunk ID")
	}
}

// TestIndexServer: GET, HEAD, PUT (validated, atomic) of index files, and
// every way out of the directory refused.
func TestIndexServer(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "indexes")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(parent, "secret.caibx"), []byte("outside"), 0o644)
	os.Symlink(filepath.Join(parent, "secret.caibx"), filepath.Join(dir, "link.caibx"))
	os.Symlink("..", filepath.Join(dir, "up"))
	os.WriteFile(filepath.Join(dir, ".hidden.caibx"), []byte("hidden"), 0o644)

	var ix bytes.Buffer
	idx := caindex.New(chunk.SHA512_256, 16<<10, 64<<10, 256<<10)
	idx.Chunks = []caindex.Chunk{{ID: randomChunk(t, 10, 0).ID(), Start: 0, Size: 20000}}
	idx.WriteTo(&ix)

	is, err := httpserver.NewIndexServer(dir, httpserver.IndexServerOptions{Writable: true, Metrics: httpserver.NewMetrics()})
	if err != nil {
		t.Fatal(err)
	}
	defer is.Close()
	srv := httptest.NewServer(is)
	defer srv.Close()

	if code, _ := do(t, http.MethodPut, srv.URL+"/a.caibx", ix.Bytes()); code != 200 {
		t.Fatalf("PUT a valid index: %d", code)
	}
	if code, body := do(t, http.MethodGet, srv.URL+"/a.caibx", nil); code != 200 || !bytes.Equal(body, ix.Bytes()) {
		t.Fatalf("GET: %d, body equal %v", code, bytes.Equal(body, ix.Bytes()))
	}
	if code, _ := do(t, http.MethodHead, srv.URL+"/a.caibx", nil); code != 200 {
		t.Errorf("HEAD: %d", code)
	}
	if code, _ := do(t, http.MethodGet, srv.URL+"/b.caibx", nil); code != 404 {
		t.Errorf("GET of a missing index: %d, want 404", code)
	}
	if code, _ := do(t, http.MethodPut, srv.URL+"/bad.caibx", []byte("not an index")); code != 422 {
		t.Errorf("PUT of garbage: %d, want 422", code)
	}
	if code, _ := do(t, http.MethodPut, srv.URL+"/bad.caibx", ix.Bytes()[:ix.Len()-1]); code != 422 {
		t.Errorf("PUT of a truncated index: %d, want 422", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.caibx")); err == nil {
		t.Error("garbage stored")
	}

	for _, p := range []string{
		"/../secret.caibx", "/..%2fsecret.caibx", "/%2e%2e/secret.caibx", "/%2E%2E%2Fsecret.caibx",
		"/up/secret.caibx", "/up%2Fsecret.caibx", "/..%5csecret.caibx", "/.hidden.caibx", "/.", "/..",
		"/", "/metrics%00", "/a.caibx%0a",
	} {
		for _, m := range []string{http.MethodGet, http.MethodPut} {
			code, body := rawRequest(t, srv.Listener.Addr().String(), m, p, ix.Bytes())
			if code != 400 && code != 404 {
				t.Errorf("%s %s: %d, want 400 or 404", m, p, code)
			}
			if bytes.Contains(body, []byte("outside")) || bytes.Contains(body, []byte("hidden")) && code == 200 {
				t.Errorf("%s %s: served a file it must not", m, p)
			}
		}
	}
	if code, body := do(t, http.MethodGet, srv.URL+"/link.caibx", nil); code != 404 || bytes.Contains(body, []byte("outside")) {
		t.Errorf("GET through a symlink leading outside: %d %q, want 404", code, body)
	}
	if b, _ := os.ReadFile(filepath.Join(parent, "secret.caibx")); string(b) != "outside" {
		t.Error("the file outside the directory was changed")
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 2 {
		t.Errorf("files appeared next to the index directory: %v", entries)
	}

	ro, err := httpserver.NewIndexServer(dir, httpserver.IndexServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	srv2 := httptest.NewServer(ro)
	defer srv2.Close()
	if code, _ := do(t, http.MethodPut, srv2.URL+"/c.caibx", ix.Bytes()); code != 405 {
		t.Errorf("PUT to a read-only index server: %d, want 405", code)
	}
}

// TestIndexServerOnlyIndexes: the index server serves and accepts index
// files only: other names (GET, HEAD, PUT, even with a valid index as the
// body) and files with an index's name that are not indexes get 400, and
// their content is never sent.
func TestIndexServerOnlyIndexes(t *testing.T) {
	dir := t.TempDir()
	var ix bytes.Buffer
	idx := caindex.New(chunk.SHA512_256, 16<<10, 64<<10, 256<<10)
	idx.Chunks = []caindex.Chunk{{ID: randomChunk(t, 10, 0).ID(), Start: 0, Size: 20000}}
	idx.WriteTo(&ix)
	for name, b := range map[string][]byte{
		"notes.txt": []byte("private notes"), "noext": []byte("private notes"), "index.CAIBX": ix.Bytes(),
		"index.caibx.bak": ix.Bytes(), "fake.caibx": []byte("private notes, named as an index"),
		"good.caibx": ix.Bytes(), "good.caidx": ix.Bytes(),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	is, err := httpserver.NewIndexServer(dir, httpserver.IndexServerOptions{Writable: true, Logger: newLogger(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	defer is.Close()
	srv := httptest.NewServer(is)
	defer srv.Close()
	for _, tc := range []struct {
		name string
		get  int // GET and HEAD
		put  int // PUT of a valid index
	}{
		{"notes.txt", 400, 400},
		{"noext", 400, 400},
		{"index.CAIBX", 400, 400},
		{"index.caibx.bak", 400, 400},
		{"new.txt", 400, 400},
		{"metrics", 400, 400},
		{"fake.caibx", 400, 200},
		{"good.caibx", 200, 200},
		{"good.caidx", 200, 200},
	} {
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPut} {
			want, body := tc.get, []byte(nil)
			if m == http.MethodPut {
				want, body = tc.put, ix.Bytes()
			}
			code, got := do(t, m, srv.URL+"/"+tc.name, body)
			if code != want {
				t.Errorf("%s /%s: %d, want %d", m, tc.name, code, want)
			}
			if bytes.Contains(got, []byte("private")) {
				t.Errorf("%s /%s: sent the content of a file that is not an index", m, tc.name)
			}
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "private notes" {
		t.Error("a PUT replaced a file that is not an index")
	}
	if _, err := os.Stat(filepath.Join(dir, "new.txt")); err == nil {
		t.Error("a PUT created a file that is not named as an index")
	}
}

// rawRequest sends a request line exactly as given (no client-side path
// cleaning or escaping) and returns the status and body.
func rawRequest(t *testing.T, addr, method, path string, body []byte) (int, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req, _ := http.NewRequest(method, "http://"+addr+"/", bytes.NewReader(body))
	req.URL.Opaque = path
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufioReader(conn), req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestTLS: verification failures are permanent errors unless
// TrustInsecure; a CA file makes the server trusted; mutual TLS refuses a
// client without a certificate.
func TestTLS(t *testing.T) {
	p := newPKI(t)
	l := newLocal(t, storage.LocalOptions{})
	c := randomChunk(t, 500, chunk.SHA512_256)
	l.StoreChunk(context.Background(), c)
	cs, err := httpserver.NewChunkServer(l, httpserver.ChunkServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tlsURL := serveTLS(t, cs, httpserver.ServeOptions{CertFile: p.certFile, KeyFile: p.keyFile})
	mtlsURL := serveTLS(t, cs, httpserver.ServeOptions{CertFile: p.certFile, KeyFile: p.keyFile, MutualTLS: true, ClientCAFile: p.caFile})
	for _, tc := range []struct {
		name string
		url  string
		o    storage.Options
		ok   bool
	}{
		{"SystemRoots", tlsURL, storage.Options{}, false},
		{"WrongCA", tlsURL, storage.Options{CACert: p.otherCA}, false},
		{"CA", tlsURL, storage.Options{CACert: p.caFile}, true},
		{"TrustInsecure", tlsURL, storage.Options{TrustInsecure: true}, true},
		{"MutualNoCert", mtlsURL, storage.Options{CACert: p.caFile}, false},
		{"MutualCert", mtlsURL, storage.Options{CACert: p.caFile, ClientCert: p.clientCert, ClientKey: p.clientKey}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newClient(t, tc.url, tc.o)
			_, err := s.GetChunk(context.Background(), c.ID())
			if tc.ok && err != nil {
				t.Fatalf("GetChunk: %v", err)
			}
			if !tc.ok {
				if err == nil {
					t.Fatal("GetChunk succeeded, want a TLS error")
				}
				if storage.IsTransient(err) {
					t.Errorf("TLS failure %q is transient, want permanent (not retried)", err)
				}
			}
		})
	}
	if _, err := httpstore.NewStore(mustURL(t, tlsURL), storage.Options{ClientCert: p.clientCert}); err == nil {
		t.Error("a client certificate without a key was accepted")
	}
}

// TestGracefulShutdown: when Serve's context ends, a request in flight
// finishes with its response, new connections are refused, and Serve
// returns nil.
func TestGracefulShutdown(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- httpserver.Serve(ctx, h, []net.Listener{ln}, httpserver.ServeOptions{}) }()
	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/x")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- result{string(b), err}
	}()
	<-started
	cancel()
	// The listener closes: new connections fail (retry briefly, the
	// shutdown runs concurrently).
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	default:
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "done" {
		t.Errorf("in-flight request: %q, %v; want done", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v, want nil", err)
	}
}

// TestSetStore: a replaced store serves new requests; the old one is
// closed.
func TestSetStore(t *testing.T) {
	ctx := context.Background()
	a, b := newLocal(t, storage.LocalOptions{}), newLocal(t, storage.LocalOptions{})
	ca, cb := randomChunk(t, 100, 0), randomChunk(t, 100, 0)
	a.StoreChunk(ctx, ca)
	b.StoreChunk(ctx, cb)
	cs, base := startChunkServer(t, a, httpserver.ChunkServerOptions{})
	cl := newClient(t, base, storage.Options{})
	if _, err := cl.GetChunk(ctx, ca.ID()); err != nil {
		t.Fatal(err)
	}
	if err := cs.SetStore(b); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.GetChunk(ctx, cb.ID()); err != nil {
		t.Errorf("after SetStore: %v", err)
	}
	if _, err := cl.GetChunk(ctx, ca.ID()); !errors.Is(err, chunk.ErrMissing) {
		t.Errorf("old store's chunk after SetStore: %v, want missing", err)
	}
	if cs.Store() != chunk.Store(b) {
		t.Error("Store() is not the new store")
	}
}

// gatedStore holds every StoreChunk until released, and says when one
// starts.
type gatedStore struct {
	*storage.Local
	entered chan chunk.ID
	release chan struct{}
}

func (s *gatedStore) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	s.entered <- c.ID()
	<-s.release
	return s.Local.StoreChunk(ctx, c)
}

// TestMaxUploads: with MaxUploads 1, or an upload memory budget that
// holds one upload's body but not two, a second upload is not even read
// while the first is being stored; both complete once it is.
func TestMaxUploads(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    httpserver.ChunkServerOptions
	}{
		{"MaxUploads", httpserver.ChunkServerOptions{MaxUploads: 1}},
		// Chunks of 4000 random bytes: about 4020 stored; the budget is
		// raised to one largest body (4000 + 4000/256 + 62 + 22 bytes, and 1).
		{"MaxUploadBytes", httpserver.ChunkServerOptions{MaxUploadBytes: 6000, MaxChunkSize: 4000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zstd, _ := chunk.NewZstd(chunk.ZstdOptions{})
			g := &gatedStore{Local: newLocal(t, storage.LocalOptions{}), entered: make(chan chunk.ID, 2), release: make(chan struct{})}
			o := tc.o
			o.Writable = true
			_, base := startChunkServer(t, g, o)
			// Released at the latest before the server closes, which waits
			// for the uploads held in the store.
			var once sync.Once
			release := func() { once.Do(func() { close(g.release) }) }
			t.Cleanup(release)
			results := make(chan error, 2)
			put := func(c *chunk.Chunk) {
				z, _ := c.Stored(zstd)
				req, _ := http.NewRequest(http.MethodPut, base+chunkPath(c.ID(), ".cacnk"), bytes.NewReader(z))
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = errors.New(resp.Status)
					}
				}
				results <- err
			}
			a, b := randomChunk(t, 4000, chunk.SHA512_256), randomChunk(t, 4000, chunk.SHA512_256)
			go put(a)
			if id := <-g.entered; id != a.ID() {
				t.Fatalf("stored %s first, want %s", id, a.ID())
			}
			go put(b)
			select {
			case id := <-g.entered:
				t.Fatalf("chunk %s reached the store while another upload held the only slot", id)
			case <-time.After(200 * time.Millisecond):
			}
			release()
			if id := <-g.entered; id != b.ID() {
				t.Fatalf("second upload stored %s, want %s", id, b.ID())
			}
			for range 2 {
				if err := <-results; err != nil {
					t.Errorf("upload: %v", err)
				}
			}
		})
	}
}

// TestFileFastPath: a GET sends the local store's file as it is only when
// the wrappers in between pass reads through; a wrapper that refuses reads
// (here a store that is down) is asked, as HEAD asks it.
func TestFileFastPath(t *testing.T) {
	l := newLocal(t, storage.LocalOptions{})
	c := randomChunk(t, 100, chunk.SHA512_256)
	l.StoreChunk(context.Background(), c)
	l.Flush(context.Background())
	file, err := os.ReadFile(l.Path(c.ID()))
	if err != nil {
		t.Fatal(err)
	}
	p := chunkPath(c.ID(), ".cacnk")

	_, base := startChunkServer(t, storage.NewDedup(storage.NewRetry(l, storage.RetryOptions{})), httpserver.ChunkServerOptions{})
	if code, body := do(t, http.MethodGet, base+p, nil); code != 200 || !bytes.Equal(body, file) {
		t.Errorf("GET through Dedup and Retry: %d, %d bytes; want 200 and the chunk file", code, len(body))
	}

	down := storagetest.NewDown(l, errors.New("store is down"))
	_, base = startChunkServer(t, down, httpserver.ChunkServerOptions{Logger: newLogger(io.Discard)})
	if code, _ := do(t, http.MethodGet, base+p, nil); code != 500 {
		t.Errorf("GET through a store that is down: %d, want 500", code)
	}
}

// get returns the status, Cache-Control and body of a GET of u.
func get(t *testing.T, u string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Cache-Control"), b
}

// TestVerifiedReads: a corrupt chunk file in a local store is never sent
// with 200 when reads are verified (through the fast path or GetChunk), and
// never marked immutable; with SkipVerifyRead it is sent as it is, but
// without "immutable". A good chunk is 200 and immutable when verified; a
// chunk file changed after it was verified is verified again.
func TestVerifiedReads(t *testing.T) {
	ctx := context.Background()
	zstd, _ := chunk.NewZstd(chunk.ZstdOptions{})
	for _, tc := range []struct {
		name       string
		skipVerify bool
		wrap       func(chunk.Store) chunk.Store
	}{
		{"FastPath", false, func(s chunk.Store) chunk.Store { return storage.NewDedup(s) }},
		{"FastPathSkipVerify", true, func(s chunk.Store) chunk.Store { return storage.NewDedup(s) }},
		{"GetChunk", false, func(s chunk.Store) chunk.Store { return storage.NewRouter(s) }},
		{"GetChunkSkipVerify", true, func(s chunk.Store) chunk.Store { return storage.NewRouter(s) }},
		// A cache forwards the fast path to its cache store (the store
		// behind it is down: every read must come from the cache).
		{"FastPathCache", false, func(s chunk.Store) chunk.Store {
			return storage.NewCache(storagetest.NewDown(s, errors.New("down")), s.(chunk.WriteStore), storage.CacheOptions{})
		}},
		{"FastPathCacheSkipVerify", true, func(s chunk.Store) chunk.Store {
			return storage.NewCache(storagetest.NewDown(s, errors.New("down")), s.(chunk.WriteStore), storage.CacheOptions{})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLocal(t, storage.LocalOptions{SkipVerify: tc.skipVerify})
			good, bad, other := randomChunk(t, 5000, 0), randomChunk(t, 5000, 0), randomChunk(t, 5000, 0)
			for _, c := range []*chunk.Chunk{good, bad} {
				if err := l.StoreChunk(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			l.Flush(ctx)
			// bad's file holds another chunk's frame: it decodes, but to
			// content that does not hash to its name.
			otherZ, _ := other.Stored(zstd)
			corrupt(t, l.Path(bad.ID()), otherZ)
			goodFile, _ := os.ReadFile(l.Path(good.ID()))

			_, base := startChunkServer(t, tc.wrap(l), httpserver.ChunkServerOptions{SkipVerifyRead: tc.skipVerify, Logger: newLogger(io.Discard)})
			code, cc, body := get(t, base+chunkPath(bad.ID(), ".cacnk"))
			if strings.Contains(cc, "immutable") {
				t.Errorf("corrupt chunk: Cache-Control %q, want no immutable", cc)
			}
			if !tc.skipVerify && code == http.StatusOK {
				t.Errorf("corrupt chunk: %d, want an error status", code)
			}
			if tc.skipVerify && strings.HasPrefix(tc.name, "FastPath") && (code != http.StatusOK || !bytes.Equal(body, otherZ)) {
				t.Errorf("corrupt chunk with SkipVerifyRead: %d, %d bytes; want 200 and the file as it is", code, len(body))
			}
			code, cc, body = get(t, base+chunkPath(good.ID(), ".cacnk"))
			if code != http.StatusOK || strings.Contains(cc, "immutable") == tc.skipVerify {
				t.Errorf("good chunk: %d, Cache-Control %q; want 200, immutable %v", code, cc, !tc.skipVerify)
			}
			if strings.HasPrefix(tc.name, "FastPath") && !bytes.Equal(body, goodFile) {
				t.Errorf("good chunk: the body is not the chunk file")
			}
			if tc.skipVerify {
				return
			}
			// The good chunk's file is corrupted after it was served
			// (verified, and remembered): it is verified again.
			corrupt(t, l.Path(good.ID()), otherZ)
			for range 2 {
				if code, cc, _ := get(t, base+chunkPath(good.ID(), ".cacnk")); code == http.StatusOK || strings.Contains(cc, "immutable") {
					t.Errorf("chunk corrupted after being served: %d, Cache-Control %q; want an error without immutable", code, cc)
				}
			}
		})
	}
}

// corrupt replaces the content of a chunk file, and moves its modification
// time, which coarse file system clocks might otherwise leave unchanged.
func corrupt(t *testing.T, path string, content []byte) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, time.Time{}, fi.ModTime().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
}

// countingBody is a request body of n bytes that records how many were
// read.
type countingBody struct{ n, read int64 }

func (b *countingBody) Read(p []byte) (int, error) {
	if b.read >= b.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), b.n-b.read)
	clear(p[:k])
	b.read += k
	return int(k), nil
}

// TestUploadSizeCap: the upload cap is the largest stored form of a chunk
// of the maximum size (zstd's worst case, or the size itself
// uncompressed). A PUT declaring more is 413 before any of its body is
// read; one without a Content-Length is 413 after at most cap+1 bytes.
// Over TCP, a PUT whose body is never sent is answered 413 at once.
func TestUploadSizeCap(t *testing.T) {
	const maxChunk = 64 << 10
	for _, tc := range []struct {
		name         string
		uncompressed bool
		cap          int64
	}{
		// 64 KiB + 64 KiB/256 + (128 KiB - 64 KiB)/2048 + 22
		{"Zstd", false, 65536 + 256 + 32 + 22},
		{"Uncompressed", true, 65536},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, base := startChunkServer(t, newLocal(t, storage.LocalOptions{Uncompressed: tc.uncompressed}),
				httpserver.ChunkServerOptions{Writable: true, MaxChunkSize: maxChunk, Uncompressed: tc.uncompressed})
			if got := cs.MaxBody(); got != tc.cap {
				t.Fatalf("upload cap %d, want %d", got, tc.cap)
			}
			path := "/" + chunkPath(randomChunk(t, 10, 0).ID(), ".cacnk")
			if tc.uncompressed {
				path = strings.TrimSuffix(path, ".cacnk")
			}
			for _, declared := range []bool{true, false} {
				body := &countingBody{n: tc.cap + 1000}
				req := httptest.NewRequest(http.MethodPut, path, body)
				req.ContentLength = -1
				if declared {
					req.ContentLength = tc.cap + 1
				}
				rec := httptest.NewRecorder()
				cs.ServeHTTP(rec, req)
				if rec.Code != http.StatusRequestEntityTooLarge {
					t.Errorf("Content-Length %d: status %d, want 413", req.ContentLength, rec.Code)
				}
				if limit := map[bool]int64{true: 0, false: tc.cap + 1}[declared]; body.read > limit {
					t.Errorf("Content-Length %d: %d bytes of the body read, want at most %d", req.ContentLength, body.read, limit)
				}
			}
			// A chunk of the maximum size, incompressible, fits.
			c := randomChunk(t, maxChunk, 0)
			z, _ := chunk.NewZstd(chunk.ZstdOptions{})
			stored, suffix := mustPlain(t, c), ""
			if !tc.uncompressed {
				stored, _ = c.Stored(z)
				suffix = ".cacnk"
			}
			if code, body := do(t, http.MethodPut, base+chunkPath(c.ID(), suffix), stored); code != 200 {
				t.Errorf("PUT of a %d-byte chunk (%d stored): %d %s", maxChunk, len(stored), code, body)
			}
			code := putHeadersOnly(t, strings.TrimPrefix(strings.TrimSuffix(base, "/"), "http://"), path, tc.cap+1)
			if code != http.StatusRequestEntityTooLarge {
				t.Errorf("PUT over TCP declaring %d bytes: %d, want 413", tc.cap+1, code)
			}
		})
	}
}

// putHeadersOnly sends the head of a PUT declaring n bytes of body, sends
// no body, and returns the status the server answers with.
func putHeadersOnly(t *testing.T, addr, path string, n int64) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Only a guard against a server that waits for the body: the test
	// fails then, it never passes by timing.
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, "PUT "+path+" HTTP/1.1\r\nHost: "+addr+"\r\nContent-Length: "+strconv.FormatInt(n, 10)+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufioReader(conn), nil)
	if err != nil {
		t.Fatalf("PUT %s declaring %d bytes, none sent: %v", path, n, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
