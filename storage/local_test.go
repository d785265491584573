package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
)

const (
	tinyID = "0ac561fac838104e3f2e4ad107b4bee3e938bf15f2b15f009ccccd61a913f017" // "hello world"
	zeroID = "1c8109946feed9f9e9fe4b5144d90f05a50fb3275e848cb72f4b9546d8c533f2" // 256 KiB of zeros
)

func mustID(t testing.TB, s string) chunk.ID {
	id, err := chunk.ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestReadCasyncStore(t *testing.T) {
	ctx := context.Background()
	s, err := NewLocal("testdata/casync.castr", LocalOptions{MaxChunkSize: 262144})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		size int
	}{{tinyID, 11}, {zeroID, 262144}} {
		c, err := s.GetChunk(ctx, mustID(t, tc.id))
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := c.Plain(); len(b) != tc.size {
			t.Errorf("chunk %s: %d bytes, want %d", tc.id, len(b), tc.size)
		}
		if ok, err := s.HasChunk(ctx, c.ID()); !ok || err != nil {
			t.Errorf("HasChunk(%s) = %v, %v", tc.id, ok, err)
		}
	}
	// The zero chunk is larger than a 64 KiB cap.
	small, _ := NewLocal("testdata/casync.castr", LocalOptions{MaxChunkSize: 65536})
	var inv *chunk.InvalidError
	if _, err := small.GetChunk(ctx, mustID(t, zeroID)); !errors.As(err, &inv) || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized chunk: %v", err)
	}
}

func TestStoreAndGet(t *testing.T) {
	ctx := context.Background()
	for _, uncompressed := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "new.castr") // created on first write
		s, err := NewLocal(dir, LocalOptions{Uncompressed: uncompressed})
		if err != nil {
			t.Fatal(err)
		}
		plain := bytes.Repeat([]byte("abc"), 10000)
		id := chunk.SHA512_256.Sum(plain)
		if ok, _ := s.HasChunk(ctx, id); ok {
			t.Fatal("empty store has a chunk")
		}
		if _, err := s.GetChunk(ctx, id); !errors.Is(err, chunk.ErrMissing) || !strings.Contains(err.Error(), id.String()) || !strings.Contains(err.Error(), dir) {
			t.Fatalf("missing chunk: %v", err)
		}
		if err := s.StoreChunk(ctx, chunk.New(id, plain)); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(dir, id.String()[:4], id.String()+".cacnk")
		if uncompressed {
			want = strings.TrimSuffix(want, ".cacnk")
		}
		fi, err := os.Stat(want)
		if err != nil {
			t.Fatalf("chunk not at %s: %v", want, err)
		}
		if fi.Mode().Perm() != 0o444 {
			t.Errorf("chunk file mode %v, want 0444", fi.Mode().Perm())
		}
		if uncompressed != (fi.Size() == int64(len(plain))) {
			t.Errorf("uncompressed=%v but file holds %d bytes for %d", uncompressed, fi.Size(), len(plain))
		}
		c, err := s.GetChunk(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := c.Plain(); !bytes.Equal(b, plain) {
			t.Fatal("content differs")
		}
		// An existing chunk is not rewritten, even if the caller's copy differs.
		// Another store (another process) does not rewrite it either.
		other, _ := NewLocal(dir, LocalOptions{Uncompressed: uncompressed})
		for _, st := range []*Local{s, other} {
			if err := st.StoreChunk(ctx, chunk.New(id, []byte("other"))); err != nil {
				t.Fatal(err)
			}
			if err := st.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if fi2, _ := os.Stat(want); !os.SameFile(fi, fi2) || fi2.ModTime() != fi.ModTime() {
			t.Error("existing chunk rewritten")
		}
		if c, err := other.GetChunk(ctx, id); err != nil {
			t.Errorf("after a second store: %v", err)
		} else if b, _ := c.Plain(); !bytes.Equal(b, plain) {
			t.Error("after a second store: content differs")
		}
		assertNoTemp(t, dir)
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if strings.HasSuffix(p, ".tmp") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

func TestCorruptChunks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := NewLocal(dir, LocalOptions{})
	z, _ := chunk.NewZstd(chunk.ZstdOptions{})
	put := func(id chunk.ID, b []byte) {
		p := s.Path(id)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, b, 0o644)
	}
	other, _ := z.Encode(nil, []byte("not what the name says"))
	good, _ := z.Encode(nil, []byte("hello world"))
	for _, tc := range []struct {
		name   string
		stored []byte
		want   string
	}{
		{"wrong content", other, "hashes to"},
		{"corrupt frame", append(good[:len(good)-3:len(good)-3], 0xde, 0xad, 0xbe), ""},
		{"trailing garbage", append(bytes.Clone(good), 1, 2, 3), "trailing garbage"},
		{"not compressed", []byte("hello world"), "unknown chunk compression"},
		{"empty file", nil, "unknown chunk compression"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := chunk.SHA512_256.Sum([]byte(tc.name))
			put(id, tc.stored)
			_, err := s.GetChunk(ctx, id)
			var inv *chunk.InvalidError
			if !errors.As(err, &inv) || inv.ID != id || inv.Store != dir || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an *InvalidError for %s in %s mentioning %q", err, id, dir, tc.want)
			}
			if errors.Is(err, chunk.ErrMissing) {
				t.Fatal("an invalid chunk must not look missing")
			}
		})
	}
	// SkipVerify trusts content but still fails on undecodable data.
	trusting, _ := NewLocal(dir, LocalOptions{SkipVerify: true})
	if _, err := trusting.GetChunk(ctx, chunk.SHA512_256.Sum([]byte("wrong content"))); err != nil {
		t.Errorf("skip-verify: %v", err)
	}
	if _, err := trusting.GetChunk(ctx, chunk.SHA512_256.Sum([]byte("not compressed"))); err == nil {
		t.Error("skip-verify accepted an undecodable chunk")
	}
}

func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	plain := bytes.Repeat([]byte{1, 2, 3}, 50000)
	id := chunk.SHA512_256.Sum(plain)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, _ := NewLocal(dir, LocalOptions{}) // separate stores: separate processes
			if err := s.StoreChunk(ctx, chunk.New(id, plain)); err != nil {
				errs <- err
				return
			}
			errs <- s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, _ := NewLocal(dir, LocalOptions{})
	if _, err := s.GetChunk(ctx, id); err != nil {
		t.Fatal(err)
	}
	assertNoTemp(t, dir)
}

// TestBatchedSync checks the batch: pending chunks are readable through the
// store before the flush, absent under their names until then (where
// batching applies), renamed by a background flush once a batch is pending
// and by Flush/Close, and no temporary file remains.
func TestBatchedSync(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := NewLocal(dir, LocalOptions{})
	var ids []chunk.ID
	store := func(n int) {
		for range n {
			plain := []byte(fmt.Sprintf("chunk %d", len(ids)))
			id := chunk.SHA512_256.Sum(plain)
			ids = append(ids, id)
			if err := s.StoreChunk(ctx, chunk.New(id, plain)); err != nil {
				t.Fatal(err)
			}
		}
	}
	onDisk := func(id chunk.ID) bool { _, err := os.Stat(s.Path(id)); return err == nil }

	store(syncBatch - 1) // not a batch yet
	last := ids[len(ids)-1]
	if batchedSync && onDisk(last) {
		t.Error("chunk renamed into place before the flush")
	}
	if ok, _ := s.HasChunk(ctx, last); !ok {
		t.Error("pending chunk not visible through HasChunk")
	}
	if c, err := s.GetChunk(ctx, last); err != nil || c.ID() != last {
		t.Errorf("pending chunk not readable: %v", err)
	}

	store(10) // a batch: flushed in the background
	s.bg.Wait()
	if !onDisk(ids[0]) || !onDisk(last) {
		t.Error("chunks not flushed after a full batch")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if !onDisk(id) {
			t.Fatalf("chunk %s not in place after Close", id)
		}
	}
	assertNoTemp(t, dir)
}

// TestBackgroundFlushError: a background flush that fails is reported by
// the next Flush, naming the chunk, and once only.
func TestBackgroundFlushError(t *testing.T) {
	if !batchedSync {
		t.Skip("no batched sync on this platform")
	}
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := NewLocal(dir, LocalOptions{})
	plain := []byte("doomed")
	id := chunk.SHA512_256.Sum(plain)
	if err := s.StoreChunk(ctx, chunk.New(id, plain)); err != nil {
		t.Fatal(err)
	}
	// The chunk's directory vanishes before the flush renames into it.
	if err := os.RemoveAll(filepath.Dir(s.Path(id))); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.bgOn = true
	s.bg.Add(1)
	s.mu.Unlock()
	s.flushBackground()
	err := s.Flush(ctx)
	if err == nil || !strings.Contains(err.Error(), id.String()) {
		t.Fatalf("Flush after a failed background flush: %v, want an error naming %s", err, id)
	}
	if err := s.Flush(ctx); err != nil {
		t.Errorf("the error is reported twice: %v", err)
	}
	if ok, _ := s.HasChunk(ctx, id); ok {
		t.Error("the store claims a chunk it failed to flush")
	}
}

func TestBadStores(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := NewLocal(file, LocalOptions{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("store on a file: %v", err)
	}
	// A store below a file cannot be written; the error names the store.
	if _, err := NewLocal(filepath.Join(file, "sub"), LocalOptions{}); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("store below a file: %v", err)
	}
	s, err := NewLocal(t.TempDir(), LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := s.GetChunk(ctx, chunk.ID{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled get: %v", err)
	}
	if err := s.StoreChunk(ctx, chunk.New(chunk.ID{}, []byte("x"))); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled store: %v", err)
	}
}

func TestLocalIndex(t *testing.T) {
	ctx := context.Background()
	s := NewLocalIndex(t.TempDir())
	ix := caindex.New(chunk.SHA512_256, 16, 64, 256)
	ix.Chunks = []caindex.Chunk{{Start: 0, Size: 100, ID: chunk.SHA512_256.Sum([]byte("a"))}}
	if err := s.StoreIndex(ctx, "sub/a.caibx", ix); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetIndex(ctx, "sub/a.caibx")
	if err != nil || len(got.Chunks) != 1 || got.Chunks[0] != ix.Chunks[0] {
		t.Fatalf("GetIndex: %+v, %v", got, err)
	}
	for _, name := range []string{"../escape.caibx", "/etc/passwd", "a/../../b", ""} {
		if _, err := s.GetIndex(ctx, name); err == nil {
			t.Errorf("GetIndex(%q) allowed", name)
		}
		if err := s.StoreIndex(ctx, name, ix); err == nil {
			t.Errorf("StoreIndex(%q) allowed", name)
		}
	}
	// A failed write leaves the existing index and no temporary file.
	before, _ := os.ReadFile(filepath.Join(s.String(), "sub/a.caibx"))
	bad := caindex.New(chunk.SHA512_256, 16, 64, 256)
	bad.Chunks = []caindex.Chunk{{Start: 0, Size: 300}} // above max
	if err := s.StoreIndex(ctx, "sub/a.caibx", bad); err == nil {
		t.Error("invalid index stored")
	}
	if after, _ := os.ReadFile(filepath.Join(s.String(), "sub/a.caibx")); !bytes.Equal(before, after) {
		t.Error("failed StoreIndex changed the existing index")
	}
	assertNoTemp(t, s.String())
	if _, err := s.GetIndex(ctx, "nope.caibx"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing index: %v", err)
	}
	// A streamed write that fails halfway returns its error and leaves
	// the same; one that succeeds replaces the index.
	boom := errors.New("input unreadable")
	err = s.WriteIndex(ctx, "sub/a.caibx", func(w io.Writer) error {
		w.Write(before[:50])
		return boom
	})
	if err != boom {
		t.Errorf("failed WriteIndex returned %v, want the writer's error", err)
	}
	if after, _ := os.ReadFile(filepath.Join(s.String(), "sub/a.caibx")); !bytes.Equal(before, after) {
		t.Error("failed WriteIndex changed the existing index")
	}
	assertNoTemp(t, s.String())
	ix.Chunks[0].Size = 200
	err = s.WriteIndex(ctx, "new/b.caibx", func(w io.Writer) error { _, err := ix.WriteTo(w); return err })
	if got, _ := s.GetIndex(ctx, "new/b.caibx"); err != nil || got == nil || got.Size() != 200 {
		t.Errorf("WriteIndex: %v", err)
	}
	// Its mode is what any new 0644 file gets under the umask.
	like := filepath.Join(t.TempDir(), "like")
	os.WriteFile(like, nil, 0o644)
	want, _ := os.Stat(like)
	if fi, err := os.Stat(filepath.Join(s.String(), "new/b.caibx")); err != nil {
		t.Error(err)
	} else if fi.Mode() != want.Mode() {
		t.Errorf("streamed index mode %v, want %v", fi.Mode(), want.Mode())
	}
}

// TestReadDuringFlush reads pending chunks while Flush renames them: a read
// must never find a chunk missing in between.
func TestReadDuringFlush(t *testing.T) {
	ctx := context.Background()
	for round := range 20 {
		s, _ := NewLocal(t.TempDir(), LocalOptions{})
		var ids []chunk.ID
		for i := range 50 {
			plain := []byte(fmt.Sprintf("round %d chunk %d", round, i))
			ids = append(ids, chunk.SHA512_256.Sum(plain))
			if err := s.StoreChunk(ctx, chunk.New(ids[i], plain)); err != nil {
				t.Fatal(err)
			}
		}
		done := make(chan error, 1)
		go func() { done <- s.Flush(ctx) }()
		for _, id := range ids {
			if _, err := s.GetChunk(ctx, id); err != nil {
				t.Fatalf("read during flush: %v", err)
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
