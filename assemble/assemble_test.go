package assemble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/chunker"
	"github.com/folbricht/desync/storage"
)

// vectors are casync's blob indexes, the input each was made from and the
// store that holds its chunks (testdata, copied from shared/testdata/casync).
var vectors = []struct{ index, input, store string }{
	{"blob1.caibx", "blob1.bin", "blob.castr"},
	{"blob2.caibx", "blob2.bin", "blob.castr"},
	{"zero.caibx", "zero.bin", "blob.castr"},
	{"empty.caibx", "empty.bin", "blob.castr"},
	{"tiny.caibx", "tiny.bin", "blob.castr"},
	{"text.caibx", "text.bin", "blob.castr"},
	{"text.fixed8k.caibx", "text.bin", "blob.castr"},
	{"blob1.cs16k.caibx", "blob1.bin", "blob-cs16k.castr"},
	{"text.sha256.caibx", "text.bin", "text-sha256.castr"},
}

func readIndex(t testing.TB, name string) *caindex.Index {
	t.Helper()
	ix, err := caindex.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func localStore(t testing.TB, dir string, ix *caindex.Index) *storage.Local {
	t.Helper()
	s, err := storage.NewLocal(dir, storage.LocalOptions{Digest: ix.Digest(), MaxChunkSize: int(ix.Max)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMakeVectors makes every vector with casync's options: the index must be
// byte-identical, whether streamed (IndexTo) or returned, and the store must
// hold exactly the index's chunks, each decoding to data that hashes to its
// name.
func TestMakeVectors(t *testing.T) {
	ctx := context.Background()
	for _, v := range vectors {
		t.Run(v.index, func(t *testing.T) {
			want, _ := os.ReadFile(filepath.Join("testdata", v.index))
			ref := readIndex(t, v.index)
			in, err := os.Open(filepath.Join("testdata/inputs", v.input))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			dir := t.TempDir()
			store := localStore(t, dir, ref)
			var got bytes.Buffer
			hdr, stats, err := Make(ctx, iotest.HalfReader(in), MakeOptions{
				Params:      chunker.Params{Min: ref.Min, Avg: ref.Avg, Max: ref.Max},
				Digest:      ref.Digest(),
				Store:       store,
				IndexTo:     &got,
				CountUnique: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("streamed index differs from casync's")
			}
			if hdr.Flags != ref.Flags || hdr.Max != ref.Max || len(hdr.Chunks) != 0 {
				t.Errorf("with IndexTo, Make returned %+v, want the header alone", hdr)
			}
			ix := ref
			ids := map[chunk.ID]bool{}
			for _, c := range ix.Chunks {
				ids[c.ID] = true
			}
			if stats.UniqueChunks != len(ids) || stats.StoredChunks != len(ids) || stats.Chunks != len(ix.Chunks) {
				t.Errorf("stats %+v for %d chunks, %d unique", stats, len(ix.Chunks), len(ids))
			}
			files := 0
			z, _ := chunk.NewZstd(chunk.ZstdOptions{})
			store.Close() // gives up its owner lock file; it can still be written
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if d.IsDir() {
					return nil
				}
				files++
				id, err := chunk.ParseID(strings.TrimSuffix(d.Name(), ".cacnk"))
				if err != nil || !ids[id] {
					t.Errorf("unexpected file %s in store", p)
					return nil
				}
				b, _ := os.ReadFile(p)
				if err := chunk.NewStored(id, b, z).Verify(ix.Digest()); err != nil {
					t.Errorf("stored chunk: %v", err)
				}
				return nil
			})
			if files != len(ids) {
				t.Errorf("%d files in store, want %d", files, len(ids))
			}
			// A second make into the same store writes nothing; it returns
			// the whole index.
			in.Seek(0, io.SeekStart)
			ix2, stats, err := Make(ctx, in, MakeOptions{Params: chunker.Params{Min: ref.Min, Avg: ref.Avg, Max: ref.Max}, Digest: ref.Digest(), Store: store})
			if err != nil || stats.StoredChunks != 0 || stats.InStore != len(ids) || stats.UniqueChunks != 0 {
				t.Errorf("second make: %+v, %v", stats, err)
			}
			got.Reset()
			if ix2.WriteTo(&got); !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("returned index differs from casync's")
			}
		})
	}
}

func TestMakeConcurrencyAndBlocks(t *testing.T) {
	// Inputs larger than one read block, with chunks straddling blocks, give
	// the same index at every concurrency.
	data := bytes.Repeat(mustRead(t, "testdata/inputs/blob2.bin"), 9)
	var first []byte
	for _, n := range []int{1, 2, 7} {
		store, err := storage.NewLocal(t.TempDir(), storage.LocalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ix, stats, err := Make(context.Background(), bytes.NewReader(data), MakeOptions{Store: store, Concurrency: n, CountUnique: true, Params: chunker.Params{Min: 4096, Avg: 16384, Max: 65536}})
		if err != nil {
			t.Fatal(err)
		}
		store.Close()
		// The input repeats 9 times: most chunks are repeats, stored once.
		distinct := map[chunk.ID]bool{}
		for _, c := range ix.Chunks {
			distinct[c.ID] = true
		}
		if stats.UniqueChunks != len(distinct) || stats.UniqueChunks >= len(ix.Chunks) || stats.StoredChunks != len(distinct) {
			t.Errorf("%d unique chunks reported, %d stored, %d distinct of %d", stats.UniqueChunks, stats.StoredChunks, len(distinct), len(ix.Chunks))
		}
		var b bytes.Buffer
		ix.WriteTo(&b)
		if first == nil {
			first = b.Bytes()
			want := chunkAll(t, data, ix)
			if len(want) != len(ix.Chunks) {
				t.Fatalf("%d chunks, chunker says %d", len(ix.Chunks), len(want))
			}
		} else if !bytes.Equal(first, b.Bytes()) {
			t.Fatalf("concurrency %d gives a different index", n)
		}
	}
}

// TestMakeRecentIDs makes an input whose second half repeats its first half
// after more distinct chunks than make remembers: every chunk is still
// stored once, the repeats are found in the store, and only without
// CountUnique are they counted as chunks the store already had.
func TestMakeRecentIDs(t *testing.T) {
	const size = 64 // fixed-size chunks
	half := make([]byte, (2*recentMax+100)*size)
	rand.NewChaCha8([32]byte{1}).Read(half)
	data := append(half, half...)
	for _, count := range []bool{true, false} {
		store := newMemStore()
		_, stats, err := Make(context.Background(), bytes.NewReader(data), MakeOptions{
			Store: store, CountUnique: count, Params: chunker.Params{Min: size, Avg: size, Max: size},
		})
		if err != nil {
			t.Fatal(err)
		}
		distinct := len(half) / size
		if stats.StoredChunks != distinct || len(store.chunks) != distinct || store.stores != distinct {
			t.Errorf("CountUnique %v: %d chunks stored (%d StoreChunk calls), want each of %d once", count, stats.StoredChunks, store.stores, distinct)
		}
		if store.has < distinct+distinct/2 {
			t.Errorf("CountUnique %v: %d HasChunk calls; the repeats beyond the recent IDs should ask the store", count, store.has)
		}
		switch {
		case count && (stats.UniqueChunks != distinct || stats.InStore != 0):
			t.Errorf("CountUnique: %d unique, %d in store; want %d, 0", stats.UniqueChunks, stats.InStore, distinct)
		case !count && (stats.UniqueChunks != 0 || stats.InStore == 0):
			t.Errorf("without CountUnique: %d unique, %d in store; want 0 and the repeats", stats.UniqueChunks, stats.InStore)
		}
	}
}

func TestRecentIDs(t *testing.T) {
	var r recentIDs
	id := func(i int) chunk.ID { return chunk.ID{byte(i), byte(i >> 8), byte(i >> 16)} }
	in := func(i int) bool {
		_, cur := r.cur[id(i)]
		_, old := r.old[id(i)]
		return cur || old
	}
	const n = 3*recentMax + 5
	for i := range n {
		if r.add(id(i)) {
			t.Fatalf("new ID %d reported as seen", i)
		}
	}
	for i := n - recentMax; i < n; i++ {
		if !in(i) {
			t.Fatalf("ID %d forgotten, %d IDs later", i, n-1-i)
		}
	}
	if in(0) || in(recentMax) {
		t.Error("IDs of two generations ago remembered")
	}
	if len(r.cur) > recentMax || len(r.old) > recentMax {
		t.Errorf("generations of %d and %d IDs, want at most %d", len(r.cur), len(r.old), recentMax)
	}
	if !r.add(id(n-1)) || !r.add(id(n-recentMax)) {
		t.Error("a remembered ID reported as new")
	}
}

// TestExtractWindows extracts an index of more chunks than one plan window,
// made of a few distinct chunks that repeat throughout: the output is right,
// and each distinct chunk is fetched once per window.
func TestExtractWindows(t *testing.T) {
	ix, store := windowsIndex(t)
	var want []byte
	wantFetched := 0
	inWindow := map[chunk.ID]bool{}
	for i, c := range ix.Chunks {
		if i%planWindow == 0 {
			clear(inWindow)
		}
		if !inWindow[c.ID] {
			inWindow[c.ID] = true
			wantFetched++
		}
		want = append(want, store.chunks[c.ID]...)
	}
	dir := t.TempDir()
	var full bytes.Buffer
	ix.WriteTo(&full)
	for _, stream := range []bool{false, true} {
		out := filepath.Join(dir, fmt.Sprint(stream))
		var stats ExtractStats
		var err error
		if stream {
			r, _ := caindex.NewReader(&full)
			stats, err = ExtractStream(context.Background(), r, out, ExtractOptions{Store: store, NoSync: true})
		} else {
			stats, err = ExtractFile(context.Background(), ix, out, ExtractOptions{Store: store, NoSync: true})
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, out); !bytes.Equal(got, want) {
			t.Fatalf("stream %v: output differs", stream)
		}
		if stats.ChunksFetched != wantFetched || stats.ChunksFromStore != len(ix.Chunks) || stats.ChunksTotal != len(ix.Chunks) || stats.BytesTotal != uint64(len(want)) {
			t.Errorf("stream %v: stats %+v; want %d fetched (each distinct chunk once per window), %d chunks of %d bytes", stream, stats, wantFetched, len(ix.Chunks), len(want))
		}
	}
}

// windowsIndex returns an index of more than two plan windows of 8-byte
// chunks, made of 1000 distinct chunks that repeat throughout, and a store
// that holds them.
func windowsIndex(t *testing.T) (*caindex.Index, *memStore) {
	const size, distinct, n = 8, 1000, 2*planWindow + 5000
	store := newMemStore()
	ix := caindex.New(chunk.SHA512_256, size, size, size)
	ids := make([]chunk.ID, distinct)
	for k := range ids {
		b := binary.LittleEndian.AppendUint64(nil, uint64(k+1))
		ids[k] = chunk.SHA512_256.Sum(b)
		store.chunks[ids[k]] = b
	}
	for i := range n {
		ix.Chunks = append(ix.Chunks, caindex.Chunk{ID: ids[(i*7919)%distinct], Start: uint64(i * size), Size: size})
	}
	return ix, store
}

// TestExtractStream rebuilds every vector from its index read as a stream,
// and expects ExtractFile's output and stats.
func TestExtractStream(t *testing.T) {
	ctx := context.Background()
	for _, v := range vectors {
		t.Run(v.index, func(t *testing.T) {
			ix := readIndex(t, v.index)
			store := localStore(t, filepath.Join("testdata", v.store), ix)
			dir := t.TempDir()
			want, err := ExtractFile(ctx, ix, filepath.Join(dir, "file"), ExtractOptions{Store: store, NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(filepath.Join("testdata", v.index))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := caindex.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			var p recordProgress
			out := filepath.Join(dir, "stream")
			got, err := ExtractStream(ctx, r, out, ExtractOptions{Store: store, Progress: &p})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(mustRead(t, out), mustRead(t, filepath.Join("testdata/inputs", v.input))) {
				t.Fatal("streamed extraction differs from the input")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("stats %+v, ExtractFile's %+v", got, want)
			}
			if p.total != int64(ix.Size()) || p.done.Load() != int64(ix.Size()) {
				t.Errorf("progress %d of %d, want %d of %d", p.done.Load(), p.total, ix.Size(), ix.Size())
			}
		})
	}
}

// recordProgress keeps the total of the assembling phase and the bytes
// added to it.
type recordProgress struct {
	total      int64
	done       atomic.Int64
	assembling bool
}

func (p *recordProgress) Phase(name string, total int64) {
	if p.assembling = name == "Assembling"; p.assembling {
		p.total = total
		p.done.Store(0)
	}
}

func (p *recordProgress) Add(n int64) {
	if p.assembling {
		p.done.Add(n)
	}
}

// TestExtractStreamFailures checks that a streamed extraction that fails,
// even after whole windows were written, leaves the output as it was.
func TestExtractStreamFailures(t *testing.T) {
	ctx := context.Background()
	ix, store := windowsIndex(t)
	var full bytes.Buffer
	if _, err := ix.WriteTo(&full); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	missing := ix.Chunks[planWindow+10]
	for _, tc := range []struct {
		name  string
		index []byte
		store chunk.Store
		o     ExtractOptions
		want  string
	}{
		{"index truncated in the second window", full.Bytes()[:full.Len()-1000], store, ExtractOptions{}, "truncated chunk table"},
		{"chunk missing in the second window", full.Bytes(), storeWithout(store, missing.ID), ExtractOptions{}, missing.ID.String()},
		{"seeds", full.Bytes(), store, ExtractOptions{Seeds: []Seed{{Path: out}}}, "no seeds"},
		{"in place", full.Bytes(), store, ExtractOptions{InPlace: true}, "not in place"},
		{"output is a directory", full.Bytes(), store, ExtractOptions{}, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := out
			if tc.name == "output is a directory" {
				target = dir
			}
			os.WriteFile(out, []byte("keep me"), 0o600)
			r, err := caindex.NewReader(bytes.NewReader(tc.index))
			if err != nil {
				t.Fatal(err)
			}
			tc.o.Store = tc.store
			_, err = ExtractStream(ctx, r, target, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one that says %q", err, tc.want)
			}
			if got := mustRead(t, out); string(got) != "keep me" {
				t.Error("the existing output changed")
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("%d files in the output's directory, want 1", len(ents))
			}
		})
	}
}

// storeWithout hides one chunk of s.
func storeWithout(s *memStore, id chunk.ID) *memStore {
	c := newMemStore()
	for k, v := range s.chunks {
		if k != id {
			c.chunks[k] = v
		}
	}
	return c
}

// errWriter fails every write with err.
type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

// memStore is a chunk store in memory that counts its calls.
type memStore struct {
	mu          sync.Mutex
	chunks      map[chunk.ID][]byte
	has, stores int
}

func newMemStore() *memStore { return &memStore{chunks: map[chunk.ID][]byte{}} }

func (s *memStore) HasChunk(_ context.Context, id chunk.ID) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.has++
	_, ok := s.chunks[id]
	return ok, nil
}

func (s *memStore) StoreChunk(_ context.Context, c *chunk.Chunk) error {
	b, err := c.Plain()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stores++
	s.chunks[c.ID()] = bytes.Clone(b)
	return nil
}

func (s *memStore) GetChunk(_ context.Context, id chunk.ID) (*chunk.Chunk, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.chunks[id]
	if !ok {
		return nil, &chunk.MissingError{ID: id, Store: "memory"}
	}
	return chunk.New(id, b), nil
}

func (s *memStore) Close() error   { return nil }
func (s *memStore) String() string { return "memory" }

func chunkAll(t *testing.T, data []byte, ix *caindex.Index) []int {
	c, _ := chunker.New(chunker.Params{Min: ix.Min, Avg: ix.Avg, Max: ix.Max})
	ends := c.Split(data)
	for i, e := range ends {
		if ix.Chunks[i].End() != uint64(e) || ix.Chunks[i].ID != chunk.SHA512_256.Sum(data[ix.Chunks[i].Start:e]) {
			t.Fatalf("chunk %d differs from the chunker's", i)
		}
	}
	return ends
}

func mustRead(t testing.TB, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMakeErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	_, _, err := Make(context.Background(), io.MultiReader(bytes.NewReader(make([]byte, 5<<20)), iotest.ErrReader(boom)), MakeOptions{})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "offset 5242880") {
		t.Errorf("read error: %v", err)
	}
	if _, _, err := Make(context.Background(), bytes.NewReader(nil), MakeOptions{Params: chunker.Params{Min: 9, Avg: 8, Max: 7}}); err == nil {
		t.Error("bad params accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Make(ctx, bytes.NewReader(make([]byte, 10<<20)), MakeOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled make: %v", err)
	}
	if _, _, err := Make(ctx, bytes.NewReader(make([]byte, 10<<20)), MakeOptions{IndexTo: io.Discard}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled make with IndexTo: %v", err)
	}
	// An index that cannot be written fails the make, at once or at the end.
	for _, size := range []int{1 << 10, 8 << 20} {
		_, _, err = Make(context.Background(), bytes.NewReader(make([]byte, size)), MakeOptions{IndexTo: errWriter{boom}, Params: chunker.Params{Min: 64, Avg: 64, Max: 64}})
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "writing the index") {
			t.Errorf("%d bytes, unwritable index: %v", size, err)
		}
	}
	// A store that cannot be written fails the make, naming chunk and offset.
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	s, _ := storage.NewLocal(filepath.Join(t.TempDir(), "s"), storage.LocalOptions{})
	blocker := filepath.Dir(s.Path(chunk.SHA512_256.Sum([]byte("hello world")))) // a file where the 0ac5 directory goes
	os.MkdirAll(filepath.Dir(blocker), 0o755)
	os.WriteFile(blocker, nil, 0o644)
	_, _, err = Make(context.Background(), strings.NewReader("hello world"), MakeOptions{Store: s})
	if err == nil || !strings.Contains(err.Error(), "0ac561fa") || !strings.Contains(err.Error(), "offset 0") {
		t.Errorf("unwritable store: %v", err)
	}
}

// TestExtractVectors rebuilds every input from casync's own stores.
func TestExtractVectors(t *testing.T) {
	ctx := context.Background()
	for _, v := range vectors {
		t.Run(v.index, func(t *testing.T) {
			ix := readIndex(t, v.index)
			want := mustRead(t, filepath.Join("testdata/inputs", v.input))
			store := localStore(t, filepath.Join("testdata", v.store), ix)
			out := filepath.Join(t.TempDir(), "out")
			stats, err := ExtractFile(ctx, ix, out, ExtractOptions{Store: store})
			if err != nil {
				t.Fatal(err)
			}
			if got := mustRead(t, out); !bytes.Equal(got, want) {
				t.Fatal("extracted file differs")
			}
			if stats.ChunksTotal != len(ix.Chunks) || stats.ChunksFromStore+stats.ChunksZero != len(ix.Chunks) {
				t.Errorf("stats %+v", stats)
			}
			// Again without syncing, over the first output.
			os.WriteFile(out, []byte("old"), 0o644)
			if _, err := ExtractFile(ctx, ix, out, ExtractOptions{Store: store, NoSync: true}); err != nil {
				t.Fatal(err)
			}
			if got := mustRead(t, out); !bytes.Equal(got, want) {
				t.Fatal("NoSync: extracted file differs")
			}
			if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 1 {
				t.Errorf("NoSync: %d files next to the output, want 1", len(ents))
			}
			var buf bytes.Buffer
			stats, err = ExtractWriter(ctx, ix, &buf, ExtractOptions{Store: store, Concurrency: 3})
			if err != nil || !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("ExtractWriter: %v", err)
			}
			if stats.ChunksFromStore+stats.ChunksZero != len(ix.Chunks) {
				t.Errorf("ExtractWriter stats %+v do not add up to %d chunks", stats, len(ix.Chunks))
			}
			if err := VerifyIndex(ctx, ix, bytes.NewReader(want), int64(len(want)), 2); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestExtractZeroIsSparse(t *testing.T) {
	ix := readIndex(t, "zero.caibx")
	out := filepath.Join(t.TempDir(), "out")
	stats, err := ExtractFile(context.Background(), ix, out, ExtractOptions{Store: localStore(t, "testdata/blob.castr", ix)})
	if err != nil {
		t.Fatal(err)
	}
	// 4 chunks are the null chunk (never fetched), the last is zero content.
	if stats.ChunksZero != 5 || stats.ChunksFetched != 1 {
		t.Errorf("stats %+v, want 5 zero chunks, 1 fetched", stats)
	}
	if blocks := allocatedBytes(t, out); blocks > 64<<10 {
		t.Errorf("%d bytes allocated for an all-zero file, want a hole", blocks)
	}
}

// TestExtractFailures checks that every failure names what went wrong,
// leaves no temporary file, and leaves an existing output untouched.
func TestExtractFailures(t *testing.T) {
	ctx := context.Background()
	ix := readIndex(t, "blob1.caibx")
	victim := ix.Chunks[7]

	// A copy of the store that we can damage.
	copyStore := func(t *testing.T) *storage.Local {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS("testdata/blob.castr")); err != nil {
			t.Fatal(err)
		}
		return localStore(t, dir, ix)
	}
	z, _ := chunk.NewZstd(chunk.ZstdOptions{})
	replace := func(s *storage.Local, b []byte) {
		os.Remove(s.Path(victim.ID))
		os.WriteFile(s.Path(victim.ID), b, 0o644)
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) (*caindex.Index, chunk.Store)
		want  []string
	}{
		{"missing chunk", func(t *testing.T) (*caindex.Index, chunk.Store) {
			s := copyStore(t)
			os.Remove(s.Path(victim.ID))
			return ix, s
		}, []string{victim.ID.String(), fmt.Sprintf("offset %d", victim.Start), "missing"}},
		{"content does not match name", func(t *testing.T) (*caindex.Index, chunk.Store) {
			s := copyStore(t)
			b, _ := z.Encode(nil, []byte("something else"))
			replace(s, b)
			return ix, s
		}, []string{victim.ID.String(), "hashes to"}},
		{"corrupt zstd frame", func(t *testing.T) (*caindex.Index, chunk.Store) {
			s := copyStore(t)
			b := mustRead(t, s.Path(victim.ID))
			b[len(b)/2] ^= 0x55
			replace(s, b)
			return ix, s
		}, []string{victim.ID.String(), "invalid chunk"}},
		{"chunk larger than max", func(t *testing.T) (*caindex.Index, chunk.Store) {
			s := copyStore(t)
			b, _ := z.Encode(nil, make([]byte, ix.Max+1))
			replace(s, b)
			return ix, s
		}, []string{victim.ID.String(), "limit"}},
		{"chunk size differs from index", func(t *testing.T) (*caindex.Index, chunk.Store) {
			bad := *ix
			bad.Chunks = append([]caindex.Chunk(nil), ix.Chunks...)
			// Make the last two entries claim the wrong split of the same bytes.
			n := len(bad.Chunks)
			bad.Chunks[n-2].Size += 10
			bad.Chunks[n-1].Start += 10
			bad.Chunks[n-1].Size -= 10
			return &bad, localStore(t, "testdata/blob.castr", ix)
		}, []string{"the index says"}},
		{"digest of the other kind", func(t *testing.T) (*caindex.Index, chunk.Store) {
			sha := readIndex(t, "text.sha256.caibx")
			// A SHA-256 index against a store verifying SHA-512/256 names.
			s, _ := storage.NewLocal("testdata/text-sha256.castr", storage.LocalOptions{Digest: chunk.SHA512_256})
			return sha, s
		}, []string{"hashes to"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix, store := tc.setup(t)
			dir := t.TempDir()
			out := filepath.Join(dir, "out.bin")
			os.WriteFile(out, []byte("precious"), 0o600)
			_, err := ExtractFile(ctx, ix, out, ExtractOptions{Store: store})
			if err == nil {
				t.Fatal("extract succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if b := mustRead(t, out); string(b) != "precious" {
				t.Error("existing output was changed")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("%d files left in the output directory, want 1", len(entries))
			}
			var buf bytes.Buffer
			stats, err := ExtractWriter(ctx, ix, &buf, ExtractOptions{Store: store})
			if err == nil {
				t.Error("ExtractWriter succeeded")
			}
			// The stats count what was written, not the whole index.
			if got := stats.ChunksFromStore + stats.ChunksZero; got >= len(ix.Chunks) {
				t.Errorf("failed ExtractWriter counts %d of %d chunks as written", got, len(ix.Chunks))
			}
		})
	}
}

func TestExtractCancel(t *testing.T) {
	ix := readIndex(t, "blob1.caibx")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	if _, err := ExtractFile(ctx, ix, filepath.Join(dir, "out"), ExtractOptions{Store: localStore(t, "testdata/blob.castr", ix)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files left behind", len(entries))
	}
}

func TestVerifyIndexMismatch(t *testing.T) {
	ix := readIndex(t, "blob1.caibx")
	data := mustRead(t, "testdata/inputs/blob1.bin")
	bad := bytes.Clone(data)
	bad[ix.Chunks[3].Start+5] ^= 1
	bad[ix.Chunks[11].Start] ^= 1
	err := VerifyIndex(context.Background(), ix, bytes.NewReader(bad), int64(len(bad)), 2)
	var me *MismatchError
	if !errors.As(err, &me) || me.Count != 2 || me.Mismatches[0].Index != 3 || me.Mismatches[1].Index != 11 || !errors.Is(err, ErrMismatch) {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), ix.Chunks[11].ID.String()) {
		t.Errorf("error does not name the chunk: %v", err)
	}
	if err := VerifyIndex(context.Background(), ix, bytes.NewReader(data[:100]), 100, 2); !errors.Is(err, ErrMismatch) {
		t.Errorf("short file: %v", err)
	}

	// The null chunks of an index are checked as zeros, the others hashed:
	// a byte set in a null chunk and one in the last chunk (past the first
	// 1 MiB piece) are both found.
	zix := readIndex(t, "zero.caibx")
	zeros := mustRead(t, "testdata/inputs/zero.bin")
	last := len(zix.Chunks) - 1
	if zix.Chunks[last].Start < 1<<20 {
		t.Fatal("zero.bin's last chunk starts in the first piece")
	}
	zeros[zix.Chunks[1].Start+7] = 1
	zeros[zix.Chunks[last].Start] = 1
	err = VerifyIndex(context.Background(), zix, bytes.NewReader(zeros), int64(len(zeros)), 2)
	if !errors.As(err, &me) || me.Count != 2 || me.Mismatches[0].Index != 1 || me.Mismatches[1].Index != last {
		t.Errorf("a byte set in a null chunk and in the last: %v", err)
	}
}

// TestMakeArchiveFlags: an archive index carries the archive's feature
// flags, and flags that contradict the digest are refused.
func TestMakeArchiveFlags(t *testing.T) {
	const archive = 0xb0000001ffeffe26 // casync's default for a tree
	var buf bytes.Buffer
	ix, _, err := Make(context.Background(), bytes.NewReader(make([]byte, 100000)), MakeOptions{Digest: chunk.SHA512_256, Flags: archive, IndexTo: &buf})
	if err != nil {
		t.Fatal(err)
	}
	back, err := caindex.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Flags != archive || back.Flags != archive {
		t.Fatalf("flags %#x, written %#x, want %#x", ix.Flags, back.Flags, uint64(archive))
	}
	if _, _, err := Make(context.Background(), bytes.NewReader(nil), MakeOptions{Digest: chunk.SHA256, Flags: archive}); err == nil || !strings.Contains(err.Error(), "digest") {
		t.Fatalf("SHA-256 make with SHA-512/256 archive flags: %v", err)
	}
}
