package fuse

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
)

// Defaults of BlobOptions.
const (
	DefaultReadAhead    = 2 << 20 // bytes fetched ahead of a sequential reader
	DefaultConcurrency  = 8       // parallel fetches
	DefaultChunkTimeout = 2 * time.Minute
)

// BlobOptions configure a [Blob].
type BlobOptions struct {
	// Store supplies the chunks (the CLI's store chain: router, failover,
	// cache, retries). [Blob.SetStore] replaces it while reads go on.
	Store chunk.Store
	// ReadAhead is how many bytes of chunks a sequential reader gets
	// fetched ahead of it; the window starts at one chunk and doubles with
	// every sequential read, up to this, or up to two chunks of the index's
	// average size per Concurrency if that is more (so that every fetch
	// slot has work with a slow store). 0 means DefaultReadAhead; a
	// negative value turns read-ahead off. Larger is not faster from a
	// local store: the chunks ahead fall out of the CPU's caches.
	ReadAhead int64
	// Concurrency is the number of read-ahead fetches in flight at once;
	// 0 means DefaultConcurrency. Chunks a read waits for are fetched at
	// once, outside this limit (there are at most as many as the kernel
	// has reads in flight).
	Concurrency int
	// ChunkTimeout bounds one chunk fetch (retries of the store included),
	// so that a hanging store turns into an error for the reader rather
	// than a hang; 0 means DefaultChunkTimeout.
	ChunkTimeout time.Duration
	// COR, if not nil, is a copy-on-read file: chunks fetched are written
	// into it and read from it later instead of the store.
	COR *CORFile
	// Logger gets the failed fetches (chunk ID, offset, error); nil
	// discards them.
	Logger *slog.Logger
}

// Blob is random access to the stream an index describes, made for a FUSE
// file: ReadAt is safe for concurrent use, fetches the chunks a read covers
// in parallel, and keeps a bounded cache of chunks that serves the reads
// of a chunk the kernel splits into pages, and the read-ahead of
// sequential readers. Memory is bounded by about twice the read-ahead plus
// the chunks of the reads in flight, whatever the stream's length.
//
// A chunk that cannot be fetched fails the reads that need it (and only
// those) with an error naming the chunk and its offset, which is also
// logged; a later read tries it again.
type Blob struct {
	ix      *caindex.Index
	size    int64
	ahead   int64
	timeout time.Duration
	cor     *CORFile
	log     *slog.Logger
	zero    chunk.ID // the all-zero chunk of the index's max size
	zeros   func() []byte

	ctx      context.Context
	cancel   context.CancelFunc
	slots    chan struct{} // read-ahead fetches in flight
	hashDone func()
	stores   *storeRef

	mu      sync.Mutex
	cache   map[int]*entry
	bytes   int64 // sum of the sizes of the chunks in cache
	nread   int   // chunks in cache that a read used
	capa    int64 // the cache's limit in bytes
	tick    uint64
	lastEnd int64 // end of the chunks of the sequential reads so far
	window  int64 // current read-ahead in bytes
	fetches sync.WaitGroup
}

// seqSlack is how far from where the reads so far ended a read may start
// and still count as sequential: more than the kernel has in flight.
const seqSlack = 4 << 20

// keepRead is how many chunks that reads used the cache keeps: enough for
// the pieces of a chunk that several kernel requests cover, and for a few
// readers at once.
const keepRead = 16

// entry is a cached chunk, fetched or being fetched. data, ch and err are
// set before done is closed.
//
// data is the plain content of ch, in a buffer the chunk package pools,
// given back (ch.Release) when nothing holds the entry any more: the cache
// holds one reference while it lists the entry, and each read one while it
// copies from it (refs, guarded by Blob.mu). With chunks already read
// dropped early (keepRead), a sequential read cycles through a few
// buffers, warm in the CPU's caches, rather than leaving one per chunk to
// the garbage collector: about half the CPU.
type entry struct {
	i    int
	size int64
	done chan struct{}
	data []byte
	ch   *chunk.Chunk // data's owner: released with the last reference
	err  error
	used uint64 // tick of the last read that used it
	read bool   // a read used it (read-ahead entries not yet read go last)
	refs int
}

// NewBlob returns random access to the stream of ix (valid, as
// caindex.Read returns it). Close it to stop its fetches.
func NewBlob(ix *caindex.Index, o BlobOptions) *Blob {
	if o.ReadAhead == 0 {
		o.ReadAhead = DefaultReadAhead
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.ReadAhead < 0 {
		o.ReadAhead = 0
	} else {
		o.ReadAhead = max(o.ReadAhead, 2*int64(o.Concurrency)*int64(ix.Avg))
	}
	if o.ChunkTimeout <= 0 {
		o.ChunkTimeout = DefaultChunkTimeout
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Blob{
		ix:      ix,
		size:    int64(ix.Size()),
		ahead:   o.ReadAhead,
		timeout: o.ChunkTimeout,
		cor:     o.COR,
		log:     log,
		zeros:   sync.OnceValue(func() []byte { return make([]byte, ix.Max) }),
		slots:   make(chan struct{}, o.Concurrency),
		stores:  newStoreRef(o.Store),
		cache:   map[int]*entry{},
		lastEnd: -1 << 62,
	}
	b.zero = ix.Digest().Sum(b.zeros())
	b.capa = 2*o.ReadAhead + int64(o.Concurrency+4)*int64(ix.Max)
	b.ctx, b.cancel = context.WithCancel(context.Background())
	// Read-ahead fetches run Concurrency at a time, and verifying a chunk
	// is hashing it: declared, the digests of fetches that meet are
	// batched (see chunk.HashWorkers); a lone fetch hashes on its own.
	b.hashDone = chunk.HashWorkers(o.Concurrency)
	return b
}

// Size returns the length of the stream.
func (b *Blob) Size() int64 { return b.size }

// SetStore makes s the store of later fetches. The previous store is
// closed once the fetches using it have returned.
func (b *Blob) SetStore(s chunk.Store) { b.stores.set(s) }

// Close stops the fetches, waits for them, and closes the store. Reads
// fail from then on.
func (b *Blob) Close() error {
	b.cancel()
	b.fetches.Wait()
	b.hashDone()
	return b.stores.close()
}

// find returns the index of the chunk holding off, 0 ≤ off < size.
func (b *Blob) find(off int64) int {
	cs := b.ix.Chunks
	return sort.Search(len(cs), func(i int) bool { return cs[i].End() > uint64(off) })
}

// ReadAt reads len(p) bytes at off, following io.ReaderAt (io.EOF at the
// end of the stream). It is safe for concurrent use.
func (b *Blob) ReadAt(p []byte, off int64) (int, error) {
	vecs, release, err := b.slices(off, len(p))
	defer release()
	n := 0
	for _, v := range vecs {
		n += copy(p[n:], v)
	}
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

// slices returns the bytes of the stream in [off, off+n) (fewer at its
// end) as pieces of the chunks holding them, without copying; the pieces
// are valid until release is called, which must be called in every case.
// An error comes with the pieces before the chunk that failed.
func (b *Blob) slices(off int64, n int) (vecs [][]byte, release func(), err error) {
	release = func() {}
	if off < 0 {
		return nil, release, fmt.Errorf("read at negative offset %d", off)
	}
	if err := b.ctx.Err(); err != nil {
		return nil, release, fmt.Errorf("read at offset %d: %w", off, io.ErrClosedPipe)
	}
	if off >= b.size || n == 0 {
		if off >= b.size {
			err = io.EOF
		}
		return nil, release, err
	}
	end := min(off+int64(n), b.size)
	first, last := b.find(off), b.find(end-1)
	// Start every fetch the read needs before waiting for any.
	ents := make([]*entry, last-first+1)
	b.mu.Lock()
	for i := first; i <= last; i++ {
		ents[i-first] = b.getLocked(i, true)
	}
	b.readAheadLocked(first, last)
	b.mu.Unlock()
	release = func() {
		b.mu.Lock()
		for _, e := range ents {
			if e != nil {
				b.unrefLocked(e)
			}
		}
		b.evictLocked()
		b.mu.Unlock()
	}
	vecs = make([][]byte, 0, len(ents))
	for k, e := range ents {
		c := b.ix.Chunks[first+k]
		var data []byte
		var err error
		if e == nil { // from the copy-on-read file or a hole
			data, err = b.local(c)
		} else {
			data, err = b.wait(e)
		}
		if err != nil {
			return vecs, release, err
		}
		from := max(off, int64(c.Start)) - int64(c.Start)
		to := min(end, int64(c.End())) - int64(c.Start)
		vecs = append(vecs, data[from:to])
	}
	return vecs, release, nil
}

// local returns the content of c when the copy-on-read file has it or it
// is the all-zero chunk.
func (b *Blob) local(c caindex.Chunk) ([]byte, error) {
	if b.isZero(c) {
		return b.zeros()[:c.Size], nil
	}
	buf := make([]byte, c.Size)
	if err := b.cor.read(buf, int64(c.Start)); err != nil {
		return nil, fmt.Errorf("chunk %s at offset %d: copy-on-read file: %w", c.ID, c.Start, err)
	}
	return buf, nil
}

func (b *Blob) isZero(c caindex.Chunk) bool {
	return c.ID == b.zero && c.Size == b.ix.Max
}

// wait returns e's content once fetched.
func (b *Blob) wait(e *entry) ([]byte, error) {
	select {
	case <-e.done:
	case <-b.ctx.Done():
		return nil, fmt.Errorf("chunk %s at offset %d: %w", b.ix.Chunks[e.i].ID, b.ix.Chunks[e.i].Start, io.ErrClosedPipe)
	}
	return e.data, e.err
}

// getLocked returns the cache entry of chunk i, starting its fetch if
// needed, or nil when the chunk is read locally (copy-on-read file, hole).
// A demand fetch runs at once; a read-ahead one waits for a slot. A demand
// caller gets a reference to the entry, which it gives back with
// unrefLocked.
func (b *Blob) getLocked(i int, demand bool) *entry {
	c := b.ix.Chunks[i]
	if b.isZero(c) || (b.cor != nil && b.cor.has(i)) {
		return nil
	}
	b.tick++
	if e, ok := b.cache[i]; ok {
		if demand {
			if !e.read {
				b.nread++
			}
			e.used, e.read = b.tick, true
			e.refs++
		}
		return e
	}
	e := &entry{i: i, size: int64(c.Size), done: make(chan struct{}), used: b.tick, read: demand, refs: 1}
	if demand {
		e.refs++
		b.nread++
	}
	b.cache[i] = e
	b.bytes += e.size
	b.evictLocked()
	b.fetches.Add(1)
	go b.fetch(e, c, demand)
	return e
}

// readAheadLocked follows a read of chunks first..last: a read that starts
// where the previous ended (or in its last chunk) grows the read-ahead
// window and fetches the chunks after last that fall in it; any other read
// resets the window.
func (b *Blob) readAheadLocked(first, last int) {
	if b.ahead == 0 {
		return
	}
	// The kernel has several reads in flight and they arrive out of order:
	// a read starting near where the reads so far ended counts as
	// sequential.
	off, end := int64(b.ix.Chunks[first].Start), int64(b.ix.Chunks[last].End())
	if off >= b.lastEnd-seqSlack && off <= b.lastEnd+seqSlack {
		b.window = min(max(2*b.window, int64(b.ix.Max)), b.ahead)
		b.lastEnd = max(b.lastEnd, end)
	} else {
		b.window = 0
		b.lastEnd = end
	}
	if b.window == 0 {
		return
	}
	limit := int64(b.ix.Chunks[last].End()) + b.window
	for i := last + 1; i < len(b.ix.Chunks) && int64(b.ix.Chunks[i].Start) < limit; i++ {
		b.getLocked(i, false)
	}
}

// evictLocked drops chunks until the cache fits its limit, and chunks
// already read beyond the last keepRead of them: chunks already read
// first, oldest first, then unread read-ahead; never one being fetched
// (its waiters hold it). Dropping what was read early keeps the buffers in
// use few, and warm in the CPU's caches.
func (b *Blob) evictLocked() {
	for {
		over := b.bytes > b.capa
		if !over && b.nread <= keepRead {
			return
		}
		var victim *entry
		for _, e := range b.cache {
			if !e.read && !over {
				continue
			}
			select {
			case <-e.done:
			default:
				continue
			}
			if victim == nil || (e.read && !victim.read) || (e.read == victim.read && e.used < victim.used) {
				victim = e
			}
		}
		if victim == nil {
			return
		}
		b.dropLocked(victim)
	}
}

// dropLocked removes e from the cache.
func (b *Blob) dropLocked(e *entry) {
	delete(b.cache, e.i)
	b.bytes -= e.size
	if e.read {
		b.nread--
	}
	b.unrefLocked(e)
}

// unrefLocked drops a reference to e, giving its buffer back with the
// last.
func (b *Blob) unrefLocked(e *entry) {
	e.refs--
	if e.refs == 0 && e.ch != nil {
		e.ch.Release()
		e.ch, e.data = nil, nil
	}
}

// fetch gets chunk c for e from the store, writes it to the copy-on-read
// file, and completes e. A failure is logged and the entry dropped, so a
// later read tries again.
func (b *Blob) fetch(e *entry, c caindex.Chunk, demand bool) {
	defer b.fetches.Done()
	if !demand {
		select {
		case b.slots <- struct{}{}:
			defer func() { <-b.slots }()
		case <-b.ctx.Done():
			b.finish(e, fmt.Errorf("chunk %s at offset %d: %w", c.ID, c.Start, io.ErrClosedPipe))
			return
		}
	}
	data, ch, err := b.get(c)
	if err == nil && b.cor != nil {
		if werr := b.cor.write(e.i, data, int64(c.Start)); werr != nil {
			b.log.Warn("mount: writing the copy-on-read file failed", "chunk", c.ID, "offset", c.Start, "error", werr)
		}
	}
	e.data, e.ch = data, ch
	b.finish(e, err)
}

// finish completes e with err (nil: e.data is set).
func (b *Blob) finish(e *entry, err error) {
	if err != nil {
		e.err = err
		if b.ctx.Err() == nil {
			b.log.Error("mount: reading chunk failed", "chunk", b.ix.Chunks[e.i].ID, "offset", b.ix.Chunks[e.i].Start, "error", err)
		}
		b.mu.Lock()
		if b.cache[e.i] == e {
			b.dropLocked(e)
		}
		b.mu.Unlock()
	}
	close(e.done)
}

// get fetches and decodes chunk c from the current store, within the
// chunk timeout; the chunk is to be released once its content is no longer
// used.
func (b *Blob) get(c caindex.Chunk) ([]byte, *chunk.Chunk, error) {
	s, release := b.stores.acquire()
	defer release()
	if s == nil {
		return nil, nil, fmt.Errorf("chunk %s at offset %d: no store", c.ID, c.Start)
	}
	ctx, cancel := context.WithTimeoutCause(b.ctx, b.timeout, fmt.Errorf("no answer from the store within %v", b.timeout))
	defer cancel()
	ch, err := s.GetChunk(ctx, c.ID)
	if err == nil {
		var data []byte
		if data, err = ch.Plain(); err == nil {
			if uint64(len(data)) != c.Size {
				ch.Release()
				return nil, nil, fmt.Errorf("chunk %s at offset %d from store %s: %d bytes, the index says %d", c.ID, c.Start, s, len(data), c.Size)
			}
			return data, ch, nil
		}
	}
	if ctx.Err() != nil && b.ctx.Err() == nil {
		err = fmt.Errorf("%w (%w)", context.Cause(ctx), err)
	}
	if strings.Contains(err.Error(), c.ID.String()) {
		return nil, nil, fmt.Errorf("at offset %d: %w", c.Start, err)
	}
	return nil, nil, fmt.Errorf("chunk %s at offset %d from store %s: %w", c.ID, c.Start, s, err)
}
