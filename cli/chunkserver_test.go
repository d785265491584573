package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHTTPExtractFromChunkServer: our client extracts through our
// chunk-server (compressed, uncompressed, with a cache), and a chunk
// missing from the served store is reported as missing.
func TestHTTPExtractFromChunkServer(t *testing.T) {
	f := newFixture(t)
	u := startServer(t, "chunk-server", "-s", f.store)
	extractOK(t, f.data, f.index, "-s", u)
	// A cache in front of the server fills up.
	cache := filepath.Join(f.dir, "cache")
	extractOK(t, f.data, f.index, "-s", u, "-c", cache)
	assertSameIDs(t, "cache", storeChunks(t, cache), f.ids)

	// Uncompressed serving of a compressed store, read by an uncompressed client.
	uu := startServer(t, "chunk-server", "-u", "-s", f.store)
	cfg := writeFile(t, filepath.Join(f.dir, "config.json"), []byte(fmt.Sprintf(`{"store-options": {%q: {"uncompressed": true}}}`, uu)))
	extractOK(t, f.data, f.index, "--config", cfg, "-s", uu)

	// A router: a server of an empty store first, then the full one: the 404s fall through.
	empty := filepath.Join(f.dir, "empty")
	os.Mkdir(empty, 0o755)
	ue := startServer(t, "chunk-server", "-s", empty)
	extractOK(t, f.data, f.index, "-s", ue, "-s", u)
	extractFails(t, []string{"missing", ue}, f.index, "-s", ue)
}

// TestHTTPCasyncExtract: the real casync (through Debian's casync-http
// helper) extracts from our chunk-server.
func TestHTTPCasyncExtract(t *testing.T) {
	casync := casyncPath(t)
	f := newFixture(t)
	big := filepath.Join(f.dir, "big.bin")
	writeFile(t, big, genRandom(t, 16<<20, 11))
	bigIdx := filepath.Join(f.dir, "big.caibx")
	mustRun(t, nil, "make", "-s", f.store, bigIdx, big)
	u := startServer(t, "chunk-server", "-s", f.store)
	for _, tc := range []struct{ index, want string }{{f.index, f.input}, {bigIdx, big}} {
		out := filepath.Join(t.TempDir(), "out")
		cmd := exec.Command(casync, "extract", "--store="+u, tc.index, out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("casync extract --store=%s: %v\n%s", u, err, b)
		}
		sameFiles(t, out, tc.want)
	}
}

// TestHTTPMakeIntoServer: make -s http://… into a writable chunk-server
// stores every chunk (verified by the server), after which the server's
// store extracts the file; a read-only server refuses.
func TestHTTPMakeIntoServer(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	input := writeFile(t, filepath.Join(dir, "in.bin"), genRandom(t, 4<<20, 12))
	index := filepath.Join(dir, "in.caibx")
	u := startServer(t, "chunk-server", "-w", "-s", store)
	mustRun(t, nil, "make", "-s", u, index, input)
	ix := readIndex(t, index)
	assertSameIDs(t, "server store after make", storeChunks(t, store), uniqueIDs(ix))
	extractOK(t, mustRead(t, input), index, "-s", store)
	extractOK(t, mustRead(t, input), index, "-s", u)

	os.Mkdir(filepath.Join(dir, "other"), 0o755)
	ro := startServer(t, "chunk-server", "-s", filepath.Join(dir, "other"))
	expect(t, 1, nil, []string{"405", ro}, "make", "-s", ro, filepath.Join(dir, "x.caibx"), input)
}

// TestHTTPAuthorization: the server takes its Authorization value from
// --authorization or DESYNC_HTTP_AUTH; a client without the right
// http-auth in the config is refused (and not retried), one with it works.
func TestHTTPAuthorization(t *testing.T) {
	f := newFixture(t)
	t.Setenv("DESYNC_HTTP_AUTH", "Bearer from-env")
	uEnv := startServer(t, "chunk-server", "-s", f.store)
	uFlag := startServer(t, "chunk-server", "-s", f.store, "--authorization", "Basic ZmxhZw==")
	extractFails(t, []string{"401", uEnv}, f.index, "-s", uEnv)
	extractFails(t, []string{"401"}, f.index, "-s", uFlag)
	cfg := writeFile(t, filepath.Join(f.dir, "config.json"), []byte(fmt.Sprintf(
		`{"store-options": {%q: {"http-auth": "Bearer from-env"}, %q: {"http-auth": "Basic ZmxhZw=="}}}`, uEnv, uFlag)))
	extractOK(t, f.data, f.index, "--config", cfg, "-s", uEnv)
	extractOK(t, f.data, f.index, "--config", cfg, "-s", uFlag)
	extractFails(t, []string{"401"}, f.index, "--config", cfg, "-s", uFlag+"x/")
}

// TestHTTPFailover: a failover group whose first server is down, or dies
// in the middle of the extract, still completes with the exact file.
func TestHTTPFailover(t *testing.T) {
	data, index, store := randomInStore(t, 8<<20, 13)
	good := startServer(t, "chunk-server", "-s", store)

	// Down: a port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/"
	ln.Close()
	extractOK(t, data, index, "-s", down+"|"+good, "-e", "1", "-b", "1ms")

	// Dies mid-extract: after 20 chunks, it drops every connection.
	var served atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) > 20 {
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
		resp, err := http.Get(strings.TrimSuffix(good, "/") + r.URL.Path)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	extractOK(t, data, index, "-s", proxy.URL+"/|"+good, "-e", "1", "-b", "1ms", "-n", "4")
	if n := served.Load(); n <= 20 {
		t.Errorf("the dying server served %d requests; the test wants it to die mid-extract", n)
	}
	// Both down: an error naming both.
	extractFails(t, []string{"failover group", down}, index, "-s", down+"|"+proxy.URL+"/", "-e", "0")
}

// TestHTTPConcurrentClients: 8 clients extract at once from one
// chunk-server; every output is exact.
func TestHTTPConcurrentClients(t *testing.T) {
	data, index, store := randomInStore(t, 8<<20, 14)
	u := startServer(t, "chunk-server", "-s", store)
	dir := t.TempDir()
	const clients = 8
	var wg sync.WaitGroup
	errs := make([]string, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := filepath.Join(dir, fmt.Sprintf("out%d", i))
			var stderr bytes.Buffer
			code := Run(context.Background(), []string{"extract", "-s", u, "-n", "4", index, out}, Stdio{In: strings.NewReader(""), Out: io.Discard, Err: &stderr})
			if code != 0 {
				errs[i] = fmt.Sprintf("client %d: exit %d: %s", i, code, stderr.String())
				return
			}
			if b, err := os.ReadFile(out); err != nil || !bytes.Equal(b, data) {
				errs[i] = fmt.Sprintf("client %d: output differs from the input (%v)", i, err)
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
}

// TestHTTPChunkServerVerifies: chunk-server does not send a corrupt chunk
// file of its store (nor mark the error immutable); with --skip-verify-read
// it sends the file as it is, without "immutable". A good chunk is sent
// immutable unless --skip-verify-read.
func TestHTTPChunkServerVerifies(t *testing.T) {
	f := newFixture(t)
	good, bad := f.ids[0], f.ids[1]
	badPath := filepath.Join(f.store, bad[:4], bad+".cacnk")
	corrupt := mustRead(t, filepath.Join(f.store, f.ids[2][:4], f.ids[2]+".cacnk"))
	os.Chmod(badPath, 0o644)
	writeFile(t, badPath, corrupt)
	// skip-verify in the config file counts as --skip-verify-read, and an
	// explicit --skip-verify-read=false beats it.
	cfgSkip := writeFile(t, filepath.Join(t.TempDir(), "config.json"),
		[]byte(`{"store-options": {"`+f.store+`": {"skip-verify": true}}}`))
	for _, tc := range []struct {
		flags []string
		skip  bool
	}{
		{nil, false},
		{[]string{"--skip-verify-read"}, true},
		{[]string{"--config", cfgSkip}, true},
		{[]string{"--config", cfgSkip, "--skip-verify-read=false"}, false},
	} {
		skip := tc.skip
		args := append([]string{"chunk-server", "-s", f.store}, tc.flags...)
		u := startServer(t, args...)
		resp, err := http.Get(u + bad[:4] + "/" + bad + ".cacnk")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if cc := resp.Header.Get("Cache-Control"); strings.Contains(cc, "immutable") {
			t.Errorf("%v: corrupt chunk: Cache-Control %q, want no immutable", args, cc)
		}
		if ok := resp.StatusCode == 200 && bytes.Equal(body, corrupt); ok != skip {
			t.Errorf("%v: corrupt chunk: %s, sent as it is %v; want %v", args, resp.Status, ok, skip)
		}
		resp, err = http.Get(u + good[:4] + "/" + good + ".cacnk")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if cc := resp.Header.Get("Cache-Control"); resp.StatusCode != 200 || strings.Contains(cc, "immutable") == skip {
			t.Errorf("%v: good chunk: %s, Cache-Control %q; want 200, immutable %v", args, resp.Status, cc, !skip)
		}
	}
}

// TestHTTPChunkServerUploadCap: chunk-server -w -m 16:64:256 refuses an
// upload declaring more than a 256 KiB chunk's largest zstd frame with 413
// before its body is sent, and stores a chunk within it.
func TestHTTPChunkServerUploadCap(t *testing.T) {
	f := newFixture(t)
	u := startServer(t, "chunk-server", "-w", "-m", "16:64:256", "-s", t.TempDir())
	id := f.ids[0]
	path := "/" + id[:4] + "/" + id + ".cacnk"
	addr := strings.TrimSuffix(strings.TrimPrefix(u, "http://"), "/")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second)) // a guard against a server waiting for the body
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", path, addr, 256<<10+256<<10>>8+23)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("PUT declaring too large a body, none sent: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("PUT declaring too large a body: %s, want 413", resp.Status)
	}
	req, _ := http.NewRequest(http.MethodPut, u+path[1:], bytes.NewReader(mustRead(t, filepath.Join(f.store, id[:4], id+".cacnk"))))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("PUT of a chunk: %v %v, want 200", resp, err)
	} else {
		resp.Body.Close()
	}
}
