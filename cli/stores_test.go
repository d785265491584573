package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/cli/internal/gendata"
)

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

func TestChop(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	data := genRandom(t, 3<<20, 1)
	input := writeFile(t, filepath.Join(dir, "input"), data)
	prefix := writeFile(t, filepath.Join(dir, "prefix"), data[:3<<19])
	idx, other := filepath.Join(dir, "input.caibx"), filepath.Join(dir, "prefix.caibx")

	// make without -s writes only the index.
	mustRun(t, nil, "make", idx, input)
	mustRun(t, nil, "make", other, prefix)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Fatalf("make without a store wrote more than its index: %v", entries)
	}
	ix, ox := readIndex(t, idx), readIndex(t, other)
	ids := uniqueIDs(ix)
	inOther := map[string]bool{}
	for _, id := range uniqueIDs(ox) {
		inOther[id] = true
	}
	var notInOther []string
	for _, id := range ids {
		if !inOther[id] {
			notInOther = append(notInOther, id)
		}
	}
	if len(notInOther) == 0 || len(notInOther) == len(ids) {
		t.Fatalf("bad test data: %d of %d chunks shared", len(ids)-len(notInOther), len(ids))
	}

	t.Run("chop then extract", func(t *testing.T) {
		s := filepath.Join(dir, "s1")
		mustRun(t, nil, "chop", "-s", s, idx, input)
		assertSameIDs(t, "store", storeChunks(t, s), ids)
		extractOK(t, data, idx, "-s", s)
		assertNoTemp(t, s)
		// Again: nothing to store, still exit 0.
		mustRun(t, nil, "chop", "-s", s, idx, input)
	})
	t.Run("ignore index", func(t *testing.T) {
		s := filepath.Join(dir, "s2")
		mustRun(t, nil, "chop", "-s", s, "--ignore", other, idx, input)
		assertSameIDs(t, "store", storeChunks(t, s), notInOther)
	})
	t.Run("ignore chunk list", func(t *testing.T) {
		s := filepath.Join(dir, "s3")
		r := mustRun(t, nil, "list-chunks", idx)
		listed := strings.Fields(r.stdout)
		skip := listed[:3]
		list := writeFile(t, filepath.Join(dir, "list.txt"), []byte("# skipped\n\n"+strings.Join(skip, "\n")+"\n"))
		mustRun(t, nil, "chop", "-s", s, "--ignore-chunks", list, idx, input)
		var want []string
		for _, id := range ids {
			if !slices.Contains(skip, id) {
				want = append(want, id)
			}
		}
		assertSameIDs(t, "store", storeChunks(t, s), want)
	})
	t.Run("bad chunk list", func(t *testing.T) {
		list := writeFile(t, filepath.Join(dir, "bad.txt"), []byte(ids[0]+"\nnot-an-id\n"))
		s := filepath.Join(dir, "s4")
		expect(t, 1, nil, []string{list + ":2"}, "chop", "-s", s, "--ignore-chunks", list, idx, input)
		if n := len(storeChunks(t, s)); n != 0 {
			t.Errorf("%d chunks stored despite the bad list", n)
		}
	})
	t.Run("modified file", func(t *testing.T) {
		k := len(ix.Chunks) / 2
		c := ix.Chunks[k]
		bad := slices.Clone(data)
		bad[c.Start+c.Size/2] ^= 0xff
		badInput := writeFile(t, filepath.Join(dir, "modified"), bad)
		s := filepath.Join(dir, "s5")
		expect(t, 1, nil, []string{badInput, fmt.Sprintf("offset %d", c.Start), c.ID.String(), "does not match"},
			"chop", "-s", s, "-n", "1", idx, badInput)
		got := storeChunks(t, s)
		if _, ok := got[c.ID.String()]; ok {
			t.Error("the damaged chunk was stored")
		}
		for _, later := range ix.Chunks[k+1:] {
			if _, ok := got[later.ID.String()]; ok {
				t.Errorf("chunk %s after the damage was stored with -n 1", later.ID)
			}
		}
		assertNoTemp(t, s)
		if len(got) > 0 {
			mustRun(t, nil, "verify", "-s", s) // what was stored is sound
		}
	})
	t.Run("file too short", func(t *testing.T) {
		short := writeFile(t, filepath.Join(dir, "short"), data[:len(data)-100])
		s := filepath.Join(dir, "s6")
		expect(t, 1, nil, []string{short}, "chop", "-s", s, idx, short)
		assertNoTemp(t, s)
	})
	t.Run("usage", func(t *testing.T) {
		expect(t, 2, nil, []string{"no store"}, "chop", idx, input)
		expect(t, 2, nil, []string{"2 stores"}, "chop", "-s", "a", "-s", "b", idx, input)
	})
}

func TestCacheCommand(t *testing.T) {
	f := newFixture(t)
	text := filepath.Join(f.dir, "text.caibx")
	mustRun(t, nil, "make", "-s", f.store, text, "testdata/text.bin")
	textIDs := uniqueIDs(readIndex(t, text))

	t.Run("fills the cache", func(t *testing.T) {
		c := filepath.Join(f.dir, "c1")
		r := mustRun(t, nil, "cache", "-s", f.store, "-c", c, "--print-stats", f.index, text)
		assertSameIDs(t, "cache", storeChunks(t, c), append(slices.Clone(f.ids), textIDs...))
		assertNoTemp(t, c)
		var stats map[string]int
		if err := json.Unmarshal([]byte(r.stdout), &stats); err != nil || stats["chunks-total"] != len(f.ids)+len(textIDs) {
			t.Errorf("stats %q: %v", r.stdout, err)
		}
		nowhere := filepath.Join(f.dir, "nowhere") // an empty store: every chunk comes from the cache
		os.Mkdir(nowhere, 0o755)
		extractOK(t, f.data, f.index, "-s", nowhere, "-c", c)
	})
	t.Run("ignore", func(t *testing.T) {
		c := filepath.Join(f.dir, "c2")
		mustRun(t, nil, "cache", "-s", f.store, "-c", c, "--ignore", text, f.index, text)
		assertSameIDs(t, "cache", storeChunks(t, c), f.ids)
	})
	t.Run("no cache", func(t *testing.T) {
		expect(t, 2, nil, []string{"-c"}, "cache", "-s", f.store, f.index)
	})
	t.Run("no store", func(t *testing.T) {
		expect(t, 2, nil, []string{"no store"}, "cache", "-c", filepath.Join(f.dir, "c3"), f.index)
	})
	t.Run("missing chunk", func(t *testing.T) {
		s := filepath.Join(f.dir, "partial")
		copyChunks(t, f.store, s, f.ids[1:])
		c := filepath.Join(f.dir, "c4")
		expect(t, 1, nil, []string{f.ids[0], "missing", s, c}, "cache", "-s", s, "-c", c, f.index)
		if _, ok := storeChunks(t, c)[f.ids[0]]; ok {
			t.Error("the missing chunk is in the cache")
		}
		assertNoTemp(t, c)
	})
}

func TestPrune(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	base := genRandom(t, 2<<20, 1)
	data1 := base
	data2 := append(slices.Clone(base[:1<<20]), genRandom(t, 1<<20, 2)...)
	in1 := writeFile(t, filepath.Join(dir, "in1"), data1)
	in2 := writeFile(t, filepath.Join(dir, "in2"), data2)
	idx1, idx2 := filepath.Join(dir, "1.caibx"), filepath.Join(dir, "2.caibx")
	mustRun(t, nil, "make", idx1, in1)
	mustRun(t, nil, "make", idx2, in2)
	ids1, ids2 := uniqueIDs(readIndex(t, idx1)), uniqueIDs(readIndex(t, idx2))
	both := append(slices.Clone(ids1), ids2...)
	shared := 0
	for _, id := range ids2 {
		if slices.Contains(ids1, id) {
			shared++
		}
	}
	if shared == 0 || shared == len(ids2) {
		t.Fatalf("bad test data: %d of %d chunks shared", shared, len(ids2))
	}
	n := 0
	newStore := func(t *testing.T) string {
		n++
		s := filepath.Join(dir, fmt.Sprintf("s%d", n))
		mustRun(t, nil, "chop", "-s", s, idx1, in1)
		mustRun(t, nil, "chop", "-s", s, idx2, in2)
		assertSameIDs(t, "new store", storeChunks(t, s), both)
		return s
	}

	for _, yes := range []string{"-y", "--yes"} {
		t.Run(yes, func(t *testing.T) {
			s := newStore(t)
			mustRun(t, nil, "prune", "-s", s, yes, idx1)
			assertSameIDs(t, "pruned store", storeChunks(t, s), ids1)
			extractOK(t, data1, idx1, "-s", s)
		})
	}
	t.Run("not confirmed", func(t *testing.T) {
		s := newStore(t)
		for _, answer := range []string{"n\n", "", "yes please\n"} {
			expect(t, 1, []byte(answer), []string{"not confirmed"}, "prune", "-s", s, idx1)
			assertSameIDs(t, "store", storeChunks(t, s), both)
		}
	})
	t.Run("confirmed", func(t *testing.T) {
		s := newStore(t)
		r := mustRun(t, []byte("y\n"), "prune", "-s", s, idx1)
		if !strings.Contains(r.stderr, fmt.Sprintf("%d distinct chunks", len(ids1))) || !strings.Contains(r.stderr, s) {
			t.Errorf("prompt %q", r.stderr)
		}
		assertSameIDs(t, "pruned store", storeChunks(t, s), ids1)
	})
	t.Run("keep-chunks", func(t *testing.T) {
		s := newStore(t)
		keep := writeFile(t, filepath.Join(dir, "keep.txt"), []byte(mustRun(t, nil, "list-chunks", idx2).stdout))
		mustRun(t, nil, "prune", "-s", s, "-y", "--keep-chunks", keep)
		assertSameIDs(t, "pruned store", storeChunks(t, s), ids2)
		extractOK(t, data2, idx2, "-s", s)
		// With an index as well, both are kept.
		s = newStore(t)
		mustRun(t, nil, "prune", "-s", s, "-y", "--keep-chunks", keep, idx1)
		assertSameIDs(t, "pruned store", storeChunks(t, s), both)
	})
	t.Run("nothing to keep", func(t *testing.T) {
		s := newStore(t)
		expect(t, 2, nil, []string{"no index"}, "prune", "-s", s, "-y")
		assertSameIDs(t, "store", storeChunks(t, s), both)
	})
	t.Run("missing index", func(t *testing.T) {
		s := newStore(t)
		expect(t, 1, nil, []string{"nope.caibx"}, "prune", "-s", s, "-y", filepath.Join(dir, "nope.caibx"))
		assertSameIDs(t, "store", storeChunks(t, s), both)
	})
	t.Run("stale temporary files", func(t *testing.T) {
		s := newStore(t)
		sub := filepath.Join(s, ids1[0][:4])
		old := writeFile(t, filepath.Join(sub, "."+ids1[0]+".123.tmp"), []byte("old"))
		fresh := writeFile(t, filepath.Join(sub, "."+ids1[0]+".456.tmp"), []byte("fresh"))
		then := time.Now().Add(-2 * time.Hour)
		if err := os.Chtimes(old, then, then); err != nil {
			t.Fatal(err)
		}
		mustRun(t, nil, "prune", "-s", s, "-y", idx1, idx2)
		if _, err := os.Stat(old); !os.IsNotExist(err) {
			t.Error("a temporary file two hours old was not pruned")
		}
		if _, err := os.Stat(fresh); err != nil {
			t.Errorf("a fresh temporary file was pruned: %v", err)
		}
		assertSameIDs(t, "store", storeChunks(t, s), both)
	})
}

func TestVerifyStore(t *testing.T) {
	f := newFixture(t)
	r := mustRun(t, nil, "verify", "-s", f.store)
	if want := fmt.Sprintf("%d chunks checked, 0 invalid", len(f.ids)); !strings.Contains(r.stderr, want) {
		t.Errorf("verify: %q does not say %q", r.stderr, want)
	}
	victim, other := f.ids[3], f.ids[4]
	corrupt(t, chunkPath(f.store, victim), mustRead(t, chunkPath(f.store, other)))
	r = expect(t, 1, nil, []string{victim, "1 invalid", "-r"}, "verify", "-s", f.store)
	if strings.Contains(r.stderr, "invalid chunk "+other) {
		t.Errorf("verify blames a sound chunk: %s", r.stderr)
	}
	mustRun(t, nil, "verify", "-s", f.store, "-r")
	if _, err := os.Stat(chunkPath(f.store, victim)); !os.IsNotExist(err) {
		t.Errorf("verify -r left the invalid chunk: %v", err)
	}
	got := storeChunks(t, f.store)
	if len(got) != len(f.ids)-1 {
		t.Errorf("verify -r left %d chunks, want %d", len(got), len(f.ids)-1)
	}
	r = mustRun(t, nil, "verify", "-s", f.store)
	if want := fmt.Sprintf("%d chunks checked, 0 invalid", len(f.ids)-1); !strings.Contains(r.stderr, want) {
		t.Errorf("verify after repair: %q does not say %q", r.stderr, want)
	}
	// The deleted chunk is written again by chop.
	mustRun(t, nil, "chop", "-s", f.store, f.index, f.input)
	assertSameIDs(t, "store", storeChunks(t, f.store), f.ids)
	expect(t, 2, nil, []string{"no store"}, "verify")
	expect(t, 2, nil, nil, "verify", "-s", f.store, "extra")
}

func TestCat(t *testing.T) {
	f := newFixture(t)
	size := int64(len(f.data))
	for _, tc := range []struct {
		name        string
		off, length int64
		args        []string
	}{
		{"whole", 0, size, nil},
		{"offset and length", 70000, 300000, []string{"-o", "70000", "-l", "300000"}},
		{"long names", 70000, 300000, []string{"--offset", "70000", "--length", "300000"}},
		{"offset to the end", size - 1000, 1000, []string{"-o", fmt.Sprint(size - 1000)}},
		{"up to the end", 5, size - 5, []string{"-o", "5", "-l", fmt.Sprint(size - 5)}},
		{"offset at the end", size, 0, []string{"-o", fmt.Sprint(size)}},
		{"within one chunk", int64(f.ix.Chunks[2].Start + 1), 10, []string{"-o", fmt.Sprint(f.ix.Chunks[2].Start + 1), "-l", "10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRun(t, nil, append(append([]string{"cat", "-s", f.store}, tc.args...), f.index)...)
			if want := f.data[tc.off : tc.off+tc.length]; !bytes.Equal([]byte(r.stdout), want) {
				t.Errorf("got %d bytes, want %d (bytes %d+%d)", len(r.stdout), len(want), tc.off, tc.length)
			}
		})
	}
	t.Run("to a file", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		r := mustRun(t, nil, "cat", "-s", f.store, f.index, out)
		if r.stdout != "" || !bytes.Equal(mustRead(t, out), f.data) {
			t.Error("cat to a file: output differs or went to stdout")
		}
	})
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"offset beyond the end", []string{"-o", fmt.Sprint(size + 1)}},
		{"length beyond the end", []string{"-o", "10", "-l", fmt.Sprint(size)}},
		{"negative offset", []string{"-o", "-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := expect(t, 2, nil, nil, append(append([]string{"cat", "-s", f.store}, tc.args...), f.index)...)
			if r.stdout != "" {
				t.Errorf("wrote %d bytes", len(r.stdout))
			}
		})
	}
	t.Run("missing chunk", func(t *testing.T) {
		s := filepath.Join(f.dir, "partial")
		victim := f.ids[len(f.ids)/2]
		var rest []string
		for _, id := range f.ids {
			if id != victim {
				rest = append(rest, id)
			}
		}
		copyChunks(t, f.store, s, rest)
		expect(t, 1, nil, []string{victim, "missing", s}, "cat", "-s", s, f.index)
		// To a file: the existing file is left as it was.
		dir := t.TempDir()
		out := writeFile(t, filepath.Join(dir, "out"), []byte("precious"))
		expect(t, 1, nil, []string{victim}, "cat", "-s", s, f.index, out)
		if string(mustRead(t, out)) != "precious" {
			t.Error("a failed cat changed the existing output")
		}
		assertNoTemp(t, dir)
		// A range before the missing chunk needs only chunks that are there.
		r := mustRun(t, nil, "cat", "-s", s, "-l", "1000", f.index)
		if !bytes.Equal([]byte(r.stdout), f.data[:1000]) {
			t.Error("cat of the first bytes differs")
		}
	})
}

// desyncInfoKeys are the keys of desync info's JSON output.
var desyncInfoKeys = []string{
	"total", "unique", "in-store", "in-seed", "in-cache", "not-in-seed-nor-cache", "size",
	"dedup-size-not-in-seed", "dedup-size-not-in-seed-nor-cache", "dedup-size-not-in-seed-nor-cache-compressed",
	"chunk-size-min", "chunk-size-avg", "chunk-size-max",
}

func TestInfo(t *testing.T) {
	f := newFixture(t)
	part, cache := filepath.Join(f.dir, "part"), filepath.Join(f.dir, "cache")
	sizes := map[string]uint64{}
	for _, c := range f.ix.Chunks {
		sizes[c.ID.String()] = c.Size
	}
	var inPart, inCache []string
	var total, notCached uint64
	for i, id := range f.ids {
		total += sizes[id]
		if i < len(f.ids)/3 {
			inPart = append(inPart, id)
		}
		if i%2 == 0 {
			inCache = append(inCache, id)
		} else {
			notCached += sizes[id]
		}
	}
	copyChunks(t, f.store, part, inPart)
	copyChunks(t, f.store, cache, inCache)

	r := mustRun(t, nil, "info", "-s", part, "-c", cache, f.index)
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("info output %q: %v", r.stdout, err)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// desync's keys, and our two additions.
	wantKeys := append(slices.Clone(desyncInfoKeys), "digest", "feature-flags")
	slices.Sort(wantKeys)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("info keys %v, want %v", keys, wantKeys)
	}
	want := map[string]uint64{
		"total":                            uint64(len(f.ix.Chunks)),
		"unique":                           uint64(len(f.ids)),
		"in-store":                         uint64(len(inPart)),
		"in-seed":                          0,
		"in-cache":                         uint64(len(inCache)),
		"not-in-seed-nor-cache":            uint64(len(f.ids) - len(inCache)),
		"size":                             uint64(len(f.data)),
		"dedup-size-not-in-seed":           total,
		"dedup-size-not-in-seed-nor-cache": notCached,
		"dedup-size-not-in-seed-nor-cache-compressed": 0, // no --chunks-info
		"chunk-size-min": f.ix.Min,
		"chunk-size-avg": f.ix.Avg,
		"chunk-size-max": f.ix.Max,
	}
	for k, v := range want {
		if n, ok := got[k].(float64); !ok || uint64(n) != v {
			t.Errorf("info %s = %v, want %d", k, got[k], v)
		}
	}
	if got["digest"] != "sha512-256" {
		t.Errorf("info digest = %v", got["digest"])
	}

	t.Run("plain", func(t *testing.T) {
		r := mustRun(t, nil, "info", "-s", part, "-c", cache, "-f", "plain", f.index)
		for _, line := range []string{
			fmt.Sprintf("Blob size: %d\n", len(f.data)),
			fmt.Sprintf("Chunks in store: %d\n", len(inPart)),
			fmt.Sprintf("Chunks in cache: %d\n", len(inCache)),
			fmt.Sprintf("Unique chunks: %d\n", len(f.ids)),
			fmt.Sprintf("Size of deduplicated chunks not in seed nor cache: %d\n", notCached),
		} {
			if !strings.Contains(r.stdout, line) {
				t.Errorf("plain output %q lacks %q", r.stdout, line)
			}
		}
	})
	t.Run("chunks-info", func(t *testing.T) {
		infoFile := filepath.Join(f.dir, "chunks.json")
		mustRun(t, nil, "inspect-chunks", "-s", f.store, f.index, infoFile)
		var compressed uint64
		files := storeChunks(t, f.store)
		for i, id := range f.ids {
			if i%2 == 1 {
				compressed += uint64(files[id])
			}
		}
		r := mustRun(t, nil, "info", "-c", cache, "--chunks-info", infoFile, f.index)
		var info indexInfo
		if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
			t.Fatal(err)
		}
		if compressed == 0 || info.SizeNotInSeedNorCacheCompressed != compressed {
			t.Errorf("compressed estimate %d, want %d", info.SizeNotInSeedNorCacheCompressed, compressed)
		}
		// Without compressed sizes (inspect-chunks without -s) there is no estimate.
		plainInfo := filepath.Join(f.dir, "plain.json")
		mustRun(t, nil, "inspect-chunks", f.index, plainInfo)
		r = mustRun(t, nil, "info", "-c", cache, "--chunks-info", plainInfo, f.index)
		if err := json.Unmarshal([]byte(r.stdout), &info); err != nil || info.SizeNotInSeedNorCacheCompressed != 0 {
			t.Errorf("estimate from sizes that are not there: %d (%v)", info.SizeNotInSeedNorCacheCompressed, err)
		}
		// A chunks-info file of another index is refused.
		other := filepath.Join(f.dir, "other.json")
		b := bytes.Replace(mustRead(t, infoFile), []byte(fmt.Sprintf(`"uncompressed_size": %d`, f.ix.Chunks[1].Size)), []byte(`"uncompressed_size": 1`), 1)
		writeFile(t, other, b)
		expect(t, 1, nil, []string{other, f.ix.Chunks[1].ID.String()}, "info", "--chunks-info", other, f.index)
		expect(t, 1, nil, []string{"nope.json"}, "info", "--chunks-info", filepath.Join(f.dir, "nope.json"), f.index)
	})
	t.Run("bad format", func(t *testing.T) {
		expect(t, 2, nil, []string{"xml"}, "info", "-f", "xml", f.index)
	})
	t.Run("broken store", func(t *testing.T) {
		broken := filepath.Join(f.dir, "broken")
		copyChunks(t, f.store, broken, f.ids)
		breakStore(t, broken)
		expect(t, 1, nil, []string{broken}, "info", "-s", broken, f.index)
	})
}

func TestInspectChunks(t *testing.T) {
	f := newFixture(t)
	files := storeChunks(t, f.store)
	for _, withStore := range []bool{true, false} {
		args := []string{"inspect-chunks", f.index}
		if withStore {
			args = []string{"inspect-chunks", "-s", f.store, f.index}
		}
		r := mustRun(t, nil, args...)
		var list []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
			t.Fatalf("%v: %q: %v", args, r.stdout, err)
		}
		if len(list) != len(f.ix.Chunks) {
			t.Fatalf("%v: %d entries, want %d", args, len(list), len(f.ix.Chunks))
		}
		for i, e := range list {
			c := f.ix.Chunks[i]
			if e["id"] != c.ID.String() || e["uncompressed_size"] != float64(c.Size) {
				t.Errorf("%v: entry %d = %v, want %s %d", args, i, e, c.ID, c.Size)
			}
			cs, has := e["compressed_size"]
			switch {
			case withStore && cs != float64(files[c.ID.String()]):
				t.Errorf("%v: entry %d compressed_size %v, chunk file has %d bytes", args, i, cs, files[c.ID.String()])
			case !withStore && has:
				t.Errorf("%v: entry %d has a compressed_size without a store", args, i)
			}
		}
	}
	// To a file, and a chunk missing from the store has no compressed size.
	s := filepath.Join(f.dir, "partial")
	copyChunks(t, f.store, s, f.ids[1:])
	out := filepath.Join(f.dir, "chunks.json")
	mustRun(t, nil, "inspect-chunks", "-s", s, f.index, out)
	var list []chunkInfo
	if err := json.Unmarshal(mustRead(t, out), &list); err != nil {
		t.Fatal(err)
	}
	if list[0].CompressedSize != 0 || list[1].CompressedSize != files[f.ids[1]] {
		t.Errorf("compressed sizes %d %d", list[0].CompressedSize, list[1].CompressedSize)
	}
	expect(t, 2, nil, nil, "inspect-chunks", "-s", s, "-s", f.store, f.index)
}

func TestConcurrentMakes(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	base := genRandom(t, 2<<20, 7)
	type job struct {
		input, index string
		data         []byte
	}
	var jobs []job
	for i := range 4 {
		// Each input shares its first MiB with the others, then differs,
		// then shares the tail of base again.
		d := slices.Clone(base)
		copy(d[1<<20:], genRandom(t, 256<<10, uint64(100+i)))
		in := writeFile(t, filepath.Join(dir, fmt.Sprintf("in%d", i)), d)
		jobs = append(jobs, job{in, filepath.Join(dir, fmt.Sprintf("in%d.caibx", i)), d})
	}
	var wg sync.WaitGroup
	results := make([]result, len(jobs))
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out, errb bytes.Buffer
			code := Run(context.Background(), []string{"make", "-s", store, "-n", "2", j.index, j.input}, Stdio{In: bytes.NewReader(nil), Out: &out, Err: &errb})
			results[i] = result{code, out.String(), errb.String()}
		}()
	}
	wg.Wait()
	var all []string
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("make %d: exit %d: %s", i, r.code, r.stderr)
		}
		all = append(all, uniqueIDs(readIndex(t, jobs[i].index))...)
	}
	assertNoTemp(t, store)
	assertSameIDs(t, "store", storeChunks(t, store), all)
	for _, j := range jobs {
		extractOK(t, j.data, j.index, "-s", store)
	}
	mustRun(t, nil, "verify", "-s", store)
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
// logs one line per retry and fails with one line that names the store and
// the chunk once each. -e N makes N tries in all, as desync's does.
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
		stderr := extractFails(t, []string{"connection refused"}, index, "-s", store, "-e", tc.retry, "-b", "1ms")
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		if len(lines) != tc.retries+1 {
			t.Errorf("-e %s: %d lines on stderr, want %d retries and the error: %q", tc.retry, len(lines), tc.retries, stderr)
		}
		for _, l := range lines[:len(lines)-1] {
			if !strings.Contains(l, "retrying") {
				t.Errorf("-e %s: stderr line %q is not a retry", tc.retry, l)
			}
		}
		last := lines[len(lines)-1]
		if strings.Count(last, store) != 1 || strings.Count(last, id) != 1 {
			t.Errorf("-e %s: the error %q should name the store %s and the chunk %s once each", tc.retry, last, store, id)
		}
	}
}

// TestVerifyMisplaced: a chunk file under another chunk's directory is
// reported by name (not skipped), counted, and deleted by verify -r.
func TestVerifyMisplaced(t *testing.T) {
	f := newFixture(t)
	id := f.ids[0]
	wrong := "abcd"
	if id[:4] == wrong {
		wrong = "abce"
	}
	name := wrong + "/" + id + ".cacnk"
	if err := os.MkdirAll(filepath.Join(f.store, wrong), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(chunkPath(f.store, id), filepath.Join(f.store, name)); err != nil {
		t.Fatal(err)
	}
	n := len(f.ids)
	expect(t, 1, nil, []string{"misplaced chunk file " + name, fmt.Sprintf("%d chunks checked, 0 invalid, 1 misplaced, 0 deleted", n), "-r"},
		"verify", "-s", f.store)
	expect(t, 0, nil, []string{name, fmt.Sprintf("%d chunks checked, 0 invalid, 1 misplaced, 1 deleted", n)}, "verify", "-s", f.store, "-r")
	if _, err := os.Stat(filepath.Join(f.store, name)); !os.IsNotExist(err) {
		t.Errorf("verify -r left %s: %v", name, err)
	}
	expect(t, 0, nil, []string{fmt.Sprintf("%d chunks checked, 0 invalid, 0 misplaced, 0 deleted", n-1)}, "verify", "-s", f.store)
}

// TestVerifyZstdBomb: a chunk file of a few hundred KiB that decodes to
// 8 GiB is reported invalid, naming the chunk and the size cap (the
// decoder stops at the cap), and verify -r deletes it.
func TestVerifyZstdBomb(t *testing.T) {
	isolate(t)
	store := t.TempDir()
	// A zstd frame of 128 KiB RLE blocks of zeros, without a content size.
	bomb := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3}
	const block = 128 << 10
	for n := 8 << 30; n > 0; n -= block {
		h := uint32(block)<<3 | 1<<1
		if n == block {
			h |= 1
		}
		bomb = append(bomb, byte(h), byte(h>>8), byte(h>>16), 0)
	}
	id := strings.Repeat("7b", 32)
	if err := os.MkdirAll(filepath.Join(store, id[:4]), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, chunkPath(store, id), bomb)
	expect(t, 1, nil, []string{"invalid chunk " + id, "more than the 134217728-byte limit", "1 chunks checked, 1 invalid"}, "verify", "-s", store)
	expect(t, 0, nil, []string{"1 invalid, 0 misplaced, 1 deleted"}, "verify", "-s", store, "-r")
	if _, err := os.Stat(chunkPath(store, id)); !os.IsNotExist(err) {
		t.Errorf("verify -r left the bomb: %v", err)
	}
}
