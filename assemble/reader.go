package assemble

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"sync"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
)

// ReaderOptions configure a [Reader].
type ReaderOptions struct {
	// Store supplies the chunks; if nil, reading any chunk but a hole
	// fails with [ErrNoStore].
	Store chunk.Store
	// Concurrency is the number of chunks sequential reads fetch ahead, in
	// parallel, and separately the number of fetches concurrent ReadAt calls
	// make at once; 0 means GOMAXPROCS.
	Concurrency int
}

// errClosed is the error of every read after [Reader.Close].
var errClosed = fmt.Errorf("index reader: %w", fs.ErrClosed)

// readAtCache is the number of chunks ReadAt keeps, so that reads smaller
// than a chunk (FUSE reads 128 KiB at most) fetch each chunk once.
const readAtCache = 2

// Reader reads the stream an index describes, fetching chunks from a store as
// they are needed; nothing is written to disk. It is an [io.ReadSeeker], an
// [io.ReaderAt] and an [io.WriterTo].
//
// Read and WriteTo read sequentially from the current offset and keep up to
// Concurrency chunks fetched or being fetched ahead of it, started in order;
// the read-ahead starts at one chunk and doubles with every chunk consumed,
// so a short read fetches little. A Seek out of the read-ahead cancels it.
// ReadAt is independent of the offset, safe for concurrent use, and fetches
// only the chunks it needs (concurrent calls for one chunk share the fetch),
// keeping the last two. Memory is bounded whatever the stream's length:
// sequential reads hold at most Concurrency+1 chunks (up to Concurrency more
// just after a seek, while cancelled fetches return), ReadAt Concurrency+2.
//
// Every chunk is checked against the index's size for it; the all-zero chunk
// of the index's max size is never fetched. Errors name the chunk and its
// offset. Once the context given to [NewReader] is done, or after Close,
// every read fails.
type Reader struct {
	ix      *caindex.Index
	store   chunk.Store
	isNull  func(caindex.Chunk) bool
	size    int64
	workers int
	zeros   func() []byte // an all-zero buffer of the index's max size

	ctx     context.Context // done on Close (cause errClosed) or with the caller's
	cancel  context.CancelCauseFunc
	slots   chan struct{}  // one per read-ahead fetch in progress
	atSlots chan struct{}  // one per ReadAt fetch in progress
	wg      sync.WaitGroup // read-ahead goroutines

	mu        sync.Mutex // guards the sequential state below
	off       int64
	cur       *pending        // the chunk last read, fetched, or nil
	curB      []byte          // its content
	queue     []*pending      // read-ahead of the chunks after cur, in order
	next      int             // the chunk the read-ahead fetches next
	ahead     int             // the read-ahead's current length, up to workers
	genCtx    context.Context // the read-ahead's fetches; cancelled when it stops
	genCancel context.CancelFunc

	cmu   sync.Mutex // guards cache
	cache [readAtCache]*pending
}

// pending is a chunk being fetched or fetched; b and err are set before done
// is closed.
type pending struct {
	c    caindex.Chunk
	done chan struct{}
	b    []byte
	ch   *chunk.Chunk // b's chunk (read-ahead only), released once consumed
	err  error
}

// NewReader returns a reader of the stream of ix (which must be valid, as
// caindex.Read returns it). When ctx is done, fetches stop and reads fail with
// its cause. Close the reader to stop its fetches.
func NewReader(ctx context.Context, ix *caindex.Index, o ReaderOptions) *Reader {
	workers := workerCount(o.Concurrency)
	r := &Reader{
		ix:      ix,
		store:   o.Store,
		isNull:  nullChunks(ix),
		size:    int64(ix.Size()),
		workers: workers,
		zeros:   sync.OnceValue(func() []byte { return make([]byte, ix.Max) }),
		slots:   make(chan struct{}, workers),
		atSlots: make(chan struct{}, workers),
	}
	r.ctx, r.cancel = context.WithCancelCause(ctx)
	return r
}

// Size returns the length of the stream.
func (r *Reader) Size() int64 { return r.size }

// Close stops the read-ahead and waits for its fetches to return; reads
// fail from then on. It does not close the store. Close always returns nil.
func (r *Reader) Close() error {
	r.cancel(errClosed)
	r.mu.Lock()
	r.stopReadAhead()
	r.mu.Unlock()
	// No fetch starts after this point: they start under mu, after a check
	// of ctx.
	r.wg.Wait()
	return nil
}

// failed returns the reason reads fail, or nil.
func (r *Reader) failed() error {
	if r.ctx.Err() != nil {
		return context.Cause(r.ctx)
	}
	return nil
}

// find returns the index of the chunk holding offset off, 0 ≤ off < size.
func (r *Reader) find(off int64) int {
	cs := r.ix.Chunks
	return sort.Search(len(cs), func(i int) bool { return cs[i].End() > uint64(off) })
}

// fetchAt gets chunk c for ReadAt in one of ReadAt's fetch slots.
func (r *Reader) fetchAt(c caindex.Chunk) ([]byte, error) {
	select {
	case r.atSlots <- struct{}{}:
	case <-r.ctx.Done():
		return nil, context.Cause(r.ctx)
	}
	defer func() { <-r.atSlots }()
	b, _, err := fetch(r.ctx, r.store, c)
	return b, err
}

// wait returns the content of p once fetched.
func (r *Reader) wait(p *pending) ([]byte, error) {
	select {
	case <-p.done:
	default:
		select {
		case <-p.done:
		case <-r.ctx.Done():
			return nil, context.Cause(r.ctx)
		}
	}
	if p.err != nil {
		if err := r.failed(); err != nil {
			return nil, err // report the cancellation, not its effect on a fetch
		}
		return nil, p.err
	}
	if p.b == nil {
		return r.zeros()[:p.c.Size], nil
	}
	return p.b, nil
}

// ReadAt reads len(p) bytes at off, following io.ReaderAt: fewer bytes only
// with an error, io.EOF at the end of the stream. It does not use or move the
// offset of Read and Seek, and is safe for concurrent use.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at negative offset %d", off)
	}
	if err := r.failed(); err != nil {
		return 0, err
	}
	n := 0
	for n < len(p) && off < r.size {
		c := r.ix.Chunks[r.find(off)]
		b, err := r.chunkAt(c)
		if err != nil {
			return n, err
		}
		m := copy(p[n:], b[off-int64(c.Start):])
		n += m
		off += int64(m)
	}
	if n < len(p) || off >= r.size && len(p) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// chunkAt returns the content of c for ReadAt, from the cache or fetched in
// the calling goroutine. Concurrent calls for one chunk share its fetch.
func (r *Reader) chunkAt(c caindex.Chunk) ([]byte, error) {
	if r.isNull(c) {
		return r.zeros()[:c.Size], nil
	}
	r.cmu.Lock()
	var p *pending
	for k, e := range r.cache {
		if e != nil && e.c.ID == c.ID && e.c.Size == c.Size {
			p = e
			copy(r.cache[1:k+1], r.cache[:k]) // move to the front
			r.cache[0] = p
			break
		}
	}
	owner := p == nil
	if owner {
		p = &pending{c: c, done: make(chan struct{})}
		copy(r.cache[1:], r.cache[:len(r.cache)-1])
		r.cache[0] = p
	}
	r.cmu.Unlock()
	if owner {
		p.b, p.err = r.fetchAt(c)
		if p.err != nil { // let a later read try again
			r.cmu.Lock()
			for k, e := range r.cache {
				if e == p {
					copy(r.cache[k:], r.cache[k+1:])
					r.cache[len(r.cache)-1] = nil
					break
				}
			}
			r.cmu.Unlock()
		}
		close(p.done)
	}
	return r.wait(p)
}

// Read reads from the current offset, following io.Reader: it fills p unless
// the stream ends or a fetch fails, and returns io.EOF at the end.
func (r *Reader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.failed(); err != nil {
		return 0, err
	}
	if r.off >= r.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.off < r.size {
		b, start, err := r.seqChunk()
		if err != nil {
			return n, err
		}
		m := copy(p[n:], b[r.off-start:])
		n += m
		r.off += int64(m)
	}
	return n, nil
}

// WriteTo writes the stream from the current offset to its end to w and
// moves the offset along; io.Copy uses it.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.failed(); err != nil {
		return 0, err
	}
	defer chunk.HashWorkers(r.workers)() // the read-ahead's fetches verify
	var n int64
	for r.off < r.size {
		b, start, err := r.seqChunk()
		if err != nil {
			return n, err
		}
		b = b[r.off-start:]
		m, err := w.Write(b)
		n += int64(m)
		r.off += int64(m)
		if err == nil && m < len(b) {
			err = io.ErrShortWrite
		}
		if err != nil {
			return n, fmt.Errorf("writing at offset %d: %w", r.off, err)
		}
	}
	return n, nil
}

// Seek sets the offset of Read and WriteTo, following io.Seeker. Offsets past
// the end are allowed; reads there return io.EOF.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return r.off, fmt.Errorf("seek: invalid whence %d", whence)
	}
	if offset < 0 {
		return r.off, fmt.Errorf("seek: negative offset %d", offset)
	}
	r.off = offset
	// Keep the read-ahead if the new offset is in it (a short skip forward,
	// or back into the current chunk); otherwise stop its fetches now.
	if offset < r.size {
		i := r.find(offset)
		if r.cur != nil && r.cur.c.Start <= r.ix.Chunks[i].Start && i < r.next {
			return offset, nil
		}
	}
	r.stopReadAhead()
	return offset, nil
}

// seqChunk returns the chunk holding r.off (< r.size) and its start, from the
// read-ahead, which it restarts at that chunk when the offset is outside it.
// It keeps the read-ahead full. Called with mu held.
func (r *Reader) seqChunk() ([]byte, int64, error) {
	if err := r.failed(); err != nil {
		return nil, 0, err
	}
	if p := r.cur; p != nil && uint64(r.off) >= p.c.Start && uint64(r.off) < p.c.End() {
		return r.curB, int64(p.c.Start), nil
	}
	i := r.find(r.off)
	start := r.ix.Chunks[i].Start
	for len(r.queue) > 0 && r.queue[0].c.Start < start { // skipped over
		r.queue[0] = nil
		r.queue = r.queue[1:]
	}
	switch {
	case len(r.queue) == 0 && r.genCancel != nil && r.next == i:
		r.fill() // the read-ahead is just behind the reader
	case len(r.queue) == 0 || r.queue[0].c.Start != start:
		r.stopReadAhead()
		r.genCtx, r.genCancel = context.WithCancel(r.ctx)
		r.next = i
		r.ahead = 1
		r.fill()
	}
	if len(r.queue) == 0 { // ctx is done
		return nil, 0, r.failed()
	}
	p := r.queue[0]
	r.queue[0] = nil
	r.queue = r.queue[1:]
	r.dropCur()
	r.ahead = min(2*r.ahead, r.workers)
	r.fill()
	b, err := r.wait(p)
	if err != nil {
		r.stopReadAhead() // the next read starts over here
		return nil, 0, err
	}
	r.cur, r.curB = p, b
	return b, int64(start), nil
}

// fill starts fetches until r.ahead chunks are queued or no fetch slot is
// free. Fetches take their slots in order, so the chunk the reader needs next
// never waits for a later one; when the queue is empty, fill waits for a slot
// (held by a fetch of a stopped read-ahead, being cancelled, or by the chunk
// being read). Called with mu held.
func (r *Reader) fill() {
	for len(r.queue) < r.ahead && r.next < len(r.ix.Chunks) && r.genCtx.Err() == nil {
		c := r.ix.Chunks[r.next]
		p := &pending{c: c, done: make(chan struct{})}
		if r.isNull(c) {
			close(p.done)
		} else {
			if len(r.queue) == 0 {
				select {
				case r.slots <- struct{}{}:
				case <-r.genCtx.Done():
					return
				}
			} else {
				select {
				case r.slots <- struct{}{}:
				default:
					return
				}
			}
			r.wg.Add(1)
			go func(ctx context.Context) {
				defer r.wg.Done()
				p.b, p.ch, p.err = fetch(ctx, r.store, c)
				<-r.slots
				close(p.done)
			}(r.genCtx)
		}
		r.queue = append(r.queue, p)
		r.next++
	}
}

// stopReadAhead cancels the read-ahead's fetches and forgets its chunks.
// Called with mu held.
func (r *Reader) stopReadAhead() {
	if r.genCancel != nil {
		r.genCancel()
		r.genCancel = nil
	}
	clear(r.queue)
	r.queue = r.queue[:0]
	r.dropCur()
	r.next = 0
}

// dropCur forgets the current chunk and gives its buffer back: Read copied
// from it and WriteTo's writer does not keep it. Called with mu held.
func (r *Reader) dropCur() {
	if r.cur != nil && r.cur.ch != nil {
		r.cur.ch.Release()
	}
	r.cur, r.curB = nil, nil
}

var _ interface {
	io.ReadSeekCloser
	io.ReaderAt
	io.WriterTo
} = (*Reader)(nil)
