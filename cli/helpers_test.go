package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/cli/internal/gendata"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, Stdio{In: bytes.NewReader(stdin), Out: &out, Err: &errb})
	return result{code, out.String(), errb.String()}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dirSize(t *testing.T, dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fi, _ := d.Info()
			n += fi.Size()
		}
		return nil
	})
	return n
}

// isolate points HOME at an empty directory so that the user's config file
// is never read.
func isolate(t *testing.T) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
}

// genRandom returns n deterministic random bytes.
func genRandom(t *testing.T, n int64, seed uint64) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gendata.Random(&b, n, seed); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, p string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRun(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	r := run(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("%v: exit %d; stderr: %s", args, r.code, r.stderr)
	}
	return r
}

// expect runs the command line and checks the exit status and that stderr
// names every one of want.
func expect(t *testing.T, code int, stdin []byte, want []string, args ...string) result {
	t.Helper()
	r := run(t, stdin, args...)
	if r.code != code {
		t.Fatalf("%v: exit %d, want %d; stderr: %s", args, r.code, code, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("%v: stderr %q does not mention %q", args, r.stderr, w)
		}
	}
	return r
}

func readIndex(t *testing.T, p string) *caindex.Index {
	t.Helper()
	ix, err := caindex.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// uniqueIDs returns the distinct chunk IDs of an index, in index order.
func uniqueIDs(ix *caindex.Index) []string {
	var ids []string
	for _, c := range ix.Unique() {
		ids = append(ids, c.ID.String())
	}
	return ids
}

// storeChunks returns the chunk files of a local store: ID → file size.
// Temporary files are not chunks.
func storeChunks(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	subs, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return m
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if !s.IsDir() || len(s.Name()) != 4 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, s.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			id := strings.TrimSuffix(f.Name(), ".cacnk")
			if len(id) != 64 || strings.HasPrefix(f.Name(), ".") {
				continue
			}
			fi, err := f.Info()
			if err != nil {
				t.Fatal(err)
			}
			m[id] = fi.Size()
		}
	}
	return m
}

// chunkPath is where a compressed local store keeps a chunk.
func chunkPath(store, id string) string { return filepath.Join(store, id[:4], id+".cacnk") }

// assertNoTemp fails if a temporary file is left anywhere under the dirs.
func assertNoTemp(t *testing.T, dirs ...string) {
	t.Helper()
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(d.Name(), ".tmp") {
				t.Errorf("temporary file left: %s", p)
			}
			return nil
		})
	}
}

// assertSameIDs checks that a store holds exactly the chunks want.
func assertSameIDs(t *testing.T, what string, got map[string]int64, want []string) {
	t.Helper()
	var g []string
	for id := range got {
		g = append(g, id)
	}
	w := slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	w = slices.Compact(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s holds %d chunks, want %d: got %v, want %v", what, len(g), len(w), g, w)
	}
}

// copyChunks copies chunk files from one compressed local store to another.
func copyChunks(t *testing.T, from, to string, ids []string) {
	t.Helper()
	for _, id := range ids {
		dst := chunkPath(to, id)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, dst, mustRead(t, chunkPath(from, id)))
	}
}

// corrupt replaces a chunk file's content (chunk files are read-only).
func corrupt(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, p, b)
}

// breakStore replaces a local store's <4hex> sub-directories with regular
// files: reading a chunk then fails with ENOTDIR, an error that is not "chunk
// missing", even for root.
func breakStore(t *testing.T, dir string) {
	t.Helper()
	subs, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range subs {
		if s.IsDir() && len(s.Name()) == 4 {
			p := filepath.Join(dir, s.Name())
			if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, []byte("not a directory"))
			n++
		}
	}
	if n == 0 {
		t.Fatalf("store %s has no chunk directories to break", dir)
	}
}

// fixture is a file, its index and a store holding all its chunks.
type fixture struct {
	dir, input, index, store string
	data                     []byte
	ix                       *caindex.Index
	ids                      []string // distinct chunk IDs
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	isolate(t)
	dir := t.TempDir()
	f := fixture{dir: dir, input: "testdata/blob1.bin", index: filepath.Join(dir, "blob1.caibx"), store: filepath.Join(dir, "full")}
	f.data = mustRead(t, f.input)
	mustRun(t, nil, "make", "-s", f.store, f.index, f.input)
	f.ix = readIndex(t, f.index)
	f.ids = uniqueIDs(f.ix)
	if len(f.ids) < 6 {
		t.Fatalf("fixture has only %d chunks", len(f.ids))
	}
	return f
}

// extractOK extracts index with args and compares the result with want.
func extractOK(t *testing.T, want []byte, index string, args ...string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	r := run(t, nil, append(append([]string{"extract"}, args...), index, out)...)
	if r.code != 0 {
		t.Fatalf("extract %v: exit %d; stderr: %s", args, r.code, r.stderr)
	}
	if !bytes.Equal(mustRead(t, out), want) {
		t.Fatalf("extract %v: output differs from the input", args)
	}
}

// extractFails runs extract onto an existing output and checks the exit
// status, the message and that the output is untouched with no temporary
// file next to it.
func extractFails(t *testing.T, want []string, index string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	out := writeFile(t, filepath.Join(dir, "out"), []byte("precious"))
	r := expect(t, 1, nil, want, append(append([]string{"extract"}, args...), index, out)...)
	if got := string(mustRead(t, out)); got != "precious" {
		t.Errorf("extract %v changed the existing output", args)
	}
	assertNoTemp(t, dir)
	return r.stderr
}

// serverOutput collects a server's stderr safely and reports the first
// "listening on" URL.
type serverOutput struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	url  chan string
	once sync.Once
}

var listeningRE = regexp.MustCompile(`listening on (\S+)`)

func (o *serverOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	if m := listeningRE.FindStringSubmatch(o.buf.String()); m != nil {
		o.once.Do(func() { o.url <- m[1] })
	}
	return len(p), nil
}

func (o *serverOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// startServer runs "desync <args>" (a chunk-server or index-server on
// 127.0.0.1:0) in this process and returns its base URL. When the test
// ends the server is stopped through its context, and must exit 0.
func startServer(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &serverOutput{url: make(chan string, 1)}
	done := make(chan int, 1)
	args = append(args, "-l", "127.0.0.1:0")
	go func() { done <- Run(ctx, args, Stdio{In: strings.NewReader(""), Out: io.Discard, Err: out}) }()
	select {
	case u := <-out.url:
		t.Cleanup(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("%v: exit %d after shutdown; stderr: %s", args, code, out.String())
			}
		})
		return u
	case code := <-done:
		cancel()
		t.Fatalf("%v: exit %d before listening; stderr: %s", args, code, out.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("%v: not listening after 30s; stderr: %s", args, out.String())
	}
	return ""
}

// randomInStore makes n random bytes (from seed) into a fresh local store
// and returns the data, its index and the store.
func randomInStore(t *testing.T, n int64, seed uint64) (data []byte, index, store string) {
	t.Helper()
	isolate(t)
	dir := t.TempDir()
	store, index = filepath.Join(dir, "store"), filepath.Join(dir, "in.caibx")
	data = genRandom(t, n, seed)
	mustRun(t, nil, "make", "-s", store, index, writeFile(t, filepath.Join(dir, "in.bin"), data))
	return data, index, store
}

// httpGet returns the status and body of a GET of u.
func httpGet(t *testing.T, u string) (int, []byte) {
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
	return resp.StatusCode, b
}
