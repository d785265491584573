package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"testing"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// IndexHarness describes an index store type to [RunIndex].
type IndexHarness struct {
	// New returns a fresh, empty index store; the suite closes it.
	New func(t *testing.T) storage.IndexStore
	// Flat says the store takes only names of one path element (as our
	// index-server): RoundTrip then skips "sub/dir/b.caibx".
	Flat bool
}

// RunIndex runs the index store conformance suite as subtests of t. Writes
// go through [storage.WriteIndex] and copies through [storage.CopyIndex],
// so stores that take only whole indexes, or cannot copy, are covered by
// the fallbacks; a store that takes no indexes skips the write subtests.
//
//   - Missing: GetIndex and CopyIndex of an absent index fail with an error
//     matching fs.ErrNotExist that names the index.
//   - RoundTrip: an index written (also under a sub-directory name) reads
//     back equal, and StoreIndex replaces it.
//   - FailedWrite: a write whose writer fails returns the writer's error and
//     leaves the index of that name as it was (absent, or the old one).
//   - Escape: names that escape the store ("../x", "/abs", "a/../../x",
//     "") are refused by reads and writes.
//   - CopyExact: CopyIndex yields exactly the bytes written.
func RunIndex(t *testing.T, h IndexHarness) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, storage.IndexStore)
	}{
		{"Missing", testIndexMissing},
		{"RoundTrip", func(t *testing.T, s storage.IndexStore) { testIndexRoundTrip(t, s, h.Flat) }},
		{"FailedWrite", testIndexFailedWrite},
		{"Escape", testIndexEscape},
		{"CopyExact", testIndexCopyExact},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := h.New(t)
			defer func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			tc.fn(t, s)
		})
	}
}

// testIndex returns a valid index of n chunks, distinct per seed.
func testIndex(seed, n int) *caindex.Index {
	ix := caindex.New(chunk.SHA512_256, 16, 64, 256)
	var start uint64
	for i := range n {
		size := uint64(16 + (seed*7+i*13)%200)
		ix.Chunks = append(ix.Chunks, caindex.Chunk{
			ID: chunk.SHA512_256.Sum(fmt.Appendf(nil, "%d/%d", seed, i)), Start: start, Size: size,
		})
		start += size
	}
	return ix
}

func indexBytes(t *testing.T, ix *caindex.Index) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := ix.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func needIndexWrite(t *testing.T, s storage.IndexStore) {
	t.Helper()
	if _, ok := s.(storage.IndexWriteStore); !ok {
		t.Skipf("%T does not store indexes", s)
	}
}

func writeIndexBytes(t *testing.T, s storage.IndexStore, name string, b []byte) {
	t.Helper()
	err := storage.WriteIndex(context.Background(), s, name, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		t.Fatalf("WriteIndex %q: %v", name, err)
	}
}

func wantIndex(t *testing.T, s storage.IndexStore, name string, want []byte) {
	t.Helper()
	ix, err := s.GetIndex(context.Background(), name)
	if err != nil {
		t.Fatalf("GetIndex %q: %v", name, err)
	}
	if got := indexBytes(t, ix); !bytes.Equal(got, want) {
		t.Fatalf("GetIndex %q: got an index of %d bytes, not the %d written", name, len(got), len(want))
	}
}

func testIndexMissing(t *testing.T, s storage.IndexStore) {
	ctx := context.Background()
	if _, err := s.GetIndex(ctx, "absent.caibx"); !errors.Is(err, fs.ErrNotExist) || !bytes.Contains([]byte(err.Error()), []byte("absent.caibx")) {
		t.Errorf("GetIndex of a missing index: %v, want fs.ErrNotExist naming it", err)
	}
	var b bytes.Buffer
	if err := storage.CopyIndex(ctx, s, "absent.caibx", &b); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CopyIndex of a missing index: %v, want fs.ErrNotExist", err)
	}
}

func testIndexRoundTrip(t *testing.T, s storage.IndexStore, flat bool) {
	needIndexWrite(t, s)
	names := []string{"a.caibx", "sub/dir/b.caibx"}
	if flat {
		names = names[:1]
	}
	for _, name := range names {
		want := indexBytes(t, testIndex(1, 50))
		writeIndexBytes(t, s, name, want)
		wantIndex(t, s, name, want)
		ix2 := testIndex(2, 3)
		if err := s.(storage.IndexWriteStore).StoreIndex(context.Background(), name, ix2); err != nil {
			t.Fatalf("StoreIndex %q: %v", name, err)
		}
		wantIndex(t, s, name, indexBytes(t, ix2))
	}
}

func testIndexFailedWrite(t *testing.T, s storage.IndexStore) {
	needIndexWrite(t, s)
	ctx := context.Background()
	boom := errors.New("writer failed")
	fail := func(w io.Writer) error {
		w.Write(indexBytes(t, testIndex(9, 20))[:100])
		return boom
	}
	if err := storage.WriteIndex(ctx, s, "new.caibx", fail); !errors.Is(err, boom) {
		t.Errorf("failed write: %v, want the writer's error", err)
	}
	if _, err := s.GetIndex(ctx, "new.caibx"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after a failed first write: %v, want fs.ErrNotExist", err)
	}
	old := indexBytes(t, testIndex(3, 30))
	writeIndexBytes(t, s, "old.caibx", old)
	if err := storage.WriteIndex(ctx, s, "old.caibx", fail); !errors.Is(err, boom) {
		t.Errorf("failed rewrite: %v, want the writer's error", err)
	}
	wantIndex(t, s, "old.caibx", old)
}

func testIndexEscape(t *testing.T, s storage.IndexStore) {
	ctx := context.Background()
	b := indexBytes(t, testIndex(4, 5))
	_, canWrite := s.(storage.IndexWriteStore)
	for _, name := range []string{"../x.caibx", "/abs.caibx", "a/../../x.caibx", ""} {
		if _, err := s.GetIndex(ctx, name); err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("GetIndex %q: %v, want a refused name", name, err)
		}
		if !canWrite {
			continue
		}
		err := storage.WriteIndex(ctx, s, name, func(w io.Writer) error { _, err := w.Write(b); return err })
		if err == nil {
			t.Errorf("WriteIndex %q: accepted", name)
		}
	}
}

func testIndexCopyExact(t *testing.T, s storage.IndexStore) {
	needIndexWrite(t, s)
	want := indexBytes(t, testIndex(5, 500))
	writeIndexBytes(t, s, "c.caibx", want)
	var got bytes.Buffer
	if err := storage.CopyIndex(context.Background(), s, "c.caibx", &got); err != nil {
		t.Fatalf("CopyIndex: %v", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("CopyIndex: %d bytes differing from the %d written", got.Len(), len(want))
	}
}
