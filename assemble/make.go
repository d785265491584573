package assemble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
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
	// CountUnique makes Make count the distinct chunk IDs
	// (MakeStats.UniqueChunks), at about ten bytes of memory per distinct
	// chunk. Without it, MakeStats.InStore also counts the repeats that
	// come after more than recentMax (16384) other distinct chunks, which
	// the store then holds whether this run stored them or not.
	CountUnique bool
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
	var stats MakeStats
	if o.Params == (chunker.Params{}) {
		o.Params = chunker.DefaultParams()
	}
	ck, err := chunker.New(o.Params)
	if err != nil {
		return nil, stats, err
	}
	hdr := caindex.New(o.Digest, o.Params.Min, o.Params.Avg, o.Params.Max)
	workers := workerCount(o.Concurrency)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	bsize := max(blockSize, 2*int(o.Params.Max))
	// Four blocks let the reader fill one while workers drain the others;
	// more would only raise memory.
	free := make(chan *block, 4)
	for range cap(free) {
		free <- &block{buf: make([]byte, bsize)}
	}
	release := func(b *block) {
		if b.refs.Add(-1) == 0 {
			free <- b
		}
	}

	var iw *caindex.Writer
	if o.IndexTo != nil {
		if iw, err = caindex.NewWriter(o.IndexTo, hdr.Flags, hdr.Min, hdr.Avg, hdr.Max); err != nil {
			return nil, stats, err
		}
	}
	w := &makeWorker{o: o}
	if o.CountUnique {
		w.unique = make(map[uint64]struct{})
	}
	jobs := make(chan makeJob, hashGroup*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var g group
			for j := range jobs {
				g.take(j, jobs)
				if ctx.Err() == nil {
					w.name(&g)
				}
				// Each block goes back as soon as its chunk is stored,
				// not after the whole group.
				for _, j := range g.jobs {
					if ctx.Err() == nil {
						if err := w.handle(ctx, j); err != nil {
							cancel(err)
						}
					}
					release(j.blk)
					j.pg.named.Done()
				}
			}
		}()
	}

	// The pages go, in order, to a goroutine that writes them to IndexTo
	// and recycles them, or keeps them for the returned index.
	full := make(chan *page, 2)
	freePages := make(chan *page, 2)
	var kept []*page
	indexDone := make(chan struct{})
	go func() {
		defer close(indexDone)
		for pg := range full {
			pg.named.Wait()
			if iw == nil {
				kept = append(kept, pg)
				continue
			}
			if ctx.Err() == nil {
				for _, c := range pg.chunks[:pg.n] {
					if err := iw.Add(c); err != nil {
						cancel(fmt.Errorf("writing the index: %w", err))
						break
					}
				}
			}
			select {
			case freePages <- pg:
			default:
			}
		}
	}()

	n := 0
	var pg *page
	readErr := func() error {
		var carry []byte // the unfinished chunk at the end of the previous block
		var offset uint64
		eof := false
		for !eof {
			var blk *block
			select {
			case blk = <-free:
			case <-ctx.Done():
				return nil
			}
			blk.refs.Store(1) // the reader's own reference
			end := copy(blk.buf, carry)
			for end < len(blk.buf) && !eof {
				m, err := r.Read(blk.buf[end:])
				end += m
				if errors.Is(err, io.EOF) {
					eof = true
				} else if err != nil {
					release(blk)
					return fmt.Errorf("reading input at offset %d: %w", offset+uint64(end), err)
				}
			}
			pos := 0
			for pos < end {
				size := ck.Next(blk.buf[pos:end], eof)
				if size == 0 {
					break
				}
				if pg == nil || pg.n == pageSize {
					if pg != nil {
						select {
						case full <- pg:
						case <-ctx.Done():
							pg = nil // its entries are not needed
							release(blk)
							return nil
						}
					}
					select {
					case pg = <-freePages:
						pg.n = 0
					default:
						pg = new(page)
					}
				}
				slot := &pg.chunks[pg.n]
				*slot = caindex.Chunk{Start: offset, Size: uint64(size)}
				pg.n++
				n++
				blk.refs.Add(1)
				pg.named.Add(1)
				select {
				case jobs <- makeJob{data: blk.buf[pos : pos+size], slot: slot, pg: pg, blk: blk}:
				case <-ctx.Done():
					release(blk)
					release(blk)
					pg.named.Done()
					return nil
				}
				pos += size
				offset += uint64(size)
			}
			carry = blk.buf[pos:end] // copied into the next block before this one can be reused
			release(blk)
		}
		stats.Bytes = offset
		return nil
	}()
	close(jobs)
	if pg != nil {
		full <- pg
	}
	close(full)
	wg.Wait()
	<-indexDone
	if readErr != nil {
		return nil, stats, readErr
	}
	if err := context.Cause(ctx); err != nil {
		return nil, stats, err
	}
	// The index is the commit record: its chunks must be durable first.
	if f, ok := o.Store.(chunk.Flusher); ok {
		if err := f.Flush(ctx); err != nil {
			return nil, stats, err
		}
	}

	ix := hdr
	if iw != nil {
		if err := iw.Close(); err != nil {
			return nil, stats, fmt.Errorf("writing the index: %w", err)
		}
	} else {
		ix.Chunks = make([]caindex.Chunk, 0, n)
		for _, p := range kept {
			ix.Chunks = append(ix.Chunks, p.chunks[:p.n]...)
		}
	}
	stats.Chunks = n
	stats.UniqueChunks = len(w.unique)
	stats.StoredChunks = int(w.stored.Load())
	stats.StoredBytes = w.storedBytes.Load()
	stats.InStore = int(w.inStore.Load())
	return ix, stats, nil
}

type makeWorker struct {
	o           MakeOptions
	mu          sync.Mutex
	unique      map[uint64]struct{} // with CountUnique: the first 8 bytes of every ID named
	recent      recentIDs           // with a store: IDs this run handled lately
	stored      atomic.Int64
	storedBytes atomic.Uint64
	inStore     atomic.Int64
}

// hashGroup is the most chunks a make worker takes at once. Their digests
// are computed together (chunk.Digest.SumEach), which with SHA-512/256 on
// AVX2 needs about 40% less CPU than one by one; eight is enough for the
// lanes to stay full most of the time.
const hashGroup = 8

// group is the jobs a worker took at once and their IDs.
type group struct {
	jobs  []makeJob
	plain [][]byte
	ids   []chunk.ID
}

// take makes g the job j and those of the next ones that are already
// waiting in jobs, up to hashGroup.
func (g *group) take(j makeJob, jobs <-chan makeJob) {
	g.jobs = append(g.jobs[:0], j)
	for len(g.jobs) < hashGroup {
		select {
		case j, ok := <-jobs:
			if !ok {
				return
			}
			g.jobs = append(g.jobs, j)
		default:
			return
		}
	}
}

// name computes the IDs of g's chunks, all at once, into their index
// slots.
func (w *makeWorker) name(g *group) {
	g.plain = g.plain[:0]
	for _, j := range g.jobs {
		g.plain = append(g.plain, j.data)
	}
	g.ids = slices.Grow(g.ids[:0], len(g.plain))[:len(g.plain)]
	w.o.Digest.SumEach(g.ids, g.plain)
	for i, j := range g.jobs {
		j.slot.ID = g.ids[i]
	}
}

// handle counts j's chunk and, with a store, writes it there unless this
// run or the store already has it.
func (w *makeWorker) handle(ctx context.Context, j makeJob) error {
	id := j.slot.ID
	w.mu.Lock()
	first := true
	if w.unique != nil {
		p := binary.LittleEndian.Uint64(id[:8])
		_, seen := w.unique[p]
		first = !seen
		w.unique[p] = struct{}{}
	}
	dup := w.o.Store != nil && w.recent.add(id)
	w.mu.Unlock()
	if w.o.Store == nil || dup {
		return nil
	}
	has, err := w.o.Store.HasChunk(ctx, id)
	if err != nil {
		return fmt.Errorf("chunk %s at offset %d: %w", id, j.slot.Start, err)
	}
	if has {
		if first {
			w.inStore.Add(1)
		}
		return nil
	}
	// The block is reused once this job is done, and stores may keep the
	// chunk's plain form; Stored encodes from it right away, so the chunk does
	// not outlive the call.
	if err := w.o.Store.StoreChunk(ctx, chunk.New(id, j.data)); err != nil {
		return fmt.Errorf("chunk %s at offset %d: %w", id, j.slot.Start, err)
	}
	w.stored.Add(1)
	w.storedBytes.Add(uint64(len(j.data)))
	return nil
}

// recentMax is how many distinct chunk IDs make remembers, at least, to
// store a repeated chunk once without asking the store: 16384, about a GiB
// of input at casync's default sizes, in two maps of at most that many
// entries (about 1.5 MiB in all). A chunk that comes again later costs a
// HasChunk.
const recentMax = 1 << 14

// recentIDs remembers the IDs added lately: those of the current
// generation and of the one before it.
type recentIDs struct{ cur, old map[chunk.ID]struct{} }

// add adds id and reports whether it was there already.
func (r *recentIDs) add(id chunk.ID) bool {
	if _, ok := r.cur[id]; ok {
		return true
	}
	_, had := r.old[id]
	if len(r.cur) >= recentMax || r.cur == nil {
		clear(r.old)
		r.old, r.cur = r.cur, r.old
		if r.cur == nil {
			r.cur = make(map[chunk.ID]struct{})
		}
	}
	r.cur[id] = struct{}{}
	return had
}
