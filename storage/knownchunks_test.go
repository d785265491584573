package storage_test

import (
	"context"
	"errors"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

// writeQueue returns an upload queue over Retry(ObjectStore(d)) with store
// options o, as make opens a remote store, closed when the test ends.
func writeQueue(t *testing.T, d storage.ObjectDriver, o storage.Options) *storage.Uploads {
	t.Helper()
	s, err := storage.NewObjectStore(d, o)
	if err != nil {
		t.Fatal(err)
	}
	// HasChunk waits for the listing as long as it takes, so that the
	// requests counted do not depend on timing.
	u := storage.NewUploads(context.Background(), storage.NewRetry(s, storage.RetryOptions{Attempts: 3}), storage.UploadOptions{ListWait: -1})
	t.Cleanup(func() { u.Close() })
	return u
}

// makeInto does what make's workers do with each chunk (ask, store if
// missing), on 4 goroutines, then flushes; it returns how many chunks
// HasChunk said were in the store.
func makeInto(t *testing.T, u *storage.Uploads, cs []*chunk.Chunk) int {
	t.Helper()
	ctx := context.Background()
	var (
		mu    sync.Mutex
		found int
		errs  []error
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(cs); i += 4 {
				has, err := u.HasChunk(ctx, cs[i].ID())
				if err == nil && !has {
					err = u.StoreChunk(ctx, cs[i])
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				if has {
					found++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return found
}

// wantStored fails unless every chunk of cs is in d, decodable.
func wantStored(t *testing.T, d storage.ObjectDriver, cs []*chunk.Chunk) {
	t.Helper()
	s, err := storage.NewObjectStore(d, storage.Options{ListBeforeWrite: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if _, err := s.GetChunk(context.Background(), c.ID()); err != nil {
			t.Errorf("chunk %s not stored: %v", c.ID(), err)
		}
	}
}

// prestore puts cs into d as another writer would.
func prestore(t *testing.T, d storage.ObjectDriver, cs []*chunk.Chunk) {
	t.Helper()
	s, err := storage.NewObjectStore(d, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if err := s.StoreChunk(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
}

// calls counts a MemDriver's requests from a starting point.
type calls struct {
	d                 *storagetest.MemDriver
	has, store, lists int
}

func countFrom(d *storagetest.MemDriver) calls {
	return calls{d: d, has: d.Calls(storagetest.OpHas), store: d.Calls(storagetest.OpStore), lists: d.Calls(storagetest.OpList)}
}

func (c calls) since() (has, store, lists int) {
	return c.d.Calls(storagetest.OpHas) - c.has, c.d.Calls(storagetest.OpStore) - c.store, c.d.Calls(storagetest.OpList) - c.lists
}

func TestListBeforeWriteEmptyStore(t *testing.T) {
	d := storagetest.NewMemDriver("empty")
	cs := upChunks(1, 60, 2000)
	u := writeQueue(t, d, storage.Options{})
	n := countFrom(d)
	if found := makeInto(t, u, cs); found != 0 {
		t.Errorf("HasChunk found %d chunks in an empty store", found)
	}
	has, store, lists := n.since()
	if has != 0 || store != len(cs) || lists != 1 {
		t.Errorf("make into an empty store: %d HEADs, %d PUTs, %d listings; want 0, %d, 1", has, store, lists, len(cs))
	}
	if !u.Stats().Listed {
		t.Error("Stats().Listed = false after a complete listing")
	}
	wantStored(t, d, cs)
	// The chunks uploaded are known: asked again, they are not stored again.
	if found := makeInto(t, u, cs); found != len(cs) {
		t.Errorf("second make found %d of %d chunks just uploaded", found, len(cs))
	}
	if has, store, _ := n.since(); has != 0 || store != len(cs) {
		t.Errorf("second make: %d HEADs, %d PUTs in all; want 0, %d", has, store, len(cs))
	}
}

func TestListBeforeWriteHalfStored(t *testing.T) {
	d := storagetest.NewMemDriver("half")
	cs := upChunks(2, 60, 2000)
	prestore(t, d, cs[:30])
	d.SetObject("index/some.caibx", []byte("not a chunk")) // not a chunk's name: ignored
	u := writeQueue(t, d, storage.Options{})
	n := countFrom(d)
	if found := makeInto(t, u, cs); found != 30 {
		t.Errorf("HasChunk found %d chunks, want the 30 stored", found)
	}
	if has, store, lists := n.since(); has != 0 || store != 30 || lists != 1 {
		t.Errorf("make into a half-full store: %d HEADs, %d PUTs, %d listings; want 0, 30, 1", has, store, lists)
	}
	wantStored(t, d, cs)
}

func TestListBeforeWriteLargeStore(t *testing.T) {
	d := storagetest.NewMemDriver("large")
	cs := upChunks(3, 40, 2000)
	prestore(t, d, cs[:20])
	u := writeQueue(t, d, storage.Options{ListBeforeWrite: 19}) // one object more than the bound
	n := countFrom(d)
	if found := makeInto(t, u, cs); found != 20 {
		t.Errorf("HasChunk found %d chunks, want the 20 stored", found)
	}
	if has, store, lists := n.since(); has != len(cs) || store != 20 || lists != 1 {
		t.Errorf("make into a store past the bound: %d HEADs, %d PUTs, %d listings; want %d, 20, 1", has, store, lists, len(cs))
	}
	if u.Stats().Listed {
		t.Error("Stats().Listed = true after a listing past its bound")
	}
	wantStored(t, d, cs)

	// At the bound exactly, the listing is complete.
	d2 := storagetest.NewMemDriver("atbound")
	prestore(t, d2, cs[:20])
	u2 := writeQueue(t, d2, storage.Options{ListBeforeWrite: 20})
	n2 := countFrom(d2)
	makeInto(t, u2, cs)
	if has, store, _ := n2.since(); has != 0 || store != 20 {
		t.Errorf("make into a store at the bound: %d HEADs, %d PUTs; want 0, 20", has, store)
	}
}

func TestListBeforeWriteOff(t *testing.T) {
	d := storagetest.NewMemDriver("off")
	cs := upChunks(4, 20, 2000)
	u := writeQueue(t, d, storage.Options{ListBeforeWrite: -1})
	n := countFrom(d)
	makeInto(t, u, cs)
	if has, store, lists := n.since(); has != len(cs) || store != len(cs) || lists != 0 {
		t.Errorf("make with list-before-write off: %d HEADs, %d PUTs, %d listings; want %d, %d, 0", has, store, lists, len(cs), len(cs))
	}
}

func TestListBeforeWriteListingFails(t *testing.T) {
	for _, kind := range []storage.ErrorKind{storage.KindTransient, storage.KindPermanent, storage.KindUnknown} {
		t.Run(kind.String(), func(t *testing.T) {
			d := storagetest.NewMemDriver("failing")
			cs := upChunks(5, 30, 2000)
			prestore(t, d, cs[:10])
			d.Inject(storagetest.Fault{Ops: storagetest.OpList, Times: 1, Kind: kind})
			u := writeQueue(t, d, storage.Options{})
			n := countFrom(d)
			if found := makeInto(t, u, cs); found != 10 {
				t.Errorf("HasChunk found %d chunks, want the 10 stored", found)
			}
			if has, store, lists := n.since(); has != len(cs) || store != 20 || lists != 1 {
				t.Errorf("make after a failed listing: %d HEADs, %d PUTs, %d listings; want %d, 20, 1", has, store, lists, len(cs))
			}
			wantStored(t, d, cs)
		})
	}
	// A store that does not exist yet (a directory to be created by the
	// first upload) lists as empty.
	t.Run("missing", func(t *testing.T) {
		d := storagetest.NewMemDriver("new")
		cs := upChunks(6, 10, 2000)
		d.Inject(storagetest.Fault{Ops: storagetest.OpList, Times: 1, Kind: storage.KindMissing})
		u := writeQueue(t, d, storage.Options{})
		n := countFrom(d)
		makeInto(t, u, cs)
		if has, store, _ := n.since(); has != 0 || store != len(cs) {
			t.Errorf("make into a store that does not exist: %d HEADs, %d PUTs; want 0, %d", has, store, len(cs))
		}
		wantStored(t, d, cs)
	})
}

// noList is a MemDriver that cannot list, as an HTTP store.
type noList struct{ *storagetest.MemDriver }

func (noList) List(context.Context, string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) { yield("", errors.ErrUnsupported) }
}

func TestListBeforeWriteUnsupported(t *testing.T) {
	d := storagetest.NewMemDriver("nolist")
	cs := upChunks(7, 20, 2000)
	u := writeQueue(t, noList{d}, storage.Options{})
	n := countFrom(d)
	makeInto(t, u, cs)
	if has, store, _ := n.since(); has != len(cs) || store != len(cs) {
		t.Errorf("make into a store that cannot list: %d HEADs, %d PUTs; want %d, %d", has, store, len(cs), len(cs))
	}
	wantStored(t, d, cs)
}

// TestListBeforeWriteConcurrentWriter: chunks another writer stores
// after the listing are uploaded again (the same bytes), chunks it removes
// after the listing are the one case the listing cannot see, as a HEAD
// answered before the removal cannot; neither ever leaves a chunk asked
// for and not stored once nothing removes it.
func TestListBeforeWriteConcurrentWriter(t *testing.T) {
	d := storagetest.NewMemDriver("shared")
	cs := upChunks(8, 40, 2000)
	prestore(t, d, cs[:10])
	u := writeQueue(t, d, storage.Options{})
	ctx := context.Background()
	if has, err := u.HasChunk(ctx, cs[0].ID()); err != nil || !has { // the listing is made here
		t.Fatalf("HasChunk of a stored chunk: %v, %v", has, err)
	}
	prestore(t, d, cs[10:20]) // the other writer, after the listing
	n := countFrom(d)
	makeInto(t, u, cs)
	if has, store, _ := n.since(); has != 0 || store != 30 {
		t.Errorf("make beside another writer: %d HEADs, %d PUTs; want 0, 30 (those stored by the other writer again)", has, store)
	}
	wantStored(t, d, cs)
}

// TestListBeforeWriteNeverSkipsMissing is the safety property: whatever
// the store holds, and whatever the listing's bound, HasChunk is true
// only for a chunk the store has, and after a make every chunk is there.
func TestListBeforeWriteNeverSkipsMissing(t *testing.T) {
	cs := upChunks(9, 50, 1500)
	for _, held := range []int{0, 1, 25, 49, 50} {
		for _, bound := range []int{-1, 0, 10, 60} {
			d := storagetest.NewMemDriver("safety")
			prestore(t, d, cs[:held])
			u := writeQueue(t, d, storage.Options{ListBeforeWrite: bound})
			plain, _ := storage.NewObjectStore(d, storage.Options{ListBeforeWrite: -1})
			for _, c := range cs {
				has, err := u.HasChunk(context.Background(), c.ID())
				if err != nil {
					t.Fatal(err)
				}
				there, _ := plain.HasChunk(context.Background(), c.ID())
				if has && !there {
					t.Fatalf("held %d, bound %d: HasChunk(%s) = true for a chunk the store lacks", held, bound, c.ID())
				}
			}
			makeInto(t, u, cs)
			wantStored(t, d, cs)
		}
	}
}

// TestReadsDoNotList: a store only read (extract) never lists, whatever
// its option says.
func TestReadsDoNotList(t *testing.T) {
	d := storagetest.NewMemDriver("read")
	cs := upChunks(10, 5, 1000)
	prestore(t, d, cs)
	st, err := storage.NewObjectStore(d, storage.Options{ListBeforeWrite: 100})
	if err != nil {
		t.Fatal(err)
	}
	r := storage.NewDedup(storage.NewRetry(st, storage.RetryOptions{Attempts: 3}))
	for _, c := range cs {
		if has, err := r.HasChunk(context.Background(), c.ID()); err != nil || !has {
			t.Fatalf("HasChunk: %v, %v", has, err)
		}
		if _, err := r.GetChunk(context.Background(), c.ID()); err != nil {
			t.Fatal(err)
		}
	}
	if n := d.Calls(storagetest.OpList); n != 0 {
		t.Errorf("reads listed the store %d times, want 0", n)
	}
}

func TestListBeforeWriteOption(t *testing.T) {
	for _, tc := range []struct {
		json string
		want int
		bad  bool
	}{
		{`{}`, 0, false},
		{`{"list-before-write": true}`, 0, false},
		{`{"list-before-write": false}`, -1, false},
		{`{"list-before-write": 500}`, 500, false},
		{`{"list-before-write": 0}`, -1, false},
		{`{"list-before-write": 1.5}`, 0, true},
		{`{"list-before-write": "yes"}`, 0, true},
	} {
		var o storage.Options
		err := o.UnmarshalJSON([]byte(tc.json))
		switch {
		case tc.bad && err == nil:
			t.Errorf("%s: no error", tc.json)
		case !tc.bad && err != nil:
			t.Errorf("%s: %v", tc.json, err)
		case !tc.bad && o.ListBeforeWrite != tc.want:
			t.Errorf("%s: ListBeforeWrite %d, want %d", tc.json, o.ListBeforeWrite, tc.want)
		}
	}
}

// slowList is a MemDriver whose listing waits until release is closed.
type slowList struct {
	*storagetest.MemDriver
	release chan struct{}
}

func (d slowList) List(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		<-d.release
		for name, err := range d.MemDriver.List(ctx, prefix) {
			if !yield(name, err) {
				return
			}
		}
	}
}

// TestListWait: while a slow listing runs past ListWait, HasChunk asks
// the store (and answers right); once the listing is complete, it answers
// from it.
func TestListWait(t *testing.T) {
	d := storagetest.NewMemDriver("slow")
	cs := upChunks(11, 10, 1000)
	prestore(t, d, cs[:5])
	sl := slowList{d, make(chan struct{})}
	s, err := storage.NewObjectStore(sl, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u := storage.NewUploads(context.Background(), s, storage.UploadOptions{ListWait: time.Millisecond})
	defer u.Close()
	ctx := context.Background()
	n := countFrom(d)
	for i, c := range cs {
		has, err := u.HasChunk(ctx, c.ID())
		if err != nil || has != (i < 5) {
			t.Fatalf("HasChunk of chunk %d while listing: %v, %v; want %v", i, has, err, i < 5)
		}
	}
	if has, _, _ := n.since(); has != len(cs) {
		t.Errorf("%d HEADs while listing, want %d", has, len(cs))
	}
	close(sl.release)
	for !u.Stats().Listed {
		time.Sleep(time.Millisecond) // until the listing is over
	}
	n = countFrom(d)
	for i, c := range cs {
		has, err := u.HasChunk(ctx, c.ID())
		if err != nil || has != (i < 5) {
			t.Fatalf("HasChunk of chunk %d after listing: %v, %v; want %v", i, has, err, i < 5)
		}
	}
	if has, _, _ := n.since(); has != 0 {
		t.Errorf("%d HEADs after the listing, want 0", has)
	}
}
