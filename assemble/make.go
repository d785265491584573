package assemble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/chunker"
)

// MakeOptions configure [Make].
type MakeOptions struct {
	// Params are the chunk sizes; the zero value means casync's defaults.
	Params chunker.Params
	// Digest names the chunks.
	Digest chunk.Digest
	// Store receives every chunk it does not have yet; nil makes only the index.
	Store chunk.WriteStore
	// Concurrency is the number of goroutines hashing, compressing and
	// storing; 0 means GOMAXPROCS.
	Concurrency int
	// IndexTo, when set, receives the index as it is made (the chunks in
	// order, and the tail once the store is flushed), and Make returns the
	// index's header without its chunks: memory then stays the same
	// however long the input is. On error IndexTo holds an incomplete
	// index: write it to a temporary file.
	IndexTo io.Writer
	// Flags are the feature flags of the index header; 0 means a blob
	// index (.caibx, caindex.BlobFlags for Digest). An archive index
	// (.caidx) carries the archive's feature flags; their SHA512_256 bit
	// must agree with Digest.
	Flags uint64
	// CountUnique makes Make count the distinct chunk IDs
	// (MakeStats.UniqueChunks), at about ten bytes of memory per distinct
	// chunk. Without it, MakeStats.InStore also counts the repeats that
	// come after more than recentMax (16384) other distinct chunks, which
	// the store then holds whether this run stored them or not.
	CountUnique bool
	// Progress, if set, is told of every byte read (Add), and of the end:
	// a phase "Flushing" of no size while the store makes its chunks
	// durable. The caller starts the first phase (it knows the input's
	// size).
	Progress Progress
}

// MakeStats describe a finished [Make].
type MakeStats struct {
	Bytes        uint64 `json:"bytes"`           // length of the input
	Chunks       int    `json:"chunks"`          // chunks in the index
	UniqueChunks int    `json:"unique-chunks"`   // distinct chunk IDs (only with CountUnique)
	StoredChunks int    `json:"stored-chunks"`   // chunks written to the store
	StoredBytes  uint64 `json:"stored-bytes"`    // plain bytes of the chunks written
	InStore      int    `json:"chunks-in-store"` // distinct chunks the store already had (see CountUnique)
}

// blockSize is the read unit of Make; every block holds whole chunks (a
// chunk that does not fit is carried over to the next block). The blocks
// stay allocated for the whole run, and the garbage collector lets the
// heap grow to twice what is live before it collects, so each MiB here
// costs about two of peak RSS: 2 MiB blocks (about 30 chunks of casync's
// default size) instead of 4 MiB took a 1 GiB make from 60 to 47 MiB, with
// no loss of speed.
const blockSize = 2 << 20

// block is one read buffer; it goes back to the free list when the last
// chunk cut from it has been processed.
type block struct {
	buf  []byte
	refs atomic.Int32
}

type makeJob struct {
	data []byte
	slot *caindex.Chunk // where the worker writes the chunk's ID
	pg   *page          // the page of slot
	blk  *block
}

// pageSize is the number of index entries per page; pages never move, so
// workers can fill in IDs while the reader fills later pages.
const pageSize = 4096

// page is a run of index entries. The reader fills in offsets and sizes,
// the workers the IDs; once the reader has moved on to the next page, the
// index writer waits for named and takes the entries.
type page struct {
	chunks [pageSize]caindex.Chunk
	n      int            // entries the reader filled
	named  sync.WaitGroup // one count per entry until a worker is done with it
}

// Make reads r once, cuts it into chunks, names each chunk, stores the ones
// the store lacks, and returns the index (or, with IndexTo, writes it there
// as it goes). Reading and cutting run on the calling goroutine; hashing,
// compression and writing run on Concurrency workers. Memory is a fixed
// number of read blocks and index pages, the recent IDs (recentMax),
// with CountUnique the distinct-ID count and, without IndexTo, the index
// being built. On
// error nothing is returned but the error; chunks already stored stay
// (they are valid and named by content). On success the store is flushed
// (chunk.Flusher) before the index is returned or its tail written.
func Make(ctx context.Context, r io.Reader, o MakeOptions) (*caindex.Index, MakeStats, error) {
	if r == nil {
		return nil, MakeStats{}, errors.New("no input given (nil reader)")
	}
	m, err := newMaker(o)
	if err != nil {
		return nil, MakeStats{}, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	m.ctx, m.cancel = ctx, cancel
	m.startWorkers(workerCount(o.Concurrency))
	go m.collectPages()
	readErr := m.read(r)
	m.drain()
	if readErr != nil {
		return nil, m.stats, readErr
	}
	if err := context.Cause(ctx); err != nil {
		return nil, m.stats, err
	}
	return m.finish()
}

// maker is one run of Make. The calling goroutine reads and cuts (read),
// the workers name and store the chunks (work), and one goroutine takes
// the filled index pages in order (collectPages); finish completes the
// index.
type maker struct {
	o      MakeOptions
	ck     *chunker.Chunker
	hdr    *caindex.Index
	iw     *caindex.Writer // with IndexTo
	w      *makeWorker
	ctx    context.Context
	cancel context.CancelCauseFunc

	free      chan *block  // read blocks not in use
	jobs      chan makeJob // chunks for the workers
	workers   sync.WaitGroup
	full      chan *page    // pages the reader is done with, in order
	freePages chan *page    // pages written to IndexTo, for reuse
	kept      []*page       // without IndexTo: every page, in order
	indexDone chan struct{} // closed when collectPages returns

	pg    *page // the page the reader fills
	n     int   // chunks cut
	stats MakeStats
}

// newMaker checks the options and allocates the read blocks.
func newMaker(o MakeOptions) (*maker, error) {
	if o.Params == (chunker.Params{}) {
		o.Params = chunker.DefaultParams()
	}
	if o.Progress == nil {
		o.Progress = noProgress{}
	}
	ck, err := chunker.New(o.Params)
	if err != nil {
		return nil, err
	}
	m := &maker{
		o:         o,
		ck:        ck,
		hdr:       caindex.New(o.Digest, o.Params.Min, o.Params.Avg, o.Params.Max),
		w:         &makeWorker{o: o},
		full:      make(chan *page, 2),
		freePages: make(chan *page, 2),
		indexDone: make(chan struct{}),
	}
	if o.Flags != 0 {
		if o.Flags&caindex.FlagSHA512_256 != m.hdr.Flags&caindex.FlagSHA512_256 {
			return nil, fmt.Errorf("index feature flags %#x do not match the digest %s", o.Flags, o.Digest)
		}
		m.hdr.Flags = o.Flags
	}
	if o.IndexTo != nil {
		m.iw, err = caindex.NewWriter(o.IndexTo, m.hdr.Flags, m.hdr.Min, m.hdr.Avg, m.hdr.Max)
		if err != nil {
			return nil, err
		}
	}
	if o.CountUnique {
		m.w.unique = make(map[uint64]struct{})
	}
	bsize := max(blockSize, 2*int(o.Params.Max))
	// Four blocks let the reader fill one while workers drain the others;
	// more would only raise memory.
	m.free = make(chan *block, 4)
	for range cap(m.free) {
		m.free <- &block{buf: make([]byte, bsize)}
	}
	return m, nil
}

// release drops a reference to b; the last one puts it back on the free
// list.
func (m *maker) release(b *block) {
	if b.refs.Add(-1) == 0 {
		m.free <- b
	}
}

// startWorkers starts n workers on the jobs channel.
func (m *maker) startWorkers(n int) {
	m.jobs = make(chan makeJob, hashGroup*n)
	for range n {
		m.workers.Add(1)
		go m.work()
	}
}

// work names the chunks of the jobs it takes, a group at a time, and
// stores them; after a failure it only releases what it takes.
func (m *maker) work() {
	defer m.workers.Done()
	var g group
	for j := range m.jobs {
		g.take(j, m.jobs)
		if m.ctx.Err() == nil {
			m.w.name(&g)
		}
		// Each block goes back as soon as its chunk is stored, not after
		// the whole group.
		for _, j := range g.jobs {
			if m.ctx.Err() == nil {
				if err := m.w.handle(m.ctx, j); err != nil {
					m.cancel(err)
				}
			}
			m.release(j.blk)
			j.pg.named.Done()
		}
	}
}

// collectPages takes the pages, in order, once their IDs are named: it
// writes them to IndexTo and recycles them, or keeps them for the returned
// index.
func (m *maker) collectPages() {
	defer close(m.indexDone)
	for pg := range m.full {
		pg.named.Wait()
		if m.iw == nil {
			m.kept = append(m.kept, pg)
			continue
		}
		if m.ctx.Err() == nil {
			for _, c := range pg.chunks[:pg.n] {
				if err := m.iw.Add(c); err != nil {
					m.cancel(fmt.Errorf("writing the index: %w", err))
					break
				}
			}
		}
		select {
		case m.freePages <- pg:
		default:
		}
	}
}

// read reads r a block at a time, cuts the chunks and hands each to the
// workers with its slot in the index. It returns a read error; on
// cancellation it stops and returns nil (the cause is in the context).
func (m *maker) read(r io.Reader) error {
	var carry []byte // the unfinished chunk at the end of the previous block
	var offset uint64
	eof := false
	for !eof {
		var blk *block
		select {
		case blk = <-m.free:
		case <-m.ctx.Done():
			return nil
		}
		blk.refs.Store(1) // the reader's own reference
		end := copy(blk.buf, carry)
		for end < len(blk.buf) && !eof {
			k, err := r.Read(blk.buf[end:])
			end += k
			m.o.Progress.Add(int64(k))
			if errors.Is(err, io.EOF) {
				eof = true
			} else if err != nil {
				m.release(blk)
				return fmt.Errorf("reading input at offset %d: %w", offset+uint64(end), err)
			}
		}
		pos := 0
		for pos < end {
			size := m.ck.Next(blk.buf[pos:end], eof)
			if size == 0 {
				break
			}
			if !m.nextSlot() {
				m.release(blk)
				return nil
			}
			slot := &m.pg.chunks[m.pg.n]
			*slot = caindex.Chunk{Start: offset, Size: uint64(size)}
			m.pg.n++
			m.n++
			blk.refs.Add(1)
			m.pg.named.Add(1)
			select {
			case m.jobs <- makeJob{data: blk.buf[pos : pos+size], slot: slot, pg: m.pg, blk: blk}:
			case <-m.ctx.Done():
				m.release(blk)
				m.release(blk)
				m.pg.named.Done()
				return nil
			}
			pos += size
			offset += uint64(size)
		}
		carry = blk.buf[pos:end] // copied into the next block before this one can be reused
		m.release(blk)
	}
	m.stats.Bytes = offset
	return nil
}

// nextSlot makes sure the current page has a free entry: a full page goes
// to collectPages and a recycled or new one takes its place. It reports
// false when the run was cancelled meanwhile.
func (m *maker) nextSlot() bool {
	if m.pg != nil && m.pg.n < pageSize {
		return true
	}
	if m.pg != nil {
		select {
		case m.full <- m.pg:
		case <-m.ctx.Done():
			m.pg = nil // its entries are not needed
			return false
		}
	}
	select {
	case m.pg = <-m.freePages:
		m.pg.n = 0
	default:
		m.pg = new(page)
	}
	return true
}

// drain ends the input: the workers finish their jobs, the last page goes
// to collectPages, and both are waited for.
func (m *maker) drain() {
	close(m.jobs)
	if m.pg != nil {
		m.full <- m.pg
	}
	close(m.full)
	m.workers.Wait()
	<-m.indexDone
}

// finish flushes the store, then completes the index (its tail written to
// IndexTo, or its chunks gathered from the pages) and the stats.
func (m *maker) finish() (*caindex.Index, MakeStats, error) {
	// The index is the commit record: its chunks must be durable first.
	if f, ok := m.o.Store.(chunk.Flusher); ok {
		m.o.Progress.Phase("Flushing", 0)
		if err := f.Flush(m.ctx); err != nil {
			return nil, m.stats, err
		}
	}
	ix := m.hdr
	if m.iw != nil {
		if err := m.iw.Close(); err != nil {
			return nil, m.stats, fmt.Errorf("writing the index: %w", err)
		}
	} else {
		ix.Chunks = make([]caindex.Chunk, 0, m.n)
		for _, p := range m.kept {
			ix.Chunks = append(ix.Chunks, p.chunks[:p.n]...)
		}
	}
	m.stats.Chunks = m.n
	m.stats.UniqueChunks = len(m.w.unique)
	m.stats.StoredChunks = int(m.w.stored.Load())
	m.stats.StoredBytes = m.w.storedBytes.Load()
	m.stats.InStore = int(m.w.inStore.Load())
	return ix, m.stats, nil
}
