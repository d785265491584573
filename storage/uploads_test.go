package storage_test

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

// gateDriver is a MemDriver whose Puts wait until the gate opens (or their
// context ends), and which records the most bytes its Puts held at once.
type gateDriver struct {
	*storagetest.MemDriver
	gate    chan struct{} // closed: Puts go through
	entered chan struct{} // one value per Put that started waiting

	mu       sync.Mutex
	inFlight int64
	maxBytes int64
}

func newGateDriver(name string) *gateDriver {
	return &gateDriver{MemDriver: storagetest.NewMemDriver(name), gate: make(chan struct{}), entered: make(chan struct{}, 1<<16)}
}

func (d *gateDriver) open() { close(d.gate) }

func (d *gateDriver) Put(ctx context.Context, name string, data []byte) error {
	d.mu.Lock()
	d.inFlight += int64(len(data))
	d.maxBytes = max(d.maxBytes, d.inFlight)
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.inFlight -= int64(len(data))
		d.mu.Unlock()
	}()
	d.entered <- struct{}{}
	select {
	case <-d.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return d.MemDriver.Put(ctx, name, data)
}

func (d *gateDriver) max() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.maxBytes
}

// newQueue returns an upload queue over Retry(ObjectStore(d)), as the CLI
// composes it, closed when the test ends.
func newQueue(t *testing.T, ctx context.Context, d storage.ObjectDriver, o storage.UploadOptions) *storage.Uploads {
	t.Helper()
	s, err := storage.NewObjectStore(d, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := storage.NewRetry(s, storage.RetryOptions{Attempts: 3})
	u := storage.NewUploads(ctx, r, o)
	t.Cleanup(func() { u.Close() })
	return u
}

// testChunks returns n chunks of about size bytes, half compressible.
func upChunks(seed uint64, n, size int) []*chunk.Chunk {
	r := rand.New(rand.NewPCG(seed, 1))
	var cs []*chunk.Chunk
	for i := range n {
		b := make([]byte, size/2+r.IntN(size))
		for j := range b {
			b[j] = byte(r.Uint32())
			if i%2 == 0 && j%64 >= 8 {
				b[j] = byte(j)
			}
		}
		cs = append(cs, chunk.New(chunk.SHA512_256.Sum(b), b))
	}
	return cs
}

func storeAll(t *testing.T, u *storage.Uploads, cs []*chunk.Chunk) {
	t.Helper()
	for _, c := range cs {
		if err := u.StoreChunk(context.Background(), c); err != nil {
			t.Fatalf("StoreChunk(%s): %v", c.ID(), err)
		}
	}
}

// TestUploadsConformance runs the chunk store suite over the queue.
func TestUploadsConformance(t *testing.T) {
	zstd, err := chunk.NewZstd(chunk.ZstdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    storage.UploadOptions
	}{
		{"Default", storage.UploadOptions{}},
		{"OneUploaderSmallBound", storage.UploadOptions{Uploaders: 1, MaxBytes: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Run(t, storagetest.Harness{
				New: func(t *testing.T) chunk.Store {
					return newQueue(t, context.Background(), storagetest.NewMemDriver(t.Name()), tc.o)
				},
				Converter: zstd,
				Corrupt: func(t *testing.T, s chunk.Store, id chunk.ID, b []byte) {
					u := s.(*storage.Uploads)
					if err := u.Flush(context.Background()); err != nil {
						t.Fatal(err)
					}
					os, _ := storage.As[*storage.ObjectStore](u)
					os.Driver().(*storagetest.MemDriver).SetObject(os.Name(id), b)
				},
			})
		})
	}
}

// TestUploadsFlushWaits: when Flush returns, the driver holds every chunk.
func TestUploadsFlushWaits(t *testing.T) {
	for _, uploaders := range []int{1, 4} {
		d := newGateDriver("flush")
		u := newQueue(t, context.Background(), d, storage.UploadOptions{Uploaders: uploaders})
		cs := upChunks(1, 40, 8<<10)
		storeAll(t, u, cs)
		for range uploaders {
			<-d.entered // every uploader is held at the gate
		}
		go d.open()
		if err := u.Flush(context.Background()); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		if n := d.Calls(storagetest.OpStore); n != len(cs) {
			t.Errorf("%d uploaders: %d Puts done when Flush returned, want %d", uploaders, n, len(cs))
		}
		for _, c := range cs {
			if _, ok := d.Object(storage.ChunkLayout{Suffix: storage.SuffixCompressed}.Name(c.ID())); !ok {
				t.Fatalf("%d uploaders: chunk %s not in the driver after Flush", uploaders, c.ID())
			}
		}
	}
}

// TestUploadsBound: the bytes held never exceed the bound, as the queue
// counts them and as the driver sees them; the bound is used.
func TestUploadsBound(t *testing.T) {
	for _, tc := range []struct {
		name      string
		maxBytes  int64
		uploaders int
		size      int
	}{
		{"SmallChunks", 64 << 10, 4, 8 << 10},
		{"LargeChunks", 1 << 20, 2, 128 << 10},
		{"ChunkOverBound", 16 << 10, 2, 64 << 10}, // one at a time, no deadlock
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newGateDriver(tc.name)
			u := newQueue(t, context.Background(), d, storage.UploadOptions{Uploaders: tc.uploaders, MaxBytes: tc.maxBytes})
			cs := upChunks(2, 60, tc.size)
			done := make(chan struct{})
			go func() {
				defer close(done)
				storeAll(t, u, cs)
			}()
			<-d.entered // the queue fills while the Puts wait
			if tc.name != "ChunkOverBound" {
				deadline := time.Now().Add(20 * time.Second)
				for u.Stats().MaxBytes < tc.maxBytes/2 {
					if time.Now().After(deadline) {
						t.Fatalf("the queue holds %d bytes, never near its bound %d", u.Stats().MaxBytes, tc.maxBytes)
					}
					time.Sleep(time.Millisecond)
				}
			}
			d.open()
			<-done
			if err := u.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			st := u.Stats()
			limit := tc.maxBytes
			if tc.name == "ChunkOverBound" {
				limit = storage.MaxStoredSize(int64(2 * tc.size)) // one chunk at a time, whatever its size
			}
			if st.MaxBytes > limit || d.max() > limit {
				t.Errorf("held at most %d bytes (queue) and %d (driver), bound %d", st.MaxBytes, d.max(), limit)
			}
			if st.Uploaded != len(cs) || d.Calls(storagetest.OpStore) != len(cs) {
				t.Errorf("uploaded %d, driver Puts %d, want %d", st.Uploaded, d.Calls(storagetest.OpStore), len(cs))
			}
		})
	}
}

// TestUploadsFailure: a failed upload (after the retries) is reported by
// Flush and the next StoreChunk, naming chunk and store, and stops the
// uploads.
func TestUploadsFailure(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fault     storagetest.Fault
		wantErr   bool
		wantPuts  int
		wantInErr string
	}{
		{"Permanent", storagetest.Fault{Ops: storagetest.OpStore, Times: 1, Kind: storage.KindPermanent}, true, 1, "injected fault"},
		{"TransientRetried", storagetest.Fault{Ops: storagetest.OpStore, Times: 2, Kind: storage.KindTransient}, false, 5 + 2, ""},
		{"TransientExhausted", storagetest.Fault{Ops: storagetest.OpStore, Times: 3, Kind: storage.KindTransient}, true, 3, "after 3 attempts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newGateDriver(tc.name)
			s, err := storage.NewObjectStore(d, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			u := storage.NewUploads(context.Background(), storage.NewRetry(s, storage.RetryOptions{Attempts: 3, BaseInterval: 1}), storage.UploadOptions{Uploaders: 1})
			defer u.Close()
			d.Inject(tc.fault)
			cs := upChunks(3, 5, 4<<10)
			storeAll(t, u, cs) // all queued while the first Put waits at the gate
			d.open()
			err = u.Flush(context.Background())
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Flush: %v, want nil", err)
				}
			} else {
				var ce *storage.ChunkError
				switch {
				case err == nil:
					t.Fatal("Flush: nil, want the failed upload")
				case !errors.As(err, &ce) || ce.ID != cs[0].ID():
					t.Fatalf("Flush: %v, want a *ChunkError naming chunk %s", err, cs[0].ID())
				case !strings.Contains(err.Error(), cs[0].ID().String()) || !strings.Contains(err.Error(), d.String()) ||
					!strings.Contains(err.Error(), tc.wantInErr):
					t.Fatalf("Flush: %q, want the chunk %s, the store %s and %q named", err, cs[0].ID(), d, tc.wantInErr)
				}
				more := upChunks(4, 1, 100)[0]
				if err2 := u.StoreChunk(context.Background(), more); err2 == nil || !strings.Contains(err2.Error(), cs[0].ID().String()) {
					t.Fatalf("StoreChunk after the failure: %v, want the failure", err2)
				}
				if err2 := u.Close(); err2 == nil {
					t.Fatal("Close after the failure: nil, want the failure")
				}
			}
			if n := d.Calls(storagetest.OpStore); n != tc.wantPuts {
				t.Errorf("%d Puts, want %d (none started after a failure)", n, tc.wantPuts)
			}
		})
	}
}

// TestUploadsPending: a queued chunk is answered from the queue, and is
// queued once.
func TestUploadsPending(t *testing.T) {
	d := newGateDriver("pending")
	u := newQueue(t, context.Background(), d, storage.UploadOptions{Uploaders: 2})
	cs := upChunks(5, 3, 20<<10)
	for range 3 {
		storeAll(t, u, cs) // the same chunks, again and again
	}
	// The caller reuses its buffer.
	want, _ := cs[0].Plain()
	want = bytes.Clone(want)
	p, _ := cs[0].Plain()
	for i := range p {
		p[i] = ^p[i]
	}
	ctx := context.Background()
	for i, c := range cs {
		if ok, err := u.HasChunk(ctx, c.ID()); !ok || err != nil {
			t.Fatalf("HasChunk(%s) of a queued chunk = %v, %v; want true", c.ID(), ok, err)
		}
		got, err := u.GetChunk(ctx, c.ID())
		if err != nil {
			t.Fatalf("GetChunk(%s) of a queued chunk: %v", c.ID(), err)
		}
		b, _ := got.Plain()
		exp, _ := c.Plain()
		if i == 0 {
			exp = want
		}
		if !bytes.Equal(b, exp) {
			t.Fatalf("GetChunk(%s) of a queued chunk: wrong content", c.ID())
		}
	}
	if d.Calls(storagetest.OpHas) != 0 || d.Calls(storagetest.OpGet) != 0 {
		t.Errorf("the driver was asked (%d Exists, %d Get), want queued chunks answered by the queue", d.Calls(storagetest.OpHas), d.Calls(storagetest.OpGet))
	}
	d.open()
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := d.Calls(storagetest.OpStore); n != len(cs) {
		t.Errorf("%d Puts for %d distinct chunks stored 3 times each, want %d", n, len(cs), len(cs))
	}
	stored, _ := d.Object(storage.ChunkLayout{Suffix: storage.SuffixCompressed}.Name(cs[0].ID()))
	if c, err := chunk.Load(cs[0].ID(), stored, mustZstd(t), chunk.SHA512_256, true); err != nil {
		t.Fatalf("the uploaded chunk does not verify (the caller's reused buffer leaked in?): %v", err)
	} else if b, _ := c.Plain(); !bytes.Equal(b, want) {
		t.Fatal("the uploaded chunk differs")
	}
}

func mustZstd(t *testing.T) chunk.Converter {
	z, err := chunk.NewZstd(chunk.ZstdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestUploadsCanceled: cancelling stops the uploaders; nothing hangs.
func TestUploadsCanceled(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, u *storage.Uploads, cancel context.CancelFunc, cs []*chunk.Chunk)
	}{
		{"QueueContext", func(t *testing.T, u *storage.Uploads, cancel context.CancelFunc, cs []*chunk.Chunk) {
			cancel()
			if err := u.Flush(context.Background()); !errors.Is(err, context.Canceled) {
				t.Errorf("Flush after cancel: %v, want context.Canceled", err)
			}
			if err := u.StoreChunk(context.Background(), upChunks(9, 1, 10)[0]); err == nil {
				t.Error("StoreChunk after cancel: nil, want an error")
			}
		}},
		{"BlockedStoreChunk", func(t *testing.T, u *storage.Uploads, cancel context.CancelFunc, cs []*chunk.Chunk) {
			ctx, stop := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { // the queue is full: this one waits for room
				errc <- u.StoreChunk(ctx, upChunks(8, 2, 2<<20)[1]) // random, over the bound
			}()
			stop()
			if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("StoreChunk cancelled while waiting: %v, want nil or context.Canceled", err)
			}
		}},
		{"FlushContext", func(t *testing.T, u *storage.Uploads, cancel context.CancelFunc, cs []*chunk.Chunk) {
			ctx, stop := context.WithCancel(context.Background())
			stop()
			if err := u.Flush(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("Flush with a cancelled context and uploads blocked: %v, want context.Canceled", err)
			}
			cancel()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newGateDriver(tc.name) // never opened: Puts wait for their context
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, err := storage.NewObjectStore(d, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			u := storage.NewUploads(ctx, s, storage.UploadOptions{Uploaders: 2, MaxBytes: 1 << 20})
			cs := upChunks(7, 4, 8<<10)
			storeAll(t, u, cs)
			<-d.entered
			tc.run(t, u, cancel, cs)
			cancel()
			if err := u.Close(); !errors.Is(err, context.Canceled) {
				t.Errorf("Close after cancel with uploads not done: %v, want context.Canceled", err)
			}
		})
	}
}

// slowDriver is a MemDriver whose Exists and Put take a fixed time, as a
// remote store's round trip does.
type slowDriver struct {
	*storagetest.MemDriver
	rtt time.Duration
}

func (d *slowDriver) Exists(ctx context.Context, name string) (bool, error) {
	time.Sleep(d.rtt)
	return d.MemDriver.Exists(ctx, name)
}

func (d *slowDriver) Put(ctx context.Context, name string, data []byte) error {
	time.Sleep(d.rtt)
	return d.MemDriver.Put(ctx, name, data)
}

func (d *slowDriver) List(ctx context.Context, prefix string) iter.Seq2[string, error] {
	time.Sleep(d.rtt)
	return d.MemDriver.List(ctx, prefix)
}

// BenchmarkUploadsLatency: 2 workers (make's -n 2) store chunks, asking
// HasChunk first as make does, into an empty store with a 1 ms round
// trip: directly, through the queue with 8 uploaders asking per chunk
// (list-before-write off), or through the queue after listing the store.
// One op is one chunk.
func BenchmarkUploadsLatency(b *testing.B) {
	cs := upChunks(11, 256, 16<<10)
	for _, tc := range []struct {
		name         string
		queued, list bool
	}{{"Direct", false, false}, {"Queue8", true, false}, {"Queue8Listed", true, true}} {
		queued, name := tc.queued, tc.name
		b.Run(name, func(b *testing.B) {
			d := &slowDriver{MemDriver: storagetest.NewMemDriver(name), rtt: time.Millisecond}
			o := storage.Options{ListBeforeWrite: -1}
			if tc.list {
				o.ListBeforeWrite = 0
			}
			os, err := storage.NewObjectStore(d, o)
			if err != nil {
				b.Fatal(err)
			}
			var s chunk.WriteStore = os
			var u *storage.Uploads
			if queued {
				u = storage.NewUploads(context.Background(), os, storage.UploadOptions{Uploaders: 8})
				s = u
			}
			ctx := context.Background()
			var next sync.Mutex
			i := 0
			var wg sync.WaitGroup
			b.ResetTimer()
			for range 2 {
				wg.Go(func() {
					for {
						next.Lock()
						if i >= b.N {
							next.Unlock()
							return
						}
						c := cs[i%len(cs)]
						plain, _ := c.Plain()
						// A distinct chunk per op: vary the ID, keep the data.
						id := c.ID()
						id[0], id[1], id[2] = byte(i), byte(i>>8), byte(i>>16)
						i++
						next.Unlock()
						if ok, err := s.HasChunk(ctx, id); err != nil || ok {
							b.Error(ok, err)
							return
						}
						if err := s.StoreChunk(ctx, chunk.New(id, plain)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			if u != nil {
				if err := u.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
