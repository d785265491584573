package assemble

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/chunker"
	"github.com/folbricht/desync/storage"
)

// seedParams are small chunk sizes, so a few MiB make hundreds of chunks.
var seedParams = chunker.Params{Min: 2 << 10, Avg: 8 << 10, Max: 32 << 10}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	var s [32]byte
	s[0] = byte(seed)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

// seedFixture is an old and a new version of a file, both in one store.
type seedFixture struct {
	dir            string
	store          *storage.Local
	oldPath, newIx string
	old, new       []byte
	oldIx, ix      *caindex.Index
}

// newSeedFixture writes old to dir/old.bin with its index dir/old.bin.caibx
// and makes both versions into a store.
func newSeedFixture(t *testing.T, old, new []byte) *seedFixture {
	t.Helper()
	f := &seedFixture{dir: t.TempDir(), old: old, new: new}
	f.oldPath = filepath.Join(f.dir, "old.bin")
	if err := os.WriteFile(f.oldPath, old, 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	f.store, err = storage.NewLocal(filepath.Join(f.dir, "store"), storage.LocalOptions{MaxChunkSize: int(seedParams.Max)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Close() })
	mk := func(b []byte) *caindex.Index {
		ix, _, err := Make(context.Background(), bytes.NewReader(b), MakeOptions{Params: seedParams, Store: f.store})
		if err != nil {
			t.Fatal(err)
		}
		return ix
	}
	f.oldIx, f.ix = mk(old), mk(new)
	writeIndex(t, f.oldPath+".caibx", f.oldIx)
	return f
}

func writeIndex(t *testing.T, path string, ix *caindex.Index) {
	t.Helper()
	var b bytes.Buffer
	if _, err := ix.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *seedFixture) indexSeed() Seed {
	return Seed{Path: f.oldPath, Index: f.oldIx, IndexPath: f.oldPath + ".caibx"}
}

// edits are the changes a new version makes to the old one.
var edits = []struct {
	name string
	edit func(old []byte) []byte
}{
	{"insert", func(o []byte) []byte { return concat(o[:1<<20], randomBytes(7, 10000), o[1<<20:]) }},
	{"delete", func(o []byte) []byte { return concat(o[:1<<20], o[1<<20+50000:]) }},
	{"overwrite", func(o []byte) []byte { return concat(o[:2<<20], randomBytes(8, 30000), o[2<<20+30000:]) }},
	{"truncate", func(o []byte) []byte { return concat(o[:len(o)-300000]) }},
	{"shift", func(o []byte) []byte { return concat([]byte{0x5a}, o) }},
	{"append", func(o []byte) []byte { return concat(o, randomBytes(9, 200000)) }},
	{"zeros", func(o []byte) []byte { return concat(o[:1<<20], make([]byte, 300000), o[1<<20:]) }},
	{"unrelated", func(o []byte) []byte { return randomBytes(10, len(o)) }},
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestExtractSeeds extracts edited versions of a file with the old version
// as a seed, in every form, and checks the output is exact and the seed
// supplied what it holds.
func TestExtractSeeds(t *testing.T) {
	ctx := context.Background()
	old := randomBytes(1, 4<<20)
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			f := newSeedFixture(t, old, e.edit(old))
			shared := sharedBytes(f.oldIx, f.ix)
			forms := []struct {
				name    string
				seeds   []Seed
				inPlace bool
			}{
				{"index", []Seed{f.indexSeed()}, false},
				{"plain", []Seed{{Path: f.oldPath}}, false},
				{"in-place", nil, true},
				{"in-place+index", []Seed{f.indexSeed()}, true},
			}
			for _, form := range forms {
				t.Run(form.name, func(t *testing.T) {
					out := filepath.Join(t.TempDir(), "out")
					if form.inPlace {
						if err := os.WriteFile(out, append([]byte(nil), old...), 0o600); err != nil {
							t.Fatal(err)
						}
						// In place, a seed cannot be the output; use a copy.
						for i := range form.seeds {
							form.seeds[i].Path = copyFile(t, f.oldPath)
						}
					}
					stats, err := ExtractFile(ctx, f.ix, out, ExtractOptions{Store: f.store, Seeds: form.seeds, InPlace: form.inPlace, NoReflink: true})
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(mustRead(t, out), f.new) {
						t.Fatal("output differs")
					}
					checkStatsAddUp(t, f.ix, stats)
					if stats.Seeds != len(form.seeds) {
						t.Errorf("stats.Seeds = %d, want %d", stats.Seeds, len(form.seeds))
					}
					reused := stats.BytesCopiedFromSeeds + stats.BytesClonedFromSeeds + inPlaceBytes(f.ix, stats)
					sameOffsets := e.name == "overwrite" || e.name == "append" || e.name == "truncate"
					if len(form.seeds) == 0 && !sameOffsets {
						// In place alone reuses only data at its old offset:
						// what precedes the edit.
						shared = 1 << 20
						if e.name == "shift" {
							shared = 0 // the edit is at offset 0
						}
					}
					if e.name != "unrelated" && reused < shared/2 {
						t.Errorf("reused %d bytes from the seed or in place, the versions share %d", reused, shared)
					}
					if e.name == "unrelated" && stats.ChunksFromSeeds+stats.ChunksInPlace != 0 {
						t.Errorf("%d chunks from an unrelated seed", stats.ChunksFromSeeds+stats.ChunksInPlace)
					}
					if form.inPlace && sameOffsets && stats.ChunksInPlace == 0 {
						t.Error("no chunk found in place")
					}
				})
			}
		})
	}
}

// sharedBytes is the size of the chunks of ix that old has too.
func sharedBytes(old, ix *caindex.Index) uint64 {
	have := map[chunk.ID]bool{}
	for _, c := range old.Chunks {
		have[c.ID] = true
	}
	var n uint64
	for _, c := range ix.Chunks {
		if have[c.ID] {
			n += c.Size
		}
	}
	return n
}

// inPlaceBytes estimates the bytes found in place from the count (the
// chunks' average size is good enough for a lower bound check).
func inPlaceBytes(ix *caindex.Index, s ExtractStats) uint64 {
	if len(ix.Chunks) == 0 {
		return 0
	}
	return uint64(s.ChunksInPlace) * ix.Size() / uint64(len(ix.Chunks))
}

// checkStatsAddUp checks that every chunk of the output is accounted for
// exactly once.
func checkStatsAddUp(t *testing.T, ix *caindex.Index, s ExtractStats) {
	t.Helper()
	if n := s.ChunksFromSeeds + s.ChunksFromStore + s.ChunksInPlace + s.ChunksZero; n != len(ix.Chunks) {
		t.Errorf("stats account for %d chunks, the index has %d: %+v", n, len(ix.Chunks), s)
	}
	if s.BytesTotal != ix.Size() || s.ChunksTotal != len(ix.Chunks) {
		t.Errorf("totals %d bytes / %d chunks, want %d / %d", s.BytesTotal, s.ChunksTotal, ix.Size(), len(ix.Chunks))
	}
}

func copyFile(t *testing.T, p string) string {
	t.Helper()
	q := filepath.Join(t.TempDir(), filepath.Base(p))
	if err := os.WriteFile(q, mustRead(t, p), 0o644); err != nil {
		t.Fatal(err)
	}
	return q
}

// TestExtractSelfSeed: a chunk that occurs many times is fetched once and
// written everywhere.
func TestExtractSelfSeed(t *testing.T) {
	blk := randomBytes(3, 200000)
	data := concat(blk, blk, randomBytes(4, 100000), blk, blk)
	f := newSeedFixture(t, []byte("x"), data)
	out := filepath.Join(t.TempDir(), "out")
	stats, err := ExtractFile(context.Background(), f.ix, out, ExtractOptions{Store: f.store})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustRead(t, out), data) {
		t.Fatal("output differs")
	}
	if stats.ChunksFetched >= stats.ChunksFromStore*2/3 {
		t.Errorf("fetched %d chunks for %d occurrences; repeats should be fetched once", stats.ChunksFetched, stats.ChunksFromStore)
	}
	checkStatsAddUp(t, f.ix, stats)
}

// phaseRecorder is a Progress that sums each phase.
type phaseRecorder struct {
	mu     sync.Mutex
	names  []string
	totals []int64
	done   []int64
}

func (p *phaseRecorder) Phase(name string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.names, p.totals, p.done = append(p.names, name), append(p.totals, total), append(p.done, 0)
}

func (p *phaseRecorder) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done[len(p.done)-1] += n
}

// TestExtractProgress: a phase per seed to chunk, then assembling, then
// syncing (none with NoSync); each phase's progress adds up to its total.
func TestExtractProgress(t *testing.T) {
	old := randomBytes(1, 2<<20)
	f := newSeedFixture(t, old, concat(old[:1<<20], make([]byte, 100000), randomBytes(5, 50000), old[1<<20:]))
	for _, tc := range []struct {
		inPlace, noSync bool
		seed            Seed
		phases          []string
	}{
		{false, false, Seed{Path: f.oldPath, Index: f.oldIx}, []string{"Assembling", "Syncing"}},
		{false, true, Seed{Path: f.oldPath, Index: f.oldIx}, []string{"Assembling"}},
		{true, false, Seed{Path: f.oldPath, Index: f.oldIx}, []string{"Assembling", "Syncing"}},
		{true, true, Seed{Path: f.oldPath, Index: f.oldIx}, []string{"Assembling"}},
		{false, false, Seed{Path: f.oldPath}, []string{"Chunking seed 1", "Assembling", "Syncing"}},
	} {
		out := filepath.Join(t.TempDir(), "out")
		os.WriteFile(out, old, 0o644)
		p := &phaseRecorder{}
		o := ExtractOptions{Store: f.store, InPlace: tc.inPlace, NoSync: tc.noSync, Seeds: []Seed{tc.seed}, Progress: p}
		if _, err := ExtractFile(context.Background(), f.ix, out, o); err != nil {
			t.Fatal(err)
		}
		if strings.Join(p.names, ",") != strings.Join(tc.phases, ",") {
			t.Errorf("phases %q, want %q", p.names, tc.phases)
			continue
		}
		for i := range p.names {
			if p.done[i] != p.totals[i] {
				t.Errorf("in place %v: phase %s adds up to %d of %d", tc.inPlace, p.names[i], p.done[i], p.totals[i])
			}
		}
		if i := slices.Index(p.names, "Assembling"); p.totals[i] != int64(f.ix.Size()) {
			t.Errorf("assembling total %d, the file has %d bytes", p.totals[i], f.ix.Size())
		}
	}
}

// TestInvalidSeeds: a seed whose data no longer matches its index.
func TestInvalidSeeds(t *testing.T) {
	ctx := context.Background()
	old := randomBytes(1, 4<<20)
	tampered := func(t *testing.T, f *seedFixture) {
		b := append([]byte(nil), f.old...)
		copy(b[2<<20:], randomBytes(11, 1000)) // the index still describes the old data
		os.WriteFile(f.oldPath, b, 0o644)
	}
	truncated := func(t *testing.T, f *seedFixture) {
		os.WriteFile(f.oldPath, f.old[:3<<20], 0o644)
	}
	for _, tc := range []struct {
		name    string
		damage  func(*testing.T, *seedFixture)
		inPlace bool
	}{
		{"tampered", tampered, false},
		{"tampered in place", tampered, true},
		{"truncated", truncated, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSeedFixture(t, old, concat(old, []byte("appended")))
			tc.damage(t, f)
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			before := []byte("the previous output")
			os.WriteFile(out, before, 0o644)

			// Default: fail, naming the seed and the offset; the output
			// stays as it was (unless in place, which is not atomic).
			_, err := ExtractFile(ctx, f.ix, out, ExtractOptions{Store: f.store, Seeds: []Seed{f.indexSeed()}, NoReflink: true, InPlace: tc.inPlace})
			var se *SeedError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), f.oldPath) || !strings.Contains(err.Error(), "offset") {
				t.Fatalf("err = %v, want a SeedError naming the seed and offset", err)
			}
			if !tc.inPlace {
				if !bytes.Equal(mustRead(t, out), before) {
					t.Error("the output changed after a failed extraction")
				}
				noTempFiles(t, dir)
			}

			// Skip: exact output from the store, the seed reported.
			os.WriteFile(out, before, 0o644)
			stats, err := ExtractFile(ctx, f.ix, out, ExtractOptions{Store: f.store, Seeds: []Seed{f.indexSeed()}, InvalidSeeds: InvalidSeedSkip, NoReflink: true, InPlace: tc.inPlace})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(mustRead(t, out), f.new) {
				t.Fatal("output differs")
			}
			if len(stats.InvalidSeeds) != 1 {
				t.Errorf("invalid seeds %q, want the one", stats.InvalidSeeds)
			}
			checkStatsAddUp(t, f.ix, stats)

			// Regenerate: the seed's index is made again in memory from its
			// data and used; the index file is left as it is.
			indexBefore := mustRead(t, f.oldPath+".caibx")
			os.WriteFile(out, before, 0o644)
			stats, err = ExtractFile(ctx, f.ix, out, ExtractOptions{Store: f.store, Seeds: []Seed{f.indexSeed()}, InvalidSeeds: InvalidSeedRegenerate, NoReflink: true, InPlace: tc.inPlace})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(mustRead(t, out), f.new) {
				t.Fatal("output differs")
			}
			if !bytes.Equal(mustRead(t, f.oldPath+".caibx"), indexBefore) {
				t.Error("the seed's index file was changed")
			}
			// Every chunk of the output that the seed's data now holds
			// came from the seed.
			now, _, _ := Make(ctx, bytes.NewReader(mustRead(t, f.oldPath)), MakeOptions{Params: seedParams})
			held := map[chunk.ID]bool{}
			for _, c := range now.Chunks {
				held[c.ID] = true
			}
			want := 0
			for _, c := range f.ix.Chunks {
				if held[c.ID] {
					want++
				}
			}
			if stats.ChunksFromSeeds != want || len(stats.RegeneratedSeeds) != 1 || len(stats.InvalidSeeds) != 0 {
				t.Errorf("%d chunks from the seed (want %d), regenerated %q, invalid %q", stats.ChunksFromSeeds, want, stats.RegeneratedSeeds, stats.InvalidSeeds)
			}
			checkStatsAddUp(t, f.ix, stats)
		})
	}
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// changingStore changes a seed file the first time a chunk is fetched: the
// seed changes after planning, while the extraction runs.
type changingStore struct {
	chunk.Store
	once   sync.Once
	change func()
}

func (s *changingStore) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	s.once.Do(s.change)
	return s.Store.GetChunk(ctx, id)
}

// TestSeedChangesDuringExtract: the new version differs from the seed at
// its start, so the first task fetches from the store, and that changes
// the seed; the seed data read afterwards no longer matches.
func TestSeedChangesDuringExtract(t *testing.T) {
	ctx := context.Background()
	old := randomBytes(1, 4<<20)
	f := newSeedFixture(t, old, concat(randomBytes(12, 100000), old))
	for _, form := range []string{"index", "plain"} {
		for _, action := range []InvalidSeedAction{InvalidSeedFail, InvalidSeedSkip} {
			os.WriteFile(f.oldPath, old, 0o644)
			seed := f.indexSeed()
			if form == "plain" {
				// Chunked by the extraction, hashed once, and checked again
				// only because the file changed: here its size does too, so
				// the change is seen whatever the timestamps' resolution.
				seed = Seed{Path: f.oldPath}
			}
			s := &changingStore{Store: f.store, change: func() {
				fh, err := os.OpenFile(f.oldPath, os.O_WRONLY, 0)
				if err != nil {
					panic(err)
				}
				fh.WriteAt(randomBytes(13, 1<<20), 1<<20)
				if form == "plain" {
					fh.WriteAt([]byte("x"), int64(len(old)))
				}
				fh.Close()
			}}
			out := filepath.Join(t.TempDir(), "out")
			stats, err := ExtractFile(ctx, f.ix, out, ExtractOptions{Store: s, Concurrency: 1, Seeds: []Seed{seed}, InvalidSeeds: action, NoReflink: true})
			switch action {
			case InvalidSeedFail:
				var se *SeedError
				if !errors.As(err, &se) || se.Offset < 1<<20-seedParams.Max || se.Offset >= 2<<20 {
					t.Fatalf("%s: err = %v, want a SeedError in the changed range", form, err)
				}
				if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s: output written after a failure", form)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(mustRead(t, out), f.new) {
					t.Fatalf("%s: output differs", form)
				}
				if stats.ChunksFromSeeds == 0 || len(stats.InvalidSeeds) != 1 {
					t.Errorf("%s: %d chunks from the seed, invalid seeds %q", form, stats.ChunksFromSeeds, stats.InvalidSeeds)
				}
				checkStatsAddUp(t, f.ix, stats)
			}
		}
	}
}

// TestSeedErrors: seeds that cannot be used at all.
func TestSeedErrors(t *testing.T) {
	ctx := context.Background()
	old := randomBytes(1, 1<<20)
	f := newSeedFixture(t, old, concat(old, []byte("x")))
	sha256Ix, _, _ := Make(ctx, bytes.NewReader(old), MakeOptions{Params: seedParams, Digest: chunk.SHA256})
	out := filepath.Join(t.TempDir(), "out")
	for _, tc := range []struct {
		name    string
		seed    Seed
		inPlace bool
		want    string
	}{
		{"missing", Seed{Path: filepath.Join(f.dir, "nope")}, false, "nope"},
		{"other digest", Seed{Path: f.oldPath, Index: sha256Ix}, false, "sha256"},
		{"seed is the output", Seed{Path: out}, true, "is the output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(out, old, 0o644)
			_, err := ExtractFile(ctx, f.ix, out, ExtractOptions{Store: f.store, Seeds: []Seed{tc.seed}, InPlace: tc.inPlace})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			if !bytes.Equal(mustRead(t, out), old) {
				t.Error("output changed")
			}
		})
	}
	// SeedIndex (info --seed) refuses the other digest too.
	if _, err := SeedIndex(ctx, Seed{Path: f.oldPath, Index: sha256Ix}, f.ix, 2); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("SeedIndex with another digest: err = %v", err)
	}
}

// TestInPlaceErrors: outputs in-place extraction refuses.
func TestInPlaceErrors(t *testing.T) {
	f := newSeedFixture(t, []byte("old"), randomBytes(1, 100000))
	_, err := ExtractFile(context.Background(), f.ix, t.TempDir(), ExtractOptions{Store: f.store, InPlace: true})
	if err == nil || !strings.Contains(err.Error(), "directory") && !strings.Contains(err.Error(), "neither") {
		t.Fatalf("in place into a directory: err = %v", err)
	}
}

// TestInPlaceZeros: in place, zero chunks over old data become zeros (holes
// where possible), and a longer old file is cut to the new size.
func TestInPlaceZeros(t *testing.T) {
	old := randomBytes(1, 3<<20)
	data := concat(old[:1<<20], make([]byte, 1<<20))
	f := newSeedFixture(t, old, data)
	out := filepath.Join(t.TempDir(), "out")
	os.WriteFile(out, old, 0o644)
	stats, err := ExtractFile(context.Background(), f.ix, out, ExtractOptions{Store: f.store, InPlace: true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustRead(t, out), data) {
		t.Fatal("output differs")
	}
	if stats.ChunksZero == 0 || stats.ChunksInPlace == 0 || stats.ChunksFetched > 2 {
		t.Errorf("stats %+v: want zero chunks, chunks in place and at most the two boundary chunks fetched", stats)
	}
}

// TestExtractWriterSeeds: streaming in order, chunks a seed holds come from
// it (the store lacks them), verified; a tampered seed fails or, with skip,
// gives way to the store.
func TestExtractWriterSeeds(t *testing.T) {
	ctx := context.Background()
	old := randomBytes(1, 2<<20)
	f := newSeedFixture(t, old, concat(old[:1<<20], randomBytes(6, 30000), old[1<<20:]))
	var out bytes.Buffer
	stats, err := ExtractWriter(ctx, f.ix, &out, ExtractOptions{Store: f.store, Seeds: []Seed{f.indexSeed()}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), f.new) {
		t.Fatal("output differs")
	}
	checkStatsAddUp(t, f.ix, stats)
	if stats.ChunksFromSeeds < len(f.ix.Chunks)*3/4 || stats.BytesCopiedFromSeeds == 0 || stats.ChunksFetched != stats.ChunksFromStore {
		t.Errorf("stats %+v: want most chunks from the seed", stats)
	}

	// A writer that fails halfway: the stats count the chunks written
	// (chunks fetched ahead from the seed are not), none negative.
	half := &failAfter{n: len(f.new) / 2}
	stats, err = ExtractWriter(ctx, f.ix, half, ExtractOptions{Store: f.store, Seeds: []Seed{f.indexSeed()}, Concurrency: 8})
	if err == nil {
		t.Fatal("a failing writer: no error")
	}
	written := 0
	for _, c := range f.ix.Chunks {
		if c.End() <= uint64(half.written) {
			written++
		}
	}
	if got := stats.ChunksFromSeeds + stats.ChunksFromStore + stats.ChunksZero; got != written || stats.ChunksFromSeeds == 0 ||
		stats.ChunksFromStore < 0 || stats.BytesCopiedFromSeeds+stats.BytesFromStore > uint64(half.written) {
		t.Errorf("failed halfway after %d chunks (%d bytes): stats %+v", written, half.written, stats)
	}

	b := append([]byte(nil), old...)
	copy(b[1<<19:], randomBytes(7, 100))
	os.WriteFile(f.oldPath, b, 0o644)
	out.Reset()
	_, err = ExtractWriter(ctx, f.ix, &out, ExtractOptions{Store: f.store, Seeds: []Seed{f.indexSeed()}})
	var se *SeedError
	if !errors.As(err, &se) {
		t.Fatalf("tampered seed: err = %v, want a SeedError", err)
	}
	out.Reset()
	stats, err = ExtractWriter(ctx, f.ix, &out, ExtractOptions{Store: f.store, Seeds: []Seed{f.indexSeed()}, InvalidSeeds: InvalidSeedSkip})
	if err != nil || !bytes.Equal(out.Bytes(), f.new) || len(stats.InvalidSeeds) != 1 {
		t.Fatalf("tampered seed, skip: err %v, invalid %q, output equal %v", err, stats.InvalidSeeds, bytes.Equal(out.Bytes(), f.new))
	}
}

// TestInPlaceLongZeroRun: a run of null chunks longer than zeroPiece is
// zeroed in several tasks that together cover it exactly.
func TestInPlaceLongZeroRun(t *testing.T) {
	const max = 1 << 20
	ix := caindex.New(chunk.SHA512_256, max/4, max/2, max)
	null := chunk.SHA512_256.Sum(make([]byte, max))
	n := zeroPiece/max*2 + 3 // three tasks' worth, the last a partial one
	for i := range n {
		ix.Chunks = append(ix.Chunks, caindex.Chunk{ID: null, Start: uint64(i) * max, Size: max})
	}
	out := filepath.Join(t.TempDir(), "out")
	os.WriteFile(out, bytes.Repeat([]byte{0xff}, n*max+100), 0o644)
	stats, err := ExtractFile(context.Background(), ix, out, ExtractOptions{Store: localStore(t, t.TempDir(), ix), InPlace: true})
	if err != nil {
		t.Fatal(err)
	}
	got := mustRead(t, out)
	if len(got) != n*max || !isZero(got) {
		t.Errorf("output of %d bytes (want %d) is not all zeros", len(got), n*max)
	}
	if stats.ChunksZero != n {
		t.Errorf("%d zero chunks, want %d", stats.ChunksZero, n)
	}
}

// failAfter is a writer that takes n bytes and then fails.
type failAfter struct{ n, written int }

func (w *failAfter) Write(b []byte) (int, error) {
	k := min(len(b), w.n-w.written)
	w.written += k
	if k < len(b) {
		return k, errors.New("disk full")
	}
	return k, nil
}

// TestSeedIndexOtherDigest: a seed index that names chunks with another
// digest is refused, and the error names the index file, where the fault is.
func TestSeedIndexOtherDigest(t *testing.T) {
	target := caindex.New(chunk.SHA512_256, 16<<10, 64<<10, 256<<10)
	s := Seed{Path: "old.img", IndexPath: "old.img.caibx", Index: caindex.New(chunk.SHA256, 16<<10, 64<<10, 256<<10)}
	_, err := SeedIndex(context.Background(), s, target, 1)
	if err == nil || !strings.Contains(err.Error(), "old.img.caibx") {
		t.Errorf("seed index of another digest: %v, want an error naming old.img.caibx", err)
	}
}

// memData is seed data that is not a file.
type memData struct{ *bytes.Reader }

func (m memData) Size() int64 { return m.Reader.Size() }

// TestSeedData extracts with a seed whose data is a reader, not a file: the
// chunks it holds come from it, verified; a reader whose bytes differ from its
// index fails, or is skipped, as a file seed is.
func TestSeedData(t *testing.T) {
	ctx := context.Background()
	old := randomBytes(1, 2<<20)
	f := newSeedFixture(t, old, concat(old[:1<<20], randomBytes(3, 5000), old[1<<20:]))
	shared := sharedBytes(f.oldIx, f.ix)
	seed := Seed{Path: "old (in memory)", Index: f.oldIx, Data: memData{bytes.NewReader(old)}}
	for _, toFile := range []bool{false, true} {
		var stats ExtractStats
		var got []byte
		var err error
		o := ExtractOptions{Store: f.store, Seeds: []Seed{seed}}
		if toFile {
			out := filepath.Join(t.TempDir(), "out")
			stats, err = ExtractFile(ctx, f.ix, out, o)
			got, _ = os.ReadFile(out)
		} else {
			var b bytes.Buffer
			stats, err = ExtractWriter(ctx, f.ix, &b, o)
			got = b.Bytes()
		}
		if err != nil {
			t.Fatalf("file %v: %v", toFile, err)
		}
		if !bytes.Equal(got, f.new) {
			t.Fatalf("file %v: output differs", toFile)
		}
		if stats.BytesCopiedFromSeeds+stats.BytesClonedFromSeeds < shared*9/10 {
			t.Errorf("file %v: %d bytes from the seed, %d shared", toFile, stats.BytesCopiedFromSeeds+stats.BytesClonedFromSeeds, shared)
		}
	}
	changed := concat(old[:100], []byte{^old[100]}, old[101:])
	bad := Seed{Path: "changed (in memory)", Index: f.oldIx, Data: memData{bytes.NewReader(changed)}}
	if _, err := ExtractWriter(ctx, f.ix, io.Discard, ExtractOptions{Store: f.store, Seeds: []Seed{bad}}); err == nil || !strings.Contains(err.Error(), "changed (in memory)") {
		t.Fatalf("changed reader seed: %v", err)
	}
	for _, action := range []InvalidSeedAction{InvalidSeedSkip, InvalidSeedRegenerate} {
		var b bytes.Buffer
		stats, err := ExtractWriter(ctx, f.ix, &b, ExtractOptions{Store: f.store, Seeds: []Seed{bad}, InvalidSeeds: action})
		if err != nil || !bytes.Equal(b.Bytes(), f.new) {
			t.Fatalf("changed reader seed, action %v: %v", action, err)
		}
		// Skipping loses only the chunk that changed; regenerating (not
		// possible without a file) drops the seed.
		if action == InvalidSeedSkip && stats.BytesCopiedFromSeeds < shared*8/10 {
			t.Errorf("changed reader seed, skip: %d bytes from the seed, %d shared", stats.BytesCopiedFromSeeds, shared)
		}
	}
	if _, err := ExtractWriter(ctx, f.ix, io.Discard, ExtractOptions{Store: f.store, Seeds: []Seed{{Path: "x", Data: memData{bytes.NewReader(old)}}}}); err == nil {
		t.Fatal("reader seed without an index accepted")
	}
}

// TestMakeProgress: Make counts every byte it reads, then, with a store
// that batches (a local store syncs), a phase "Flushing" before the index
// is complete; without a store there is nothing to flush.
func TestMakeProgress(t *testing.T) {
	data := randomBytes(3, 3<<20+12345)
	for _, withStore := range []bool{false, true} {
		p := &phaseRecorder{}
		p.Phase("Chunking", int64(len(data))) // the caller starts the first phase
		o := MakeOptions{Progress: p}
		if withStore {
			store, err := storage.NewLocal(t.TempDir(), storage.LocalOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			o.Store = store
		}
		if _, _, err := Make(context.Background(), bytes.NewReader(data), o); err != nil {
			t.Fatal(err)
		}
		want := []string{"Chunking"}
		if withStore {
			want = append(want, "Flushing")
		}
		if !slices.Equal(p.names, want) || p.done[0] != int64(len(data)) {
			t.Errorf("store %v: phases %q with %v bytes, want %q with %d read", withStore, p.names, p.done, want, len(data))
		}
	}
}
