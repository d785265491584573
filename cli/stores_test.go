package cli

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/folbricht/desync/caindex"
)

func TestRouter(t *testing.T) {
	f := newFixture(t)
	a, b := filepath.Join(f.dir, "a"), filepath.Join(f.dir, "b")
	var inA, inB []string
	for i, id := range f.ids {
		if i%2 == 0 {
			inA = append(inA, id)
		} else {
			inB = append(inB, id)
		}
	}
	copyChunks(t, f.store, a, inA)
	copyChunks(t, f.store, b, inB)

	t.Run("chunks split between two stores", func(t *testing.T) {
		extractOK(t, f.data, f.index, "-s", a, "-s", b)
		extractOK(t, f.data, f.index, "-s", b, "-s", a)
	})
	t.Run("a single store lacks chunks", func(t *testing.T) {
		stderr := extractFails(t, []string{"missing", a}, f.index, "-s", a)
		if !slices.ContainsFunc(inB, func(id string) bool { return strings.Contains(stderr, id) }) {
			t.Errorf("stderr %q names none of the chunks missing from %s", stderr, a)
		}
	})
	t.Run("chunk in neither store", func(t *testing.T) {
		victim := inB[len(inB)-1]
		p := chunkPath(b, victim)
		saved := mustRead(t, p)
		os.Remove(p)
		defer writeFile(t, p, saved)
		extractFails(t, []string{victim, "missing", a, b}, f.index, "-s", a, "-s", b)
	})
	t.Run("broken first store", func(t *testing.T) {
		broken := filepath.Join(f.dir, "broken")
		copyChunks(t, f.store, broken, f.ids)
		breakStore(t, broken)
		// The second store has every chunk, but a broken store is an error,
		// not a store without the chunk.
		extractFails(t, []string{broken, "not a directory"}, f.index, "-s", broken, "-s", f.store)
		// Behind a store that has every chunk the broken one is never asked.
		extractOK(t, f.data, f.index, "-s", f.store, "-s", broken)
	})
}

func TestFailover(t *testing.T) {
	f := newFixture(t)
	broken1, broken2 := filepath.Join(f.dir, "broken1"), filepath.Join(f.dir, "broken2")
	for _, d := range []string{broken1, broken2} {
		copyChunks(t, f.store, d, f.ids)
		breakStore(t, d)
	}
	t.Run("broken then good", func(t *testing.T) {
		extractOK(t, f.data, f.index, "-s", broken1+"|"+f.store)
		extractOK(t, f.data, f.index, "-s", f.store+"|"+broken1)
	})
	t.Run("every member broken", func(t *testing.T) {
		extractFails(t, []string{"failover group", broken1, broken2, "not a directory"}, f.index, "-s", broken1+"|"+broken2)
	})
	t.Run("empty member", func(t *testing.T) {
		extractFails(t, []string{"empty member"}, f.index, "-s", f.store+"|")
	})
	t.Run("failover group in a router", func(t *testing.T) {
		empty := filepath.Join(f.dir, "empty")
		os.Mkdir(empty, 0o755)
		extractOK(t, f.data, f.index, "-s", empty, "-s", broken1+"|"+f.store)
	})
}

func TestCache(t *testing.T) {
	f := newFixture(t)
	cache := filepath.Join(f.dir, "cache")
	empty := filepath.Join(f.dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}

	extractOK(t, f.data, f.index, "-s", f.store, "-c", cache)
	assertSameIDs(t, "cache after extract", storeChunks(t, cache), f.ids)
	assertNoTemp(t, cache)

	// Served from the cache alone.
	extractOK(t, f.data, f.index, "-s", empty, "--cache", cache)
	if got := storeChunks(t, empty); len(got) != 0 {
		t.Errorf("the store was written: %v", got)
	}

	// Every cached chunk corrupt, half of them garbage and half valid zstd
	// frames of another chunk: repaired from the store (-r is the default).
	for i, id := range f.ids {
		garbage := []byte("garbage")
		if i%2 == 1 {
			garbage = mustRead(t, chunkPath(f.store, f.ids[i-1]))
		}
		corrupt(t, chunkPath(cache, id), garbage)
	}
	out := filepath.Join(t.TempDir(), "out")
	r := mustRun(t, nil, "extract", "-s", f.store, "-c", cache, f.index, out)
	if !bytes.Equal(mustRead(t, out), f.data) {
		t.Fatal("extract through a corrupt cache: output differs")
	}
	if !strings.Contains(r.stderr, "replacing invalid chunk") {
		t.Errorf("no warning about the repaired chunks: %q", r.stderr)
	}
	for _, id := range f.ids {
		if !bytes.Equal(mustRead(t, chunkPath(cache, id)), mustRead(t, chunkPath(f.store, id))) {
			t.Errorf("cached chunk %s not repaired", id)
		}
	}
	mustRun(t, nil, "verify", "-s", cache)
	assertNoTemp(t, cache)

	// Without repair a corrupt cached chunk is an error naming it, even
	// though the store has it.
	victim := f.ids[2]
	corrupt(t, chunkPath(cache, victim), []byte("garbage"))
	for _, flag := range []string{"-r=false", "--cache-repair=false"} {
		extractFails(t, []string{victim, cache, "invalid"}, f.index, "-s", f.store, "-c", cache, flag)
	}
	if string(mustRead(t, chunkPath(cache, victim))) != "garbage" {
		t.Error("the corrupt cached chunk was replaced without -r")
	}

	// A broken cache is an error naming it, not a cache without the chunk.
	broken := filepath.Join(f.dir, "broken")
	copyChunks(t, f.store, broken, f.ids)
	breakStore(t, broken)
	extractFails(t, []string{broken, "not a directory"}, f.index, "-s", f.store, "-c", broken)
	// A cache that is not a directory is refused at once.
	notDir := writeFile(t, filepath.Join(f.dir, "file"), []byte("x"))
	extractFails(t, []string{notDir, "not a directory"}, f.index, "-s", f.store, "-c", notDir)
}

// TestNullChunk: the all-zero chunk of an index is never fetched by extract,
// but it is a chunk like any other for make, chop, cache and info.
func TestNullChunk(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	data := append(append(genRandom(t, 512<<10, 3), make([]byte, 1<<20)...), genRandom(t, 512<<10, 4)...)
	input := writeFile(t, filepath.Join(dir, "in"), data)
	idx, store := filepath.Join(dir, "in.caibx"), filepath.Join(dir, "store")
	mustRun(t, nil, "make", "-s", store, idx, input)
	ix := readIndex(t, idx)
	ids := uniqueIDs(ix)
	null := NewNullID(ix)
	if !slices.Contains(ids, null) {
		t.Fatalf("bad test data: no zero chunk of %d bytes", ix.Max)
	}
	assertSameIDs(t, "store after make", storeChunks(t, store), ids)

	// Extract does not need the zero chunk.
	noNull := filepath.Join(dir, "nonull")
	copyChunks(t, store, noNull, slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == null }))
	extractOK(t, data, idx, "-s", noNull)

	// cache copies every chunk, the zero chunk too, as desync's does.
	c := filepath.Join(dir, "cache")
	mustRun(t, nil, "cache", "-s", store, "-c", c, idx)
	assertSameIDs(t, "cache", storeChunks(t, c), ids)

	// info counts what the store holds.
	var info indexInfo
	os.Mkdir(filepath.Join(dir, "empty"), 0o755)
	r := mustRun(t, nil, "info", "-s", filepath.Join(dir, "empty"), idx)
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil || info.InStore != 0 {
		t.Errorf("info of an empty store: in-store %d (%v)", info.InStore, err)
	}
	r = mustRun(t, nil, "info", "-s", noNull, idx)
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil || info.InStore != uint64(len(ids)-1) {
		t.Errorf("info of a store without the zero chunk: in-store %d, want %d (%v)", info.InStore, len(ids)-1, err)
	}
}

// NewNullID is the ID of the zero chunk of an index's max chunk size.
func NewNullID(ix *caindex.Index) string {
	return ix.Digest().Sum(make([]byte, ix.Max)).String()
}

// TestMissingStoreDir: a local store directory that does not exist fails
// at once, naming the store, for every command that reads it (not as a
// missing chunk per chunk), while the commands that write (make, chop, and
// the cache of extract and cache) create it, as casync does.
func TestMissingStoreDir(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-store")
	store := filepath.Join(dir, "store")
	mustRun(t, nil, "make", "-s", store, filepath.Join(dir, "blob1.caibx"), "testdata/blob1.bin")
	index := filepath.Join(dir, "blob1.caibx")
	want := "store " + missing + ": no such directory"
	for _, args := range [][]string{
		{"verify", "-s", missing},
		{"prune", "-y", "-s", missing, index},
		{"extract", "-s", missing, index, filepath.Join(dir, "out")},
		{"extract", "-s", store, "-s", missing, index, filepath.Join(dir, "out")},
		{"extract", "-s", store + "|" + missing, index, filepath.Join(dir, "out")},
		{"extract", "-s", missing, "-c", filepath.Join(dir, "cache1"), index, filepath.Join(dir, "out")},
		{"cat", "-s", missing, index},
		{"cache", "-s", missing, "-c", filepath.Join(dir, "cache2"), index},
		{"info", "-s", missing, index},
		{"chunk-server", "-s", missing, "-l", "127.0.0.1:0"},
	} {
		r := run(t, nil, args...)
		if r.code != 1 || strings.Count(r.stderr, want) != 1 || strings.Contains(r.stderr, "missing from") {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and %q once", args, r.code, r.stderr, want)
		}
		if lines := strings.Count(r.stderr, "\n"); lines != 1 {
			t.Errorf("%v: %d lines on stderr, want 1: %q", args, lines, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
		t.Errorf("a failed extract left its output behind: %v", err)
	}
	// Writing creates the store (and a cache) that is not there.
	for _, args := range [][]string{
		{"make", "-s", filepath.Join(dir, "new1"), filepath.Join(dir, "x.caibx"), "testdata/blob1.bin"},
		{"chop", "-s", filepath.Join(dir, "new2"), index, "testdata/blob1.bin"},
		{"extract", "-s", store, "-c", filepath.Join(dir, "new3"), index, filepath.Join(dir, "out")},
		{"cache", "-s", store, "-c", filepath.Join(dir, "new4"), index},
	} {
		mustRun(t, nil, args...)
		if n := len(storeChunks(t, args[2])); n == 0 {
			t.Errorf("%v: no chunks in %s", args, args[2])
		}
	}
}

// TestUnreachableStore: extracting from an HTTP store nobody listens on
// logs one warning (every retry with --verbose) and fails with one line
// that names the store and the chunk once each. -e N makes N tries in all,
// as desync's does.
func TestUnreachableStore(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	index := filepath.Join(dir, "small.caibx")
	mustRun(t, nil, "make", "-s", filepath.Join(dir, "store"), index, writeFile(t, filepath.Join(dir, "small"), genRandom(t, 1000, 1)))
	ix, err := caindex.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Chunks) != 1 {
		t.Fatalf("%d chunks, want 1", len(ix.Chunks))
	}
	id := ix.Chunks[0].ID.String()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	store := "http://" + ln.Addr().String() + "/"
	ln.Close()
	for _, tc := range []struct {
		retry   string
		retries int
	}{{"0", 0}, {"1", 0}, {"2", 1}, {"3", 2}} {
		// At the default level a failure streak is one warning; with
		// --verbose every retry is logged.
		stderr := extractFails(t, []string{"connection refused"}, index, "-s", store, "-e", tc.retry, "-b", "1ms")
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		if want := min(tc.retries, 1) + 1; len(lines) != want {
			t.Errorf("-e %s: %d lines on stderr, want %d: %q", tc.retry, len(lines), want, stderr)
		}
		for _, l := range lines[:len(lines)-1] {
			if !strings.Contains(l, "retrying") {
				t.Errorf("-e %s: stderr line %q is not a retry", tc.retry, l)
			}
		}
		verbose := extractFails(t, []string{"connection refused"}, index, "-s", store, "-e", tc.retry, "-b", "1ms", "--verbose")
		if n := strings.Count(verbose, "retrying"); n != tc.retries {
			t.Errorf("-e %s --verbose: %d retries logged, want %d: %q", tc.retry, n, tc.retries, verbose)
		}
		last := lines[len(lines)-1]
		if strings.Count(last, store) != 1 || strings.Count(last, id) != 1 {
			t.Errorf("-e %s: the error %q should name the store %s and the chunk %s once each", tc.retry, last, store, id)
		}
	}
}
