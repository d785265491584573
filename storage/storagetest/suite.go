package storagetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// Harness describes a store type to [Run].
type Harness struct {
	// New returns a fresh, empty store. It is called once per subtest; the
	// suite closes the store when the subtest ends. If the store is a
	// chunk.WriteStore (or Writer is set) the write tests run, otherwise
	// they are skipped.
	New func(t *testing.T) chunk.Store

	// Writer, if set, returns the store the suite writes its chunks into
	// so that s (a store from New) serves them. It is for stores that are
	// not a chunk.WriteStore, or whose StoreChunk does not reach what they
	// read, such as compositions: for a router its last member, for a
	// failover group a writer to every member, for a cache the store behind
	// it (so reads take the cache-miss path). With Writer every chunk the
	// suite stores goes to the Writer's store, never to s.StoreChunk, and
	// every read goes to s; s must see the writes before a Flush, as a store
	// sees its own. The suite flushes the Writer's store (if a
	// chunk.Flusher) where it flushes s, but does not close it: closing s
	// must release it. Writer is called once per subtest, after New.
	Writer func(s chunk.Store) chunk.WriteStore

	// Digest names the store's chunks. The zero value is chunk.SHA512_256
	// (that constant is 0), casync's default.
	Digest chunk.Digest

	// SkipVerify says the store does not hash what it reads (a trusted
	// store): the subtests that expect content not matching its name to be
	// reported as a *chunk.InvalidError then accept the content instead.
	// Content that does not decode must still be an *chunk.InvalidError.
	SkipVerify bool

	// Converter is the form the backend keeps chunks in (a *chunk.Zstd for
	// casync stores, chunk.Uncompressed{} for plain ones). The suite uses
	// it to make the bytes it hands to Corrupt and chunks in stored form.
	// Nil skips those subtests.
	Converter chunk.Converter

	// Corrupt, if set, puts stored (raw backend bytes) under id's name in
	// s's backend, replacing whatever is there, including a chunk the store
	// still holds back (flush first). With Writer, the backend is where the
	// Writer's store keeps the chunk (every copy a read through s could
	// fall back to). Nil skips the Corrupt subtests.
	Corrupt func(t *testing.T, s chunk.Store, id chunk.ID, stored []byte)

	// Check, if set, is called when a subtest ends, after the store is
	// closed, to check what the interfaces cannot see (no temporary files
	// left behind, no open uploads, ...).
	Check func(t *testing.T, s chunk.Store)
}

// Run runs the conformance suite on the store type h describes, as subtests
// of t. See the package documentation for the list of subtests.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("storagetest: Harness.New is nil")
	}
	tests := []struct {
		name string
		fn   func(*testing.T, *fixture)
	}{
		{"RoundTrip", testRoundTrip},
		{"CallerReusesBuffer", testCallerReusesBuffer},
		{"StoredForm", testStoredForm},
		{"Missing", testMissing},
		{"StoreExisting", testStoreExisting},
		{"ManyChunks", testManyChunks},
		{"Corrupt", testCorrupt},
		{"WrongID", testWrongID},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Canceled", testCanceled},
		{"Prune", testPrune},
		{"PruneCanceled", testPruneCanceled},
		{"List", testList},
		{"Remove", testRemove},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h.open(t)) })
	}
}

// fixture is one subtest's store.
type fixture struct {
	h         Harness
	s         chunk.Store
	ws        chunk.WriteStore // where chunks are stored: Harness.Writer(s), or s if a chunk.WriteStore, or nil
	viaWriter bool             // ws is from Harness.Writer
	closed    bool
	seed      uint64
}

func (h Harness) open(t *testing.T) *fixture {
	s := h.New(t)
	if s == nil {
		t.Fatal("Harness.New returned a nil store")
	}
	f := &fixture{h: h, s: s}
	t.Cleanup(func() {
		if !f.closed {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v, want nil", err)
			}
		}
		if h.Check != nil {
			h.Check(t, s)
		}
	})
	if h.Writer != nil {
		f.viaWriter = true
		if f.ws = h.Writer(s); f.ws == nil {
			t.Fatalf("Harness.Writer returned nil for store %s (%T)", s, s)
		}
	} else {
		f.ws, _ = s.(chunk.WriteStore)
	}
	return f
}

// needWrite skips the test unless the store accepts chunks.
func (f *fixture) needWrite(t *testing.T) chunk.WriteStore {
	t.Helper()
	if f.ws == nil {
		t.Skipf("store %s (%T) is not a chunk.WriteStore and Harness.Writer is nil", f.s, f.s)
	}
	return f.ws
}

// data returns n deterministic bytes: random, or (compressible) random
// bytes with long repeats. Every call returns different data.
func (f *fixture) data(n int, compressible bool) []byte {
	f.seed++
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], f.seed)
	r := rand.NewChaCha8(seed)
	b := make([]byte, n)
	r.Read(b)
	if compressible {
		for i := 64; i < n; i++ {
			if i%128 >= 16 { // 16 random bytes, then 112 copied from 64 back
				b[i] = b[i-64]
			}
		}
	}
	return b
}

// chunk returns a new chunk of n bytes named by the store's digest.
func (f *fixture) chunk(n int, compressible bool) *chunk.Chunk {
	plain := f.data(n, compressible)
	return chunk.New(f.h.Digest.Sum(plain), plain)
}

func plainOf(t *testing.T, c *chunk.Chunk) []byte {
	t.Helper()
	b, err := c.Plain()
	if err != nil {
		t.Fatalf("Plain of chunk %s: %v", c.ID(), err)
	}
	return b
}

func (f *fixture) store(t *testing.T, ctx context.Context, c *chunk.Chunk) {
	t.Helper()
	if err := f.ws.StoreChunk(ctx, c); err != nil {
		t.Fatalf("StoreChunk(%s): %v, want nil", c.ID(), err)
	}
}

// flush flushes the Writer's store, if any, and then s.
func (f *fixture) flush(t *testing.T, ctx context.Context) {
	t.Helper()
	if f.viaWriter {
		if fl, ok := f.ws.(chunk.Flusher); ok {
			if err := fl.Flush(ctx); err != nil {
				t.Fatalf("Flush of the Harness.Writer store %s: %v, want nil", f.ws, err)
			}
		}
	}
	if fl, ok := f.s.(chunk.Flusher); ok {
		if err := fl.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v, want nil", err)
		}
	}
}

// wantChunk checks that the store holds id with content want.
func (f *fixture) wantChunk(t *testing.T, ctx context.Context, id chunk.ID, want []byte) {
	t.Helper()
	c, err := f.s.GetChunk(ctx, id)
	if err != nil {
		t.Fatalf("GetChunk(%s): %v, want the chunk", id, err)
	}
	if c.ID() != id {
		t.Fatalf("GetChunk(%s) returned chunk %s", id, c.ID())
	}
	if got := plainOf(t, c); !bytes.Equal(got, want) {
		t.Fatalf("GetChunk(%s): %d bytes differing from the %d stored", id, len(got), len(want))
	}
	if ok, err := f.s.HasChunk(ctx, id); !ok || err != nil {
		t.Fatalf("HasChunk(%s) = %v, %v; want true, nil", id, ok, err)
	}
}

// wantMissing checks that the store does not hold id and says so properly.
func (f *fixture) wantMissing(t *testing.T, ctx context.Context, id chunk.ID) {
	t.Helper()
	c, err := f.s.GetChunk(ctx, id)
	switch {
	case err == nil:
		t.Fatalf("GetChunk(%s) returned a chunk (%T), want an error matching chunk.ErrMissing", id, c)
	case !errors.Is(err, chunk.ErrMissing):
		t.Fatalf("GetChunk(%s): %v (%T), want an error matching chunk.ErrMissing", id, err, err)
	case !strings.Contains(err.Error(), id.String()):
		t.Fatalf("GetChunk(%s): %q does not name the chunk", id, err)
	case !strings.Contains(err.Error(), f.s.String()):
		t.Fatalf("GetChunk(%s): %q does not name the store %q", id, err, f.s)
	}
	var inv *chunk.InvalidError
	if errors.As(err, &inv) {
		t.Fatalf("GetChunk(%s): %v is also an *chunk.InvalidError, want only missing", id, err)
	}
	if ok, err := f.s.HasChunk(ctx, id); ok || err != nil {
		t.Fatalf("HasChunk(%s) = %v, %v; want false, nil", id, ok, err)
	}
}

// wantInvalid checks that reading id reports an *chunk.InvalidError for it.
// With SkipVerify (and decodable content) the store may return the content
// instead, which must then be what was put there.
func (f *fixture) wantInvalid(t *testing.T, ctx context.Context, id chunk.ID, stored []byte) {
	t.Helper()
	var decoded []byte // nil: stored does not decode
	if f.h.Converter != nil {
		decoded, _ = f.h.Converter.Decode(nil, stored)
	}
	c, err := f.s.GetChunk(ctx, id)
	if err == nil && f.h.SkipVerify {
		// A trusting store may decode lazily; what it returns must still
		// be an *InvalidError or the content put there.
		b, err := c.Plain()
		var inv *chunk.InvalidError
		switch {
		case err != nil && !errors.As(err, &inv):
			t.Fatalf("Plain of chunk %s: %v (%T), want an *chunk.InvalidError", id, err, err)
		case err == nil && decoded == nil:
			t.Fatalf("GetChunk(%s) returned content for bytes that do not decode, want an *chunk.InvalidError", id)
		case err == nil && !bytes.Equal(b, decoded):
			t.Fatalf("GetChunk(%s) returned content other than what was stored", id)
		}
		return
	}
	var inv *chunk.InvalidError
	switch {
	case err == nil:
		t.Fatalf("GetChunk(%s) returned a chunk whose content does not hash to its name, want an *chunk.InvalidError", id)
	case !errors.As(err, &inv):
		t.Fatalf("GetChunk(%s): %v (%T), want an *chunk.InvalidError", id, err, err)
	case errors.Is(err, chunk.ErrMissing):
		t.Fatalf("GetChunk(%s): %v matches chunk.ErrMissing, want only invalid", id, err)
	case inv.ID != id:
		t.Fatalf("GetChunk(%s): *chunk.InvalidError names chunk %s", id, inv.ID)
	case inv.Store == "":
		t.Fatalf("GetChunk(%s): *chunk.InvalidError %q does not name the store", id, err)
	case !strings.Contains(err.Error(), id.String()):
		t.Fatalf("GetChunk(%s): %q does not name the chunk", id, err)
	}
	if decoded != nil && inv.Err == nil && inv.Sum != f.h.Digest.Sum(decoded) {
		t.Fatalf("GetChunk(%s): *chunk.InvalidError.Sum is %s, want %s, the digest of what was read", id, inv.Sum, f.h.Digest.Sum(decoded))
	}
}

// list returns how often each chunk is listed; ok is false if the store is
// not a storage.Lister.
func (f *fixture) list(t *testing.T, ctx context.Context) (seen map[chunk.ID]int, ok bool) {
	t.Helper()
	l, ok := f.s.(storage.Lister)
	if !ok {
		return nil, false
	}
	seen = map[chunk.ID]int{}
	for id, err := range l.ListChunks(ctx) {
		if err != nil {
			t.Fatalf("ListChunks: %v, want nil", err)
		}
		seen[id]++
	}
	return seen, true
}

// wantList checks that a storage.Lister lists exactly want, each once.
func (f *fixture) wantList(t *testing.T, ctx context.Context, want ...chunk.ID) {
	t.Helper()
	seen, ok := f.list(t, ctx)
	if !ok {
		return
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("ListChunks listed chunk %s %d times, want once", id, seen[id])
		}
		delete(seen, id)
	}
	for id, n := range seen {
		t.Errorf("ListChunks listed chunk %s (%d times), which the store should not hold", id, n)
	}
}

func testRoundTrip(t *testing.T, f *fixture) {
	ctx := context.Background()
	ws := f.needWrite(t)
	var chunks []*chunk.Chunk
	for _, size := range []struct {
		n            int
		compressible bool
	}{{1, false}, {2, false}, {1000, true}, {4096, false}, {64 << 10, true}, {256 << 10, false}} {
		chunks = append(chunks, f.chunk(size.n, size.compressible))
	}
	for _, c := range chunks {
		f.wantMissing(t, ctx, c.ID())
		if err := ws.StoreChunk(ctx, c); err != nil {
			t.Fatalf("StoreChunk(%s, %d bytes): %v, want nil", c.ID(), len(plainOf(t, c)), err)
		}
		// Visible to this store at once, before any Flush.
		f.wantChunk(t, ctx, c.ID(), plainOf(t, c))
	}
	f.flush(t, ctx)
	f.flush(t, ctx) // flushing nothing is fine too
	for _, c := range chunks {
		f.wantChunk(t, ctx, c.ID(), plainOf(t, c))
	}
}

// testCallerReusesBuffer checks that StoreChunk keeps no reference to the
// chunk's data: callers reuse their buffers once it returns.
func testCallerReusesBuffer(t *testing.T, f *fixture) {
	ctx := context.Background()
	f.needWrite(t)
	buf := f.data(8192, true)
	want := bytes.Clone(buf)
	id := f.h.Digest.Sum(buf)
	f.store(t, ctx, chunk.New(id, buf))
	for i := range buf {
		buf[i] = ^buf[i]
	}
	f.wantChunk(t, ctx, id, want)
	f.flush(t, ctx)
	f.wantChunk(t, ctx, id, want)
}

// testStoredForm stores chunks that arrive in the backend's stored form.
func testStoredForm(t *testing.T, f *fixture) {
	ctx := context.Background()
	f.needWrite(t)
	if f.h.Converter == nil {
		t.Skip("Harness.Converter is nil")
	}
	for _, n := range []int{1, 5000, 100 << 10} {
		plain := f.data(n, true)
		stored, err := f.h.Converter.Encode(nil, plain)
		if err != nil {
			t.Fatal(err)
		}
		id := f.h.Digest.Sum(plain)
		f.store(t, ctx, chunk.NewStored(id, stored, f.h.Converter))
		f.wantChunk(t, ctx, id, plain)
	}
}

func testMissing(t *testing.T, f *fixture) {
	ctx := context.Background()
	absent := f.h.Digest.Sum([]byte("storagetest: a chunk no store holds"))
	f.wantMissing(t, ctx, absent)
	f.wantMissing(t, ctx, chunk.ID{})
	if f.ws != nil {
		c := f.chunk(100, false)
		f.store(t, ctx, c)
		f.wantMissing(t, ctx, absent) // a store with chunks, too
		f.flush(t, ctx)
		f.wantMissing(t, ctx, absent)
	}
}

func testStoreExisting(t *testing.T, f *fixture) {
	ctx := context.Background()
	f.needWrite(t)
	c := f.chunk(3000, true)
	plain := plainOf(t, c)
	f.store(t, ctx, c)
	f.store(t, ctx, c)                                     // again, same Chunk, before a flush
	f.store(t, ctx, chunk.New(c.ID(), bytes.Clone(plain))) // a copy
	f.wantChunk(t, ctx, c.ID(), plain)
	f.flush(t, ctx)
	f.store(t, ctx, chunk.New(c.ID(), bytes.Clone(plain))) // after the flush
	if f.h.Converter != nil {
		stored, err := f.h.Converter.Encode(nil, plain)
		if err != nil {
			t.Fatal(err)
		}
		f.store(t, ctx, chunk.NewStored(c.ID(), stored, f.h.Converter))
	}
	f.wantChunk(t, ctx, c.ID(), plain)
	f.flush(t, ctx)
	f.wantChunk(t, ctx, c.ID(), plain)
	f.wantList(t, ctx, c.ID())
}

// testManyChunks stores more chunks than a store is likely to batch.
func testManyChunks(t *testing.T, f *fixture) {
	ctx := context.Background()
	f.needWrite(t)
	var ids []chunk.ID
	var plains [][]byte
	for range 300 {
		c := f.chunk(64, false)
		f.store(t, ctx, c)
		ids = append(ids, c.ID())
		plains = append(plains, plainOf(t, c))
	}
	for i, id := range ids {
		f.wantChunk(t, ctx, id, plains[i])
	}
	f.wantList(t, ctx, ids...)
	f.flush(t, ctx)
	for i, id := range ids {
		f.wantChunk(t, ctx, id, plains[i])
	}
}

// testCorrupt puts bad bytes under chunks' names in the backend.
func testCorrupt(t *testing.T, f *fixture) {
	if f.h.Corrupt == nil {
		t.Skip("Harness.Corrupt is nil")
	}
	if f.h.Converter == nil {
		t.Skip("Harness.Converter is nil")
	}
	ctx := context.Background()
	encode := func(plain []byte) []byte {
		b, err := f.h.Converter.Encode(nil, plain)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name    string
		corrupt func(good []byte) []byte // the stored form of the chunk's real content
	}{
		// Valid stored data of other content: decodes, but does not hash
		// to the name.
		{"WrongContent", func([]byte) []byte { return encode(f.data(500, true)) }},
		// Not a chunk at all. A converter that decodes anything (plain
		// stores) makes it wrong content instead.
		{"Garbage", func([]byte) []byte { return []byte("storagetest: this is not a chunk") }},
		{"Truncated", func(good []byte) []byte { return good[:len(good)/2] }},
		{"TrailingGarbage", func(good []byte) []byte { return append(bytes.Clone(good), 0, 1, 2, 3) }},
		{"FlippedBit", func(good []byte) []byte {
			b := bytes.Clone(good)
			b[len(b)-1] ^= 0x10
			return b
		}},
		// No chunk is empty, so an empty object is an invalid chunk (no
		// store can hold an empty chunk), not a missing one.
		{"Empty", func([]byte) []byte { return []byte{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.chunk(2000, true)
			good := encode(plainOf(t, c))
			if f.ws != nil {
				f.store(t, ctx, c) // replace a real chunk, which may be held back
			}
			bad := tc.corrupt(good)
			f.h.Corrupt(t, f.s, c.ID(), bad)
			f.wantInvalid(t, ctx, c.ID(), bad)
			// A corrupt chunk is still a chunk the store has: no claim on
			// HasChunk, but it must not fail oddly.
			if _, err := f.s.HasChunk(ctx, c.ID()); err != nil {
				t.Errorf("HasChunk(%s) of a corrupt chunk: %v, want nil", c.ID(), err)
			}
		})
	}
}

// testWrongID stores chunks whose content does not match their ID: the
// store must refuse them or report them as invalid on every read.
func testWrongID(t *testing.T, f *fixture) {
	ctx := context.Background()
	f.needWrite(t)
	if f.h.SkipVerify {
		t.Skip("the store does not verify chunks (Harness.SkipVerify)")
	}
	type input struct {
		name   string
		c      *chunk.Chunk
		stored []byte // what the backend would hold, for the Sum check
	}
	other := f.data(700, true)
	wrongID := f.h.Digest.Sum(f.data(700, true))
	inputs := []input{{"Plain", chunk.New(wrongID, other), nil}}
	if conv := f.h.Converter; conv != nil {
		stored, err := conv.Encode(nil, other)
		if err != nil {
			t.Fatal(err)
		}
		inputs[0].stored = stored
		id2 := f.h.Digest.Sum(f.data(700, true))
		inputs = append(inputs, input{"StoredForm", chunk.NewStored(id2, stored, conv), stored})
		garbage := []byte("storagetest: not the stored form of anything")
		id3 := f.h.Digest.Sum(f.data(700, true))
		inputs = append(inputs, input{"Undecodable", chunk.NewStored(id3, garbage, conv), garbage})
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			id := in.c.ID()
			if err := f.ws.StoreChunk(ctx, in.c); err != nil {
				t.Logf("StoreChunk refused chunk %s: %v", id, err)
				return
			}
			stored := in.stored
			if stored == nil {
				stored = other
			}
			f.wantInvalid(t, ctx, id, stored)
			f.flush(t, ctx)
			f.wantInvalid(t, ctx, id, stored)
		})
	}
}

// testConcurrentWriters stores one chunk from 16 goroutines, and a few other
// chunks, while others read the first one.
func testConcurrentWriters(t *testing.T, f *fixture) {
	ctx := context.Background()
	ws := f.needWrite(t)
	shared := f.chunk(64<<10, false)
	sharedPlain := plainOf(t, shared)
	var distinct []*chunk.Chunk
	for range 4 {
		distinct = append(distinct, f.chunk(3000, true))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	report := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	start := make(chan struct{})
	for i := range 16 {
		wg.Go(func() {
			<-start
			// Half share the *Chunk, half bring their own copy.
			c := shared
			if i%2 == 1 {
				c = chunk.New(shared.ID(), bytes.Clone(sharedPlain))
			}
			if err := ws.StoreChunk(ctx, c); err != nil {
				report(fmt.Errorf("StoreChunk(%s) in writer %d: %w", c.ID(), i, err))
			}
		})
	}
	for i, c := range distinct {
		wg.Go(func() {
			<-start
			if err := ws.StoreChunk(ctx, c); err != nil {
				report(fmt.Errorf("StoreChunk(%s) in writer %d: %w", c.ID(), 16+i, err))
			}
		})
	}
	for i := range 4 {
		wg.Go(func() {
			<-start
			// A reader sees the chunk missing or complete, never partial.
			for range 20 {
				c, err := f.s.GetChunk(ctx, shared.ID())
				if errors.Is(err, chunk.ErrMissing) {
					continue
				}
				if err != nil {
					report(fmt.Errorf("GetChunk(%s) in reader %d during writes: %w, want the chunk or missing", shared.ID(), i, err))
					return
				}
				if b, err := c.Plain(); err != nil || !bytes.Equal(b, sharedPlain) {
					report(fmt.Errorf("GetChunk(%s) in reader %d during writes returned wrong content (%v)", shared.ID(), i, err))
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	ids := []chunk.ID{shared.ID()}
	f.wantChunk(t, ctx, shared.ID(), sharedPlain)
	for _, c := range distinct {
		f.wantChunk(t, ctx, c.ID(), plainOf(t, c))
		ids = append(ids, c.ID())
	}
	f.wantList(t, ctx, ids...)
	f.flush(t, ctx)
	f.wantChunk(t, ctx, shared.ID(), sharedPlain)
	f.wantList(t, ctx, ids...)
}

func wantCanceled(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%s with a cancelled context: %v, want an error matching context.Canceled", what, err)
	}
}

func testCanceled(t *testing.T, f *fixture) {
	live := context.Background()
	ctx, cancel := context.WithCancel(live)
	cancel()
	var have *chunk.Chunk
	if f.ws != nil {
		have = f.chunk(100, false)
		f.store(t, live, have)
	}
	ids := []chunk.ID{f.h.Digest.Sum([]byte("storagetest: absent"))}
	if have != nil {
		ids = append(ids, have.ID())
	}
	for _, id := range ids {
		_, err := f.s.GetChunk(ctx, id)
		wantCanceled(t, fmt.Sprintf("GetChunk(%s)", id), err)
		_, err = f.s.HasChunk(ctx, id)
		wantCanceled(t, fmt.Sprintf("HasChunk(%s)", id), err)
	}
	if f.ws == nil {
		return
	}
	c := f.chunk(100, false)
	if !f.viaWriter { // the Writer's store is the harness's, not under test
		wantCanceled(t, "StoreChunk", f.ws.StoreChunk(ctx, c))
	}
	if l, ok := f.s.(storage.Lister); ok {
		var err error
		for _, e := range l.ListChunks(ctx) {
			if e != nil {
				err = e
				break
			}
		}
		wantCanceled(t, "ListChunks of a store with chunks", err)
	}
	if r, ok := f.s.(storage.Remover); ok {
		wantCanceled(t, "RemoveChunk", r.RemoveChunk(ctx, have.ID()))
	}
	// The store still works with a live context.
	f.store(t, live, c)
	f.wantChunk(t, live, c.ID(), plainOf(t, c))
}

// storeSix stores six chunks and returns them.
func (f *fixture) storeSix(t *testing.T, ctx context.Context) []*chunk.Chunk {
	t.Helper()
	var cs []*chunk.Chunk
	for i := range 6 {
		c := f.chunk(500+i, true)
		f.store(t, ctx, c)
		cs = append(cs, c)
		if i == 2 {
			f.flush(t, ctx) // some durable, some possibly held back
		}
	}
	return cs
}

func needPrune(t *testing.T, f *fixture) chunk.PruneStore {
	t.Helper()
	p, ok := f.s.(chunk.PruneStore)
	if !ok {
		t.Skipf("store %s (%T) is not a chunk.PruneStore", f.s, f.s)
	}
	return p
}

func testPrune(t *testing.T, f *fixture) {
	ctx := context.Background()
	p := needPrune(t, f)
	if err := p.Prune(ctx, func(chunk.ID) bool { return false }); err != nil {
		t.Fatalf("Prune of an empty store: %v, want nil", err)
	}
	cs := f.storeSix(t, ctx)
	keep := map[chunk.ID]bool{cs[1].ID(): true, cs[4].ID(): true}
	if err := p.Prune(ctx, func(id chunk.ID) bool { return keep[id] }); err != nil {
		t.Fatalf("Prune: %v, want nil", err)
	}
	for _, c := range cs {
		if keep[c.ID()] {
			f.wantChunk(t, ctx, c.ID(), plainOf(t, c))
		} else {
			f.wantMissing(t, ctx, c.ID())
		}
	}
	f.wantList(t, ctx, cs[1].ID(), cs[4].ID())
	// Keeping everything removes nothing.
	if err := p.Prune(ctx, func(chunk.ID) bool { return true }); err != nil {
		t.Fatalf("Prune keeping everything: %v, want nil", err)
	}
	f.wantChunk(t, ctx, cs[1].ID(), plainOf(t, cs[1]))
	f.wantChunk(t, ctx, cs[4].ID(), plainOf(t, cs[4]))
	f.wantList(t, ctx, cs[1].ID(), cs[4].ID())
}

func testPruneCanceled(t *testing.T, f *fixture) {
	live := context.Background()
	p := needPrune(t, f)
	cs := f.storeSix(t, live)
	ctx, cancel := context.WithCancel(live)
	cancel()
	keep := map[chunk.ID]bool{cs[0].ID(): true, cs[5].ID(): true}
	err := p.Prune(ctx, func(id chunk.ID) bool { return keep[id] })
	wantCanceled(t, "Prune", err)
	for _, c := range cs {
		if keep[c.ID()] {
			f.wantChunk(t, live, c.ID(), plainOf(t, c))
		}
	}
}

func testList(t *testing.T, f *fixture) {
	ctx := context.Background()
	if _, ok := f.s.(storage.Lister); !ok {
		t.Skipf("store %s (%T) is not a storage.Lister", f.s, f.s)
	}
	f.wantList(t, ctx) // empty
	f.needWrite(t)
	var ids []chunk.ID
	for i := range 5 {
		c := f.chunk(100*(i+1), true)
		f.store(t, ctx, c)
		ids = append(ids, c.ID())
	}
	f.wantList(t, ctx, ids...) // including chunks not flushed yet
	f.flush(t, ctx)
	f.wantList(t, ctx, ids...)
	// Stopping early is allowed.
	for range f.s.(storage.Lister).ListChunks(ctx) {
		break
	}
}

func testRemove(t *testing.T, f *fixture) {
	ctx := context.Background()
	r, ok := f.s.(storage.Remover)
	if !ok {
		t.Skipf("store %s (%T) is not a storage.Remover", f.s, f.s)
	}
	absent := f.h.Digest.Sum([]byte("storagetest: never stored"))
	if err := r.RemoveChunk(ctx, absent); err != nil {
		t.Fatalf("RemoveChunk of an absent chunk: %v, want nil", err)
	}
	f.needWrite(t)
	flushed, pending, kept := f.chunk(1000, true), f.chunk(1001, true), f.chunk(1002, true)
	f.store(t, ctx, flushed)
	f.flush(t, ctx)
	f.store(t, ctx, pending) // possibly held back
	f.store(t, ctx, kept)
	for _, c := range []*chunk.Chunk{flushed, pending} {
		if err := r.RemoveChunk(ctx, c.ID()); err != nil {
			t.Fatalf("RemoveChunk(%s): %v, want nil", c.ID(), err)
		}
		f.wantMissing(t, ctx, c.ID())
		if err := r.RemoveChunk(ctx, c.ID()); err != nil {
			t.Fatalf("RemoveChunk(%s) a second time: %v, want nil", c.ID(), err)
		}
	}
	f.flush(t, ctx)
	f.wantMissing(t, ctx, flushed.ID())
	f.wantMissing(t, ctx, pending.ID())
	f.wantChunk(t, ctx, kept.ID(), plainOf(t, kept))
	f.wantList(t, ctx, kept.ID())
	// A removed chunk can be stored again.
	f.store(t, ctx, flushed)
	f.wantChunk(t, ctx, flushed.ID(), plainOf(t, flushed))
}

func testClose(t *testing.T, f *fixture) {
	ctx := context.Background()
	if f.ws != nil {
		f.store(t, ctx, f.chunk(100, false)) // Close must deal with held-back chunks
	}
	f.closed = true
	if err := f.s.Close(); err != nil {
		t.Fatalf("Close: %v, want nil", err)
	}
}
