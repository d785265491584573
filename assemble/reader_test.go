package assemble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/chunker"
	"github.com/folbricht/desync/storage"
)

// genData returns n deterministic pseudo-random bytes; with zeros, a third
// of the runs are zeros, long enough to give null chunks with max 64 KiB.
func genData(n int, seed uint64, zeros bool) []byte {
	rng := rand.New(rand.NewPCG(seed, 0))
	b := make([]byte, 0, n)
	for len(b) < n {
		run := 1 << 10
		if zeros && rng.IntN(3) == 0 {
			run += rng.IntN(400 << 10)
			b = append(b, make([]byte, min(run, n-len(b)))...)
			continue
		}
		run += rng.IntN(300 << 10)
		for range min(run, n-len(b)) {
			b = append(b, byte(rng.Uint32()))
		}
	}
	return b
}

// testStream is generated data, its index and the store holding its chunks.
type testStream struct {
	data  []byte
	ix    *caindex.Index
	store *storage.Local
	null  chunk.ID // the ID of the all-zero chunk of max size
}

// makeStream stores data in a new store in a temporary directory.
func makeStream(t testing.TB, data []byte, params chunker.Params) *testStream {
	t.Helper()
	store, err := storage.NewLocal(t.TempDir(), storage.LocalOptions{MaxChunkSize: int(params.Max)})
	if err != nil {
		t.Fatal(err)
	}
	ix, _, err := Make(context.Background(), bytes.NewReader(data), MakeOptions{Params: params, Digest: chunk.SHA512_256, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	return &testStream{data: data, ix: ix, store: store, null: chunk.SHA512_256.Sum(make([]byte, params.Max))}
}

var testData = sync.OnceValue(func() []byte { return genData(3<<20, 1, true) })

// newStream makes 3 MiB of pseudo-random data with zero runs into a store,
// with chunks of 16 KiB on average (4 KiB to 64 KiB): some 200 chunks, several
// of them the null chunk.
func newStream(t *testing.T) *testStream {
	params, err := chunker.NewParams(0, 16<<10, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := makeStream(t, testData(), params)
	nulls := 0
	for _, c := range s.ix.Chunks {
		if c.ID == s.null {
			nulls++
		}
	}
	if nulls < 3 || len(s.ix.Chunks) < 100 {
		t.Fatalf("stream has %d chunks, %d null: want many", len(s.ix.Chunks), nulls)
	}
	return s
}

// countingStore counts the fetches of the store it wraps, the fetches in
// progress and their maximum. Each fetch first sleeps for delay; with
// blockAll, or for an ID not in free when free is set, it then blocks until
// its context is done. Set the options before use.
type countingStore struct {
	chunk.Store
	delay    time.Duration
	blockAll bool
	free     map[chunk.ID]bool

	mu       sync.Mutex
	calls    map[chunk.ID]int
	total    atomic.Int64
	inFlight atomic.Int64
	maxIn    atomic.Int64
}

func newCounting(s chunk.Store) *countingStore {
	return &countingStore{Store: s, calls: map[chunk.ID]int{}}
}

func (s *countingStore) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for m := s.maxIn.Load(); n > m && !s.maxIn.CompareAndSwap(m, n); m = s.maxIn.Load() {
	}
	s.total.Add(1)
	s.mu.Lock()
	s.calls[id]++
	s.mu.Unlock()
	time.Sleep(s.delay)
	if s.blockAll || s.free != nil && !s.free[id] {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return s.Store.GetChunk(ctx, id)
}

// nonNull returns the first chunk from the i-th on that is not the null chunk.
func (s *testStream) nonNull(i int) caindex.Chunk {
	for s.ix.Chunks[i].ID == s.null {
		i++
	}
	return s.ix.Chunks[i]
}

func (s *countingStore) count(id chunk.ID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

func newReader(t *testing.T, ix *caindex.Index, s chunk.Store, n int) *Reader {
	t.Helper()
	r := NewReader(context.Background(), ix, ReaderOptions{Store: s, Concurrency: n})
	t.Cleanup(func() { r.Close() })
	return r
}

func TestReaderRead(t *testing.T) {
	s := newStream(t)
	nonNull := 0
	for _, c := range s.ix.Chunks {
		if c.ID != s.null {
			nonNull++
		}
	}
	for _, tc := range []struct {
		concurrency, bufSize int
	}{
		{1, 1000},
		{3, 32 << 10},
		{0, 1 << 20},
		{8, 5 << 20},
	} {
		t.Run(fmt.Sprintf("c%d/buf%d", tc.concurrency, tc.bufSize), func(t *testing.T) {
			cs := newCounting(s.store)
			cs.delay = 100 * time.Microsecond
			r := newReader(t, s.ix, cs, tc.concurrency)
			if r.Size() != int64(len(s.data)) {
				t.Fatalf("Size %d, want %d", r.Size(), len(s.data))
			}
			var got []byte
			buf := make([]byte, tc.bufSize)
			for {
				n, err := r.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, s.data) {
				t.Fatal("content differs")
			}
			if n := cs.count(s.null); n != 0 {
				t.Errorf("null chunk fetched %d times", n)
			}
			if n := cs.total.Load(); n != int64(nonNull) {
				t.Errorf("%d fetches for %d non-null chunks", n, nonNull)
			}
			if m, w := cs.maxIn.Load(), int64(workerCount(tc.concurrency)); m > w {
				t.Errorf("%d fetches in flight, concurrency %d", m, w)
			}
		})
	}
}

// TestReaderIOTest runs testing/iotest's checks of Read, ReadAt and Seek over
// casync's vectors (which include null chunks, an empty and a tiny stream).
func TestReaderIOTest(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.index, func(t *testing.T) {
			ix := readIndex(t, v.index)
			want := mustRead(t, filepath.Join("testdata/inputs", v.input))
			r := newReader(t, ix, localStore(t, filepath.Join("testdata", v.store), ix), 2)
			if err := iotest.TestReader(r, want); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestReaderWriteTo(t *testing.T) {
	s := newStream(t)
	r := newReader(t, s.ix, s.store, 3)
	var buf bytes.Buffer
	n, err := io.Copy(&buf, r)
	if err != nil || n != int64(len(s.data)) || !bytes.Equal(buf.Bytes(), s.data) {
		t.Fatalf("io.Copy: %d, %v", n, err)
	}
	// At the end, nothing more.
	if n, err := io.Copy(&buf, r); n != 0 || err != nil {
		t.Fatalf("second io.Copy: %d, %v", n, err)
	}
	// From an offset, the rest.
	for _, off := range []int64{1, int64(s.ix.Chunks[40].Start), int64(len(s.data)) - 1} {
		r.Seek(off, io.SeekStart)
		buf.Reset()
		if n, err := r.WriteTo(&buf); err != nil || !bytes.Equal(buf.Bytes(), s.data[off:]) {
			t.Fatalf("WriteTo from %d: %d, %v", off, n, err)
		}
	}
	// A failing writer: the error, and the bytes written counted.
	r.Seek(0, io.SeekStart)
	boom := errors.New("pipe closed")
	w := &limitedWriter{n: 100000, err: boom}
	if n, err := r.WriteTo(w); !errors.Is(err, boom) || n != 100000 {
		t.Fatalf("failing writer: %d, %v", n, err)
	}
	if off, _ := r.Seek(0, io.SeekCurrent); off != 100000 {
		t.Errorf("offset %d after a failed WriteTo, want 100000", off)
	}
}

// limitedWriter accepts n bytes, then fails with err.
type limitedWriter struct {
	n   int
	err error
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	n := w.n
	w.n = 0
	return n, w.err
}

func TestReaderReadAt(t *testing.T) {
	s := newStream(t)
	size := int64(len(s.data))
	c := s.ix.Chunks[17]
	var null caindex.Chunk
	for _, x := range s.ix.Chunks {
		if x.ID == s.null {
			null = x
			break
		}
	}
	for _, tc := range []struct {
		name    string
		off     int64
		n       int
		wantN   int
		wantErr error // io.EOF, or nil; negative offsets are checked apart
	}{
		{"all", 0, int(size), int(size), nil},
		{"first byte", 0, 1, 1, nil},
		{"chunk start", int64(c.Start), 10, 10, nil},
		{"whole chunk", int64(c.Start), int(c.Size), int(c.Size), nil},
		{"across a boundary", int64(c.End()) - 5, 10, 10, nil},
		{"across many chunks", int64(c.Start) + 3, 300000, 300000, nil},
		{"last byte of a chunk", int64(c.End()) - 1, 1, 1, nil},
		{"null chunk", int64(null.Start), int(null.Size), int(null.Size), nil},
		{"into a null chunk", int64(null.Start) - 7, 100, 100, nil},
		{"last byte", size - 1, 1, 1, nil},
		{"up to the end", size - 5, 5, 5, nil},
		{"past the end", size - 5, 10, 5, io.EOF},
		{"at the end", size, 10, 0, io.EOF},
		{"at the end, empty", size, 0, 0, io.EOF},
		{"beyond the end", size + 1000, 10, 0, io.EOF},
		{"empty", 100, 0, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReader(t, s.ix, s.store, 2)
			p := make([]byte, tc.n)
			n, err := r.ReadAt(p, tc.off)
			if n != tc.wantN || err != tc.wantErr {
				t.Fatalf("ReadAt(%d bytes, %d) = %d, %v; want %d, %v", tc.n, tc.off, n, err, tc.wantN, tc.wantErr)
			}
			if want := s.data[min(tc.off, size):min(tc.off+int64(n), size)]; !bytes.Equal(p[:n], want) {
				t.Fatal("content differs")
			}
		})
	}
	r := newReader(t, s.ix, s.store, 2)
	if n, err := r.ReadAt(make([]byte, 10), -1); err == nil || n != 0 {
		t.Errorf("negative offset: %d, %v", n, err)
	}
	// Many random reads, some of them chunk-aligned.
	rng := rand.New(rand.NewPCG(2, 0))
	for range 500 {
		off := rng.Int64N(size + 100)
		if rng.IntN(4) == 0 {
			off = int64(s.ix.Chunks[rng.IntN(len(s.ix.Chunks))].Start)
		}
		p := make([]byte, rng.IntN(200<<10))
		n, err := r.ReadAt(p, off)
		want := s.data[min(off, size):min(off+int64(len(p)), size)]
		if n != len(want) || !bytes.Equal(p[:n], want) || (n < len(p)) != (err == io.EOF) || err != nil && err != io.EOF {
			t.Fatalf("ReadAt(%d bytes, %d) = %d, %v; want %d bytes", len(p), off, n, err, len(want))
		}
	}
}

// TestReaderReadAtFetches checks that ReadAt fetches only what it needs: one
// chunk for a read inside it, none for a second read of the same chunk, none
// for the null chunk.
func TestReaderReadAtFetches(t *testing.T) {
	s := newStream(t)
	cs := newCounting(s.store)
	r := newReader(t, s.ix, cs, 4)
	c := s.nonNull(30)
	p := make([]byte, c.Size/2)
	for i, off := range []uint64{c.Start, c.Start + c.Size/2} {
		if _, err := r.ReadAt(p, int64(off)); err != nil {
			t.Fatal(err)
		}
		if n := cs.total.Load(); n != 1 {
			t.Fatalf("read %d: %d fetches, want 1", i, n)
		}
	}
	for _, x := range s.ix.Chunks {
		if x.ID == s.null {
			p := make([]byte, x.Size)
			p[0] = 1
			if _, err := r.ReadAt(p, int64(x.Start)); err != nil || !isZero(p) {
				t.Fatalf("null chunk: %v", err)
			}
		}
	}
	if n := cs.total.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
	// Sequential reads fetch ahead by at most Concurrency chunks.
	r = newReader(t, s.ix, cs, 4)
	cs.total.Store(0)
	nonNull := 0
	for i, x := range s.ix.Chunks[:40] {
		if _, err := io.ReadFull(r, make([]byte, x.Size)); err != nil {
			t.Fatal(err)
		}
		if x.ID != s.null {
			nonNull++
		}
		if n := cs.total.Load(); n > int64(i+1+4) {
			t.Fatalf("%d fetches after reading %d chunks with concurrency 4", n, i+1)
		}
	}
	if n := cs.total.Load(); n < int64(nonNull) {
		t.Fatalf("%d fetches for %d non-null chunks read", n, nonNull)
	}
}

func TestReaderSeek(t *testing.T) {
	s := newStream(t)
	size := int64(len(s.data))
	r := newReader(t, s.ix, s.store, 2)
	for _, tc := range []struct {
		name    string
		off     int64
		whence  int
		want    int64
		wantErr bool
	}{
		{"start", 1000, io.SeekStart, 1000, false},
		{"current forward", 500, io.SeekCurrent, 1500, false},
		{"current back", -1499, io.SeekCurrent, 1, false},
		{"current zero", 0, io.SeekCurrent, 1, false},
		{"end", -10, io.SeekEnd, size - 10, false},
		{"end exactly", 0, io.SeekEnd, size, false},
		{"beyond the end", 12345, io.SeekEnd, size + 12345, false},
		{"chunk boundary", int64(s.ix.Chunks[50].Start), io.SeekStart, int64(s.ix.Chunks[50].Start), false},
		{"before the start", -1, io.SeekStart, 0, true},
		{"before the start from the end", -size - 1, io.SeekEnd, 0, true},
		{"bad whence", 0, 7, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := r.Seek(0, io.SeekCurrent)
			got, err := r.Seek(tc.off, tc.whence)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Seek(%d, %d) = %d, no error", tc.off, tc.whence, got)
				}
				if cur, _ := r.Seek(0, io.SeekCurrent); cur != before {
					t.Fatalf("failed seek moved the offset from %d to %d", before, cur)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Seek(%d, %d) = %d, %v; want %d", tc.off, tc.whence, got, err, tc.want)
			}
			p := make([]byte, 100)
			n, err := io.ReadFull(r, p)
			want := s.data[min(got, size):min(got+100, size)]
			if n != len(want) || !bytes.Equal(p[:n], want) {
				t.Fatalf("read %d bytes after the seek (%v), want %d", n, err, len(want))
			}
			if got >= size && err != io.EOF {
				t.Fatalf("read at %d: %v, want io.EOF", got, err)
			}
			r.Seek(got, io.SeekStart)
		})
	}
}

// TestReaderCopyN reads ranges as desync cat -o/-l does: Seek, then io.CopyN.
func TestReaderCopyN(t *testing.T) {
	s := newStream(t)
	size := int64(len(s.data))
	for _, tc := range []struct {
		off, n int64
		err    error
	}{
		{0, 10, nil},
		{12345, 1 << 20, nil},
		{int64(s.ix.Chunks[60].Start), int64(s.ix.Chunks[60].Size), nil},
		{size - 100, 100, nil},
		{size - 100, 1000, io.EOF},
		{size, 1, io.EOF},
		{0, size, nil},
	} {
		t.Run(fmt.Sprintf("%d+%d", tc.off, tc.n), func(t *testing.T) {
			r := newReader(t, s.ix, s.store, 3)
			if _, err := r.Seek(tc.off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			n, err := io.CopyN(&buf, r, tc.n)
			if err != tc.err || !bytes.Equal(buf.Bytes(), s.data[tc.off:min(tc.off+tc.n, size)]) {
				t.Fatalf("CopyN: %d, %v; want %v", n, err, tc.err)
			}
		})
	}
}

// TestReaderConcurrent reads at random offsets from several goroutines while
// another reads sequentially and seeks (run with -race).
func TestReaderConcurrent(t *testing.T) {
	s := newStream(t)
	size := int64(len(s.data))
	cs := newCounting(s.store)
	r := newReader(t, s.ix, cs, 3)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			p := make([]byte, 100<<10)
			for range 60 {
				off := rng.Int64N(size)
				q := p[:rng.IntN(len(p))]
				n, err := r.ReadAt(q, off)
				if want := s.data[off:min(off+int64(len(q)), size)]; !bytes.Equal(q[:n], want) || n < len(q) && err != io.EOF {
					errs <- fmt.Errorf("ReadAt(%d, %d) = %d, %v", len(q), off, n, err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, off := range []int64{0, size / 2, 1000, size - 100000} {
			r.Seek(off, io.SeekStart)
			got, err := io.ReadAll(io.LimitReader(r, 300000))
			if err != nil || !bytes.Equal(got, s.data[off:min(off+300000, size)]) {
				errs <- fmt.Errorf("sequential read at %d: %v", off, err)
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Up to 3 for the read-ahead and 3 for ReadAt.
	if m := cs.maxIn.Load(); m > 2*3 {
		t.Errorf("%d fetches in flight, concurrency 3", m)
	}
}

// damaged returns a store holding a copy of s's chunks, and the chunk at
// index 25 (not null) of s's index.
func damaged(t *testing.T, s *testStream, o storage.LocalOptions) (*storage.Local, caindex.Chunk) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(s.store.String())); err != nil {
		t.Fatal(err)
	}
	st, err := storage.NewLocal(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return st, s.nonNull(25)
}

// TestReaderStoreErrors checks that a failing chunk fails every kind of read
// that needs it, naming the chunk and its offset, and no other read.
func TestReaderStoreErrors(t *testing.T) {
	s := newStream(t)
	z, _ := chunk.NewZstd(chunk.ZstdOptions{})
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) (chunk.Store, caindex.Chunk)
		is    error
		want  string
	}{
		{"missing", func(t *testing.T) (chunk.Store, caindex.Chunk) {
			st, victim := damaged(t, s, storage.LocalOptions{})
			if err := os.Remove(st.Path(victim.ID)); err != nil {
				t.Fatal(err)
			}
			return st, victim
		}, chunk.ErrMissing, "missing"},
		{"wrong size", func(t *testing.T) (chunk.Store, caindex.Chunk) {
			// An unverified store with other, shorter content under the name.
			st, victim := damaged(t, s, storage.LocalOptions{SkipVerify: true})
			b, _ := z.Encode(nil, []byte("short"))
			os.Remove(st.Path(victim.ID))
			os.WriteFile(st.Path(victim.ID), b, 0o444)
			return st, victim
		}, nil, "5 bytes, the index says"},
		{"invalid", func(t *testing.T) (chunk.Store, caindex.Chunk) {
			st, victim := damaged(t, s, storage.LocalOptions{})
			b, _ := z.Encode(nil, []byte("something else"))
			os.Remove(st.Path(victim.ID))
			os.WriteFile(st.Path(victim.ID), b, 0o444)
			return st, victim
		}, nil, "hashes to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, victim := tc.setup(t)
			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s: no error", what)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("%s: %v does not match %v", what, err, tc.is)
				}
				for _, w := range []string{victim.ID.String(), fmt.Sprintf("offset %d", victim.Start), tc.want} {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: error %q does not mention %q", what, err, w)
					}
				}
			}
			// Read: everything before the chunk, then the error.
			r := newReader(t, s.ix, st, 4)
			got, err := io.ReadAll(r)
			check("Read", err)
			if !bytes.Equal(got, s.data[:len(got)]) || uint64(len(got)) > victim.Start {
				t.Errorf("Read returned %d bytes before failing at %d", len(got), victim.Start)
			}
			// A second read tries again, and fails again.
			_, err = r.Read(make([]byte, 10))
			check("Read again", err)
			// WriteTo, from the start.
			r.Seek(0, io.SeekStart)
			var buf bytes.Buffer
			n, err := io.Copy(&buf, r)
			check("WriteTo", err)
			if uint64(n) > victim.Start || !bytes.Equal(buf.Bytes(), s.data[:n]) {
				t.Errorf("WriteTo wrote %d bytes before failing at %d", n, victim.Start)
			}
			// ReadAt across the chunk fails; elsewhere it works.
			p := make([]byte, 100)
			_, err = r.ReadAt(p, int64(victim.Start)-50)
			check("ReadAt", err)
			if _, err := r.ReadAt(p, int64(victim.End())); err != nil || !bytes.Equal(p, s.data[victim.End():victim.End()+100]) {
				t.Errorf("ReadAt after the bad chunk: %v", err)
			}
			// Past the chunk, sequential reads work.
			r.Seek(int64(victim.End()), io.SeekStart)
			if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, s.data[victim.End():]) {
				t.Errorf("Read after the bad chunk: %v", err)
			}
		})
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestReaderStop checks that a cancelled context and Close both end reads
// blocked on a store, fail later reads, and leave no fetch running.
func TestReaderStop(t *testing.T) {
	s := newStream(t)
	for _, tc := range []struct {
		name string
		stop func(context.CancelFunc, *Reader)
		is   error
	}{
		{"cancel", func(cancel context.CancelFunc, r *Reader) { cancel() }, context.Canceled},
		{"close", func(cancel context.CancelFunc, r *Reader) { r.Close() }, fs.ErrClosed},
	} {
		for _, read := range []string{"Read", "WriteTo", "ReadAt"} {
			t.Run(tc.name+"/"+read, func(t *testing.T) {
				goroutines := runtime.NumGoroutine()
				// The first 4 chunks come, every other fetch blocks.
				cs := newCounting(s.store)
				cs.free = map[chunk.ID]bool{}
				for _, c := range s.ix.Chunks[:4] {
					cs.free[c.ID] = true
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				r := NewReader(ctx, s.ix, ReaderOptions{Store: cs, Concurrency: 4})
				// Read the first chunks, so that the read-ahead is blocked.
				if _, err := io.ReadFull(r, make([]byte, s.ix.Chunks[3].End())); err != nil {
					t.Fatal(err)
				}
				waitFor(t, "a blocked read-ahead", func() bool { return cs.inFlight.Load() > 0 })
				far := s.nonNull(60)
				var blocked atomic.Bool
				res := make(chan error, 1)
				go func() {
					var err error
					switch read {
					case "Read":
						blocked.Store(true)
						_, err = io.ReadAll(r)
					case "WriteTo":
						blocked.Store(true)
						_, err = io.Copy(io.Discard, r)
					case "ReadAt":
						_, err = r.ReadAt(make([]byte, 100), int64(far.Start))
					}
					res <- err
				}()
				if read == "ReadAt" {
					waitFor(t, "ReadAt's fetch", func() bool { return cs.count(far.ID) > 0 })
				} else {
					waitFor(t, read, blocked.Load)
					time.Sleep(20 * time.Millisecond) // to get into the wait
				}
				tc.stop(cancel, r)
				select {
				case err := <-res:
					if !errors.Is(err, tc.is) {
						t.Errorf("blocked %s: %v, want %v", read, err, tc.is)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("%s still blocked", read)
				}
				r.Close()
				if n := cs.inFlight.Load(); n != 0 {
					t.Errorf("%d fetches still running after Close", n)
				}
				for _, err := range readAll(r) {
					if !errors.Is(err, tc.is) {
						t.Errorf("read after stop: %v, want %v", err, tc.is)
					}
				}
				if err := r.Close(); err != nil {
					t.Errorf("second Close: %v", err)
				}
				waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= goroutines })
			})
		}
	}
}

// readAll reads r in every way and returns the errors.
func readAll(r *Reader) []error {
	_, e1 := r.Read(make([]byte, 10))
	_, e2 := r.ReadAt(make([]byte, 10), 0)
	_, e3 := r.WriteTo(io.Discard)
	return []error{e1, e2, e3}
}

func TestReaderEmpty(t *testing.T) {
	ix := caindex.New(chunk.SHA512_256, 16<<10, 64<<10, 256<<10)
	r := newReader(t, ix, nil, 0)
	if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read: %d, %v", n, err)
	}
	if n, err := r.ReadAt(make([]byte, 10), 0); n != 0 || err != io.EOF {
		t.Errorf("ReadAt: %d, %v", n, err)
	}
	if n, err := r.WriteTo(io.Discard); n != 0 || err != nil {
		t.Errorf("WriteTo: %d, %v", n, err)
	}
	if r.Size() != 0 {
		t.Errorf("Size %d", r.Size())
	}
}

// BenchmarkReader reads a 64 MiB stream (casync's default chunk sizes) from a
// local store: sequentially with io.Copy (WriteTo and read-ahead), and with
// 128 KiB ReadAt calls in order, as a FUSE mount would.
func BenchmarkReader(b *testing.B) {
	const size = 64 << 20
	s := makeStream(b, genData(size, 3, false), chunker.DefaultParams())
	b.Run("Copy", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			r := NewReader(context.Background(), s.ix, ReaderOptions{Store: s.store})
			if n, err := io.Copy(io.Discard, r); err != nil || n != size {
				b.Fatal(n, err)
			}
			r.Close()
		}
	})
	b.Run("ReadAt128K", func(b *testing.B) {
		b.SetBytes(size)
		p := make([]byte, 128<<10)
		for b.Loop() {
			r := NewReader(context.Background(), s.ix, ReaderOptions{Store: s.store})
			for off := int64(0); off < size; off += int64(len(p)) {
				if _, err := r.ReadAt(p, off); err != nil && err != io.EOF {
					b.Fatal(err)
				}
			}
			r.Close()
		}
	})
}
