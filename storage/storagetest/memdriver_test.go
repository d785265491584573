package storagetest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

func newMemStore(t testing.TB, o storage.Options) (*storage.ObjectStore, *storagetest.MemDriver) {
	t.Helper()
	d := storagetest.NewMemDriver(t.Name())
	s, err := storage.NewObjectStore(d, o)
	if err != nil {
		t.Fatal(err)
	}
	return s, d
}

// TestMemDriverConformance runs the whole chunk store suite on an
// ObjectStore over the in-memory driver: the shared code alone makes a
// conforming store.
func TestMemDriverConformance(t *testing.T) {
	zstd, err := chunk.NewZstd(chunk.ZstdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    storage.Options
		conv chunk.Converter
	}{
		{"Zstd", storage.Options{}, zstd},
		{"Uncompressed", storage.Options{Uncompressed: true}, chunk.Uncompressed{}},
		{"SHA256", storage.Options{Digest: chunk.SHA256}, zstd},
		{"SkipVerify", storage.Options{SkipVerify: true}, zstd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Run(t, storagetest.Harness{
				New:        func(t *testing.T) chunk.Store { s, _ := newMemStore(t, tc.o); return s },
				Digest:     tc.o.Digest,
				SkipVerify: tc.o.SkipVerify,
				Converter:  tc.conv,
				Corrupt: func(t *testing.T, s chunk.Store, id chunk.ID, b []byte) {
					os := s.(*storage.ObjectStore)
					os.Driver().(*storagetest.MemDriver).SetObject(os.Name(id), b)
				},
			})
		})
	}
}

func TestMemDriverIndexConformance(t *testing.T) {
	storagetest.RunIndex(t, storagetest.IndexHarness{
		New: func(t *testing.T) storage.IndexStore {
			return storage.NewObjectIndexStore(storagetest.NewMemDriver(t.Name()), 0)
		},
	})
	t.Run("Retry", func(t *testing.T) {
		storagetest.RunIndex(t, storagetest.IndexHarness{
			New: func(t *testing.T) storage.IndexStore {
				return storage.WrapIndexRetry(storage.NewObjectIndexStore(storagetest.NewMemDriver(t.Name()), 0), storage.RetryOptions{Attempts: 3})
			},
		})
	})
}

func TestMemDriverMissingBucket(t *testing.T) {
	s, err := storage.NewObjectStore(storagetest.NewMissingBucket("nobucket"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storagetest.RunUnreachable(t, s)
}

// TestObjectStoreFaults checks what ObjectStore and Retry make of each kind
// of driver failure.
func TestObjectStoreFaults(t *testing.T) {
	ctx := context.Background()
	plain := []byte("some chunk content")
	c := chunk.New(chunk.SHA512_256.Sum(plain), plain)
	o := storage.RetryOptions{Attempts: 4}
	for _, tc := range []struct {
		name      string
		fault     storagetest.Fault
		calls     int  // Get calls made through the Retry
		ok        bool // the read succeeds in the end
		transient bool
		missing   bool
		invalid   bool
	}{
		{"transient twice", storagetest.Fault{Ops: storagetest.OpGet, Times: 2, Kind: storage.KindTransient}, 3, true, false, false, false},
		{"transient always", storagetest.Fault{Ops: storagetest.OpGet, Times: 10, Kind: storage.KindTransient}, 4, false, true, false, false},
		{"permanent", storagetest.Fault{Ops: storagetest.OpGet, Times: 10, Kind: storage.KindPermanent}, 1, false, false, false, false},
		{"unclassified", storagetest.Fault{Ops: storagetest.OpGet, Times: 10, Kind: storage.KindUnknown}, 1, false, false, false, false},
		{"missing", storagetest.Fault{Ops: storagetest.OpGet, Times: 10, Kind: storage.KindMissing}, 1, false, false, true, false},
		{"corrupt", storagetest.Fault{Ops: storagetest.OpGet, Times: 1, Corrupt: true}, 1, false, false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, d := newMemStore(t, storage.Options{})
			if err := s.StoreChunk(ctx, c); err != nil {
				t.Fatal(err)
			}
			d.Inject(tc.fault)
			_, err := storage.NewRetry(s, o).GetChunk(ctx, c.ID())
			if got := d.Calls(storagetest.OpGet); got != tc.calls {
				t.Errorf("%d Get calls, want %d (%v)", got, tc.calls, err)
			}
			if (err == nil) != tc.ok {
				t.Fatalf("GetChunk: %v", err)
			}
			if err == nil {
				return
			}
			var inv *chunk.InvalidError
			if storage.IsTransient(err) != tc.transient || errors.Is(err, chunk.ErrMissing) != tc.missing || errors.As(err, &inv) != tc.invalid {
				t.Errorf("GetChunk: %v: transient %v missing %v invalid %v", err, storage.IsTransient(err), errors.Is(err, chunk.ErrMissing), errors.As(err, &inv))
			}
			if !tc.missing && !tc.invalid {
				var ce *storage.ChunkError
				if !errors.As(err, &ce) || ce.ID != c.ID() || ce.Store != s.String() {
					t.Errorf("GetChunk: %v does not name chunk and store", err)
				}
			}
		})
	}
}

func BenchmarkMemDriver(b *testing.B) {
	storagetest.RunBenchmarks(b, storagetest.BenchHarness{
		New: func(b *testing.B) chunk.Store { s, _ := newMemStore(b, storage.Options{}); return s },
	})
}

// TestIndexRetry: a remote index store is retried as chunk stores are:
// transient failures are repeated (an index being written is made once),
// permanent and unclassified ones are not, and the wrapper keeps the write
// and copy capabilities.
func TestIndexRetry(t *testing.T) {
	ctx := context.Background()
	d := storagetest.NewMemDriver("ix")
	s := storage.WrapIndexRetry(storage.NewObjectIndexStore(d, 0), storage.RetryOptions{Attempts: 3})
	if _, ok := s.(storage.IndexStreamStore); !ok {
		t.Fatalf("%T is not an IndexStreamStore", s)
	}
	if _, ok := s.(storage.IndexCopyStore); !ok {
		t.Fatalf("%T is not an IndexCopyStore", s)
	}
	ix := caindex.New(chunk.SHA512_256, 16, 64, 256)
	ix.Chunks = []caindex.Chunk{{ID: chunk.SHA512_256.Sum([]byte("a")), Size: 100}}
	var want bytes.Buffer
	ix.WriteTo(&want)

	d.Inject(storagetest.Fault{Ops: storagetest.OpStore, Times: 2, Kind: storage.KindTransient})
	writes := 0
	err := storage.WriteIndex(ctx, s, "a.caibx", func(w io.Writer) error {
		writes++
		_, err := w.Write(want.Bytes())
		return err
	})
	if err != nil || writes != 1 || d.Calls(storagetest.OpStore) != 3 {
		t.Errorf("WriteIndex after 2 transient failures: %v, %d writes, %d puts; want success, 1, 3", err, writes, d.Calls(storagetest.OpStore))
	}
	d.Inject(storagetest.Fault{Ops: storagetest.OpGet, Times: 2, Kind: storage.KindTransient})
	var got bytes.Buffer
	if err := storage.CopyIndex(ctx, s, "a.caibx", &got); err != nil || !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("CopyIndex after 2 transient failures: %v, %d bytes", err, got.Len())
	}
	for _, kind := range []storage.ErrorKind{storage.KindPermanent, storage.KindUnknown} {
		before := d.Calls(storagetest.OpGet)
		d.Inject(storagetest.Fault{Ops: storagetest.OpGet, Times: 5, Kind: kind})
		if _, err := s.GetIndex(ctx, "a.caibx"); err == nil || d.Calls(storagetest.OpGet)-before != 1 {
			t.Errorf("GetIndex failing %s: %v after %d calls, want 1 call", kind, err, d.Calls(storagetest.OpGet)-before)
		}
		d.ClearFaults()
	}
}
