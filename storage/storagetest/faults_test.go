package storagetest_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

func newLocal(t *testing.T, o storage.LocalOptions) *storage.Local {
	t.Helper()
	s, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// put stores plain in s and returns its ID.
func put(t *testing.T, s chunk.WriteStore, plain []byte) chunk.ID {
	t.Helper()
	id := chunk.SHA512_256.Sum(plain)
	if err := s.StoreChunk(context.Background(), chunk.New(id, plain)); err != nil {
		t.Fatal(err)
	}
	return id
}

func wantContent(t *testing.T, c *chunk.Chunk, err error, want string) {
	t.Helper()
	if err != nil {
		t.Fatalf("GetChunk: %v, want the chunk", err)
	}
	if b, err := c.Plain(); err != nil || string(b) != want {
		t.Fatalf("GetChunk returned %q (%v), want %q", b, err, want)
	}
}

type unwrapper interface{ Unwrap() chunk.Store }

// TestWrappersConform runs the suite on the wrappers configured to inject
// nothing: they must be transparent.
func TestWrappersConform(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(chunk.Store) chunk.Store
	}{
		{"Counting", func(s chunk.Store) chunk.Store { return storagetest.NewCounting(s) }},
		{"Latency", func(s chunk.Store) chunk.Store { return storagetest.NewLatency(s, time.Microsecond) }},
		{"Transient", func(s chunk.Store) chunk.Store {
			return storagetest.NewTransient(s, 0, storagetest.OpGet|storagetest.OpHas|storagetest.OpStore)
		}},
		{"Down", func(s chunk.Store) chunk.Store {
			d := storagetest.NewDown(s, nil)
			d.SetErr(nil)
			return d
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Run(t, storagetest.Harness{
				New: func(t *testing.T) chunk.Store {
					s, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"), storage.LocalOptions{Uncompressed: true})
					if err != nil {
						t.Fatal(err)
					}
					return tc.wrap(s)
				},
				Converter: chunk.Uncompressed{},
				Corrupt: func(t *testing.T, s chunk.Store, id chunk.ID, b []byte) {
					l := s.(unwrapper).Unwrap().(*storage.Local)
					if err := l.Flush(context.Background()); err != nil {
						t.Fatal(err)
					}
					os.Remove(l.Path(id))
					if err := os.WriteFile(l.Path(id), b, 0o444); err != nil {
						t.Fatal(err)
					}
				},
			})
		})
	}
}

func TestTransient(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t, storage.LocalOptions{})
	id := put(t, l, []byte("transient"))

	s := storagetest.NewTransient(l, 2, 0) // GetChunk only
	for i := range 2 {
		_, err := s.GetChunk(ctx, id)
		if !errors.Is(err, storagetest.ErrTransient) {
			t.Fatalf("GetChunk %d: %v, want an error matching ErrTransient", i+1, err)
		}
		if !strings.Contains(err.Error(), l.String()) || !strings.Contains(err.Error(), id.String()) {
			t.Errorf("GetChunk %d: %q does not name the store %s and the chunk", i+1, err, l)
		}
		var inv *chunk.InvalidError
		if errors.Is(err, chunk.ErrMissing) || errors.As(err, &inv) {
			t.Errorf("GetChunk %d: %v looks missing or invalid, want only transient", i+1, err)
		}
		if ok, err := s.HasChunk(ctx, id); !ok || err != nil {
			t.Errorf("HasChunk = %v, %v; want true, nil (only GetChunk fails)", ok, err)
		}
	}
	c, err := s.GetChunk(ctx, id)
	wantContent(t, c, err, "transient")
	if n := s.Calls(); n != 3 {
		t.Errorf("Calls() = %d, want 3 (2 failed GetChunk, 1 passed; HasChunk not selected)", n)
	}

	// HasChunk and StoreChunk share one count when selected.
	s = storagetest.NewTransient(l, 2, storagetest.OpHas|storagetest.OpStore)
	if _, err := s.HasChunk(ctx, id); !errors.Is(err, storagetest.ErrTransient) {
		t.Errorf("HasChunk 1: %v, want ErrTransient", err)
	}
	plain := []byte("second chunk")
	if err := s.StoreChunk(ctx, chunk.New(chunk.SHA512_256.Sum(plain), plain)); !errors.Is(err, storagetest.ErrTransient) {
		t.Errorf("StoreChunk 2: %v, want ErrTransient", err)
	}
	if ok, _ := l.HasChunk(ctx, chunk.SHA512_256.Sum(plain)); ok {
		t.Error("a failed StoreChunk reached the inner store")
	}
	if _, err := s.GetChunk(ctx, id); err != nil {
		t.Errorf("GetChunk (not selected): %v, want nil", err)
	}
	if ok, err := s.HasChunk(ctx, id); !ok || err != nil {
		t.Errorf("HasChunk 3 = %v, %v; want true, nil", ok, err)
	}
	if n := s.Calls(); n != 3 {
		t.Errorf("Calls() = %d, want 3", n)
	}
}

func TestDown(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t, storage.LocalOptions{})
	id := put(t, l, []byte("down"))

	s := storagetest.NewDown(l, nil)
	_, err := s.GetChunk(ctx, id)
	if !errors.Is(err, storagetest.ErrTransient) || !strings.Contains(err.Error(), l.String()) {
		t.Errorf("GetChunk of a down store: %v, want ErrTransient naming %s", err, l)
	}
	boom := errors.New("connection refused")
	s.SetErr(boom)
	if _, err := s.GetChunk(ctx, id); err != boom {
		t.Errorf("GetChunk: %v, want %v", err, boom)
	}
	if ok, err := s.HasChunk(ctx, id); ok || err != boom {
		t.Errorf("HasChunk = %v, %v; want false, %v", ok, err, boom)
	}
	if err := s.StoreChunk(ctx, chunk.New(id, []byte("down"))); err != boom {
		t.Errorf("StoreChunk: %v, want %v", err, boom)
	}
	if err := s.Flush(ctx); err != boom {
		t.Errorf("Flush: %v, want %v", err, boom)
	}
	s.SetErr(nil) // back up
	c, err := s.GetChunk(ctx, id)
	wantContent(t, c, err, "down")
	if n := s.Calls(); n != 6 {
		t.Errorf("Calls() = %d, want 6", n)
	}
	if s.String() != l.String() || s.Unwrap() != l {
		t.Errorf("String/Unwrap: %q, %v; want the inner store's", s, s.Unwrap())
	}
}

// fixedStore returns one chunk, the same *chunk.Chunk every time, so a
// wrapper that damaged the shared stored form would show.
type fixedStore struct{ c *chunk.Chunk }

func (s fixedStore) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	if id != s.c.ID() {
		return nil, &chunk.MissingError{ID: id, Store: "fixed"}
	}
	return s.c, nil
}
func (s fixedStore) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	return id == s.c.ID(), nil
}
func (fixedStore) Close() error   { return nil }
func (fixedStore) String() string { return "fixed" }

func TestCorrupters(t *testing.T) {
	ctx := context.Background()
	zstd, err := chunk.NewZstd(chunk.ZstdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	small := "x"
	large := strings.Repeat("a fairly compressible chunk of text, ", 3000)
	for _, tc := range []struct {
		name     string
		new      func(chunk.Store, storagetest.CorruptOptions) *storagetest.Corrupter
		conv     chunk.Converter
		localOpt storage.LocalOptions
	}{
		{"BitFlip/Zstd", storagetest.NewBitFlip, zstd, storage.LocalOptions{Converter: zstd}},
		{"BitFlip/Uncompressed", storagetest.NewBitFlip, nil, storage.LocalOptions{Uncompressed: true}},
		{"ShortRead/Zstd", storagetest.NewShortRead, zstd, storage.LocalOptions{Converter: zstd}},
		{"ShortRead/Uncompressed", storagetest.NewShortRead, nil, storage.LocalOptions{Uncompressed: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLocal(t, tc.localOpt)
			ids := map[string]chunk.ID{small: put(t, l, []byte(small)), large: put(t, l, []byte(large))}
			wantInvalid := func(s *storagetest.Corrupter, id chunk.ID) {
				t.Helper()
				c, err := s.GetChunk(ctx, id)
				var inv *chunk.InvalidError
				if !errors.As(err, &inv) {
					t.Fatalf("GetChunk(%s): %v, %v; want an *chunk.InvalidError", id, c, err)
				}
				if inv.ID != id || inv.Store != s.String() {
					t.Errorf("*chunk.InvalidError names chunk %s in store %q, want %s in %q", inv.ID, inv.Store, id, s)
				}
				if inv.Err == nil && (inv.Sum == id || inv.Sum == (chunk.ID{})) {
					t.Errorf("*chunk.InvalidError without a decoding error has Sum %s, want the digest of the damaged content", inv.Sum)
				}
				if tc.conv == nil && inv.Err != nil && strings.HasPrefix(tc.name, "BitFlip") {
					t.Errorf("a flipped bit in an uncompressed chunk reported as a decoding error (%v), want a digest mismatch", inv.Err)
				}
			}

			// Every read damaged.
			s := tc.new(l, storagetest.CorruptOptions{Converter: tc.conv})
			for _, content := range []string{small, large, small} {
				wantInvalid(s, ids[content])
			}
			if n := s.Corrupted(); n != 3 {
				t.Errorf("Corrupted() = %d, want 3", n)
			}
			// Missing chunks pass through and are not counted.
			if _, err := s.GetChunk(ctx, chunk.ID{}); !errors.Is(err, chunk.ErrMissing) {
				t.Errorf("GetChunk of an absent chunk: %v, want chunk.ErrMissing", err)
			}
			if ok, err := s.HasChunk(ctx, ids[large]); !ok || err != nil {
				t.Errorf("HasChunk = %v, %v; want true, nil", ok, err)
			}
			// The inner store's chunk is intact.
			c, err := l.GetChunk(ctx, ids[large])
			wantContent(t, c, err, large)

			// The first two reads damaged, then the real content.
			s = tc.new(l, storagetest.CorruptOptions{Converter: tc.conv, Reads: 2})
			wantInvalid(s, ids[large])
			wantInvalid(s, ids[small])
			c, err = s.GetChunk(ctx, ids[large])
			wantContent(t, c, err, large)
			if n := s.Corrupted(); n != 2 {
				t.Errorf("Corrupted() = %d, want 2", n)
			}

			// A chunk handed out in stored form is not damaged in place.
			conv := tc.conv
			if conv == nil {
				conv = chunk.Uncompressed{}
			}
			stored, _ := conv.Encode(nil, []byte(large))
			shared := chunk.NewStored(ids[large], stored, conv)
			s = tc.new(fixedStore{shared}, storagetest.CorruptOptions{Converter: conv})
			wantInvalid(s, ids[large])
			if err := shared.Verify(chunk.SHA512_256); err != nil {
				t.Errorf("the inner store's chunk was damaged: %v", err)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	l := newLocal(t, storage.LocalOptions{})
	id := put(t, l, []byte("slow"))
	counting := storagetest.NewCounting(l)

	// Passes calls through once the delay is over.
	fast := storagetest.NewLatency(counting, time.Millisecond)
	c, err := fast.GetChunk(context.Background(), id)
	wantContent(t, c, err, "slow")

	// A context that ends during the delay ends the call.
	slow := storagetest.NewLatency(counting, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 3)
	go func() { _, err := slow.GetChunk(ctx, id); done <- err }()
	go func() { _, err := slow.HasChunk(ctx, id); done <- err }()
	go func() { done <- slow.StoreChunk(ctx, chunk.New(id, []byte("slow"))) }()
	cancel()
	for range 3 {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("call cancelled during the delay: %v, want context.Canceled", err)
		}
	}
	// An ended context does not wait at all (this would take an hour).
	if _, err := slow.GetChunk(ctx, id); !errors.Is(err, context.Canceled) {
		t.Errorf("GetChunk with a cancelled context: %v, want context.Canceled", err)
	}
	if got := counting.Total(); got != (storagetest.Counts{Get: 1}) {
		t.Errorf("inner store saw %+v, want only the one GetChunk that was not cancelled", got)
	}
}

func TestCounting(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t, storage.LocalOptions{})
	s := storagetest.NewCounting(l)
	a, b := []byte("chunk a"), []byte("chunk b")
	ida, idb := chunk.SHA512_256.Sum(a), chunk.SHA512_256.Sum(b)
	if err := s.StoreChunk(ctx, chunk.New(ida, a)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			s.GetChunk(ctx, ida)
			s.GetChunk(ctx, idb) // missing: still counted
			s.HasChunk(ctx, ida)
		})
	}
	wg.Wait()
	if got, want := s.Of(ida), (storagetest.Counts{Get: 10, Has: 10, Store: 1}); got != want {
		t.Errorf("Of(a) = %+v, want %+v", got, want)
	}
	if got, want := s.Of(idb), (storagetest.Counts{Get: 10}); got != want {
		t.Errorf("Of(b) = %+v, want %+v", got, want)
	}
	if got, want := s.Total(), (storagetest.Counts{Get: 20, Has: 10, Store: 1}); got != want {
		t.Errorf("Total() = %+v, want %+v", got, want)
	}
	// Flush reaches the inner store: the pending chunk is under its name.
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.Path(ida)); err != nil {
		t.Errorf("chunk not in place after Flush through the wrapper: %v", err)
	}
	s.Reset()
	if got := s.Total(); got != (storagetest.Counts{}) || s.Of(ida) != (storagetest.Counts{}) {
		t.Errorf("after Reset: total %+v, a %+v; want zero", got, s.Of(ida))
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t, storage.LocalOptions{})
	ro := storagetest.ReadOnly(l)
	if _, ok := ro.(chunk.WriteStore); ok {
		t.Error("ReadOnly store is a chunk.WriteStore")
	}
	// A wrapper around a read-only store refuses writes.
	w := storagetest.NewCounting(ro)
	plain := []byte("refused")
	err := w.StoreChunk(ctx, chunk.New(chunk.SHA512_256.Sum(plain), plain))
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), l.String()) {
		t.Errorf("StoreChunk through a read-only store: %v, want errors.ErrUnsupported naming %s", err, l)
	}
	var entries []fs.DirEntry
	entries, _ = os.ReadDir(l.String())
	if len(entries) != 0 {
		t.Errorf("the refused chunk reached the store: %v", entries)
	}
}
