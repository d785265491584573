package assemble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage/workpool"
)

// pieceSize bounds the seed data one worker reads, verifies and writes at
// a time; a seed run longer than that is split at chunk boundaries. With
// desync's 10 workers, 1 MiB pieces keep a seeded extract near 40 MiB of
// memory (4 MiB pieces took it to 64 MiB) at no cost in speed.
const pieceSize = 1 << 20

// zeroPiece bounds the run of null chunks one in-place task zeroes.
const zeroPiece = 64 << 20

// extraction is one run of ExtractFile: the plan and its execution.
type extraction struct {
	ix    *caindex.Index
	out   *os.File
	seeds []*seedFile
	o     ExtractOptions // InPlace: out is the target itself
	// next, if set, replaces ix.Chunks with the next part of the index and
	// reports whether there was one (ExtractStream); without it, ix is the
	// whole index.
	next      func() (bool, error)
	isNull    func(caindex.Chunk) bool
	blockSize uint64
	bufs      *sync.Pool // piece buffers (newPiecePool)
	zeros     func() []byte

	fetched, fromStore, fromSeeds, zero, inPlaceN atomic.Int64
	fromStoreBytes, copied, cloned, written       atomic.Uint64
}

func newExtraction(ix *caindex.Index, out *os.File, seeds []*seedFile, o ExtractOptions) *extraction {
	x := &extraction{ix: ix, out: out, seeds: seeds, o: o, isNull: nullChunks(ix), blockSize: fileBlockSize(out)}
	x.bufs = newPiecePool(ix)
	// Zeros are written only where holes cannot be punched (in place, on
	// a device), a piece at a time.
	x.zeros = sync.OnceValue(func() []byte { return make([]byte, max(pieceSize, int(ix.Max))) })
	return x
}

// task is one unit of work of the plan.
type task func(ctx context.Context) error

func (x *extraction) run(ctx context.Context) (ExtractStats, error) {
	stats := ExtractStats{BlockSize: x.blockSize, Seeds: len(x.seeds)}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := workerCount(x.o.Concurrency)

	var inPlace []bool
	if x.o.InPlace {
		inPlace = make([]bool, len(x.ix.Chunks))
		runTasks(ctx, cancel, workers, x.checkInPlace(inPlace))
		if err := context.Cause(ctx); err != nil {
			return stats, err
		}
	}
	// The plan is made and run a window of the index at a time, so that
	// its memory does not grow with the index; with next, the index
	// itself comes a window at a time.
	locs := x.seedLocs()
	for ctx.Err() == nil {
		if x.next != nil {
			more, err := x.next()
			if err != nil {
				cancel(err)
			}
			if !more {
				break
			}
		}
		cs := x.ix.Chunks
		stats.ChunksTotal += len(cs)
		if len(cs) > 0 {
			stats.BytesTotal = cs[len(cs)-1].End()
		}
		for lo := 0; lo < len(cs) && ctx.Err() == nil; lo += planWindow {
			runTasks(ctx, cancel, workers, x.tasks(x.plan(locs, inPlace, lo, min(lo+planWindow, len(cs)))))
		}
		if x.next == nil {
			break
		}
	}
	if ctx.Err() == nil {
		runTasks(ctx, cancel, workers, x.recheckSeeds())
	}

	stats.ChunksFetched = int(x.fetched.Load())
	stats.ChunksFromStore = int(x.fromStore.Load())
	stats.BytesFromStore = x.fromStoreBytes.Load()
	stats.ChunksZero = int(x.zero.Load())
	stats.ChunksFromSeeds = int(x.fromSeeds.Load())
	stats.ChunksInPlace = int(x.inPlaceN.Load())
	stats.BytesCopiedFromSeeds = x.copied.Load()
	stats.BytesClonedFromSeeds = x.cloned.Load()
	stats.InvalidSeeds = invalidSeeds(x.seeds)
	stats.RegeneratedSeeds = rebuiltSeeds(x.seeds)
	return stats, context.Cause(ctx)
}

// tasks turns the steps of a plan into the work that executes them. The
// steps that need no work (chunks in place, holes of a new file) are
// counted here; every other is counted by its task as it is done.
func (x *extraction) tasks(steps []step) []task {
	// The chunks each fromStore step writes: its own and its repeats'.
	targets := map[int][]int{}
	for _, s := range steps {
		if s.kind == fromRepeat {
			if targets[s.of] == nil {
				targets[s.of] = []int{steps[s.of].first}
			}
			targets[s.of] = append(targets[s.of], s.first)
		}
	}
	tasks := make([]task, 0, len(steps))
	for k, s := range steps {
		switch s.kind {
		case fromSelf:
			x.inPlaceN.Add(int64(s.n))
			x.o.Progress.Add(int64(s.length))
		case zeroHole:
			x.zero.Add(int64(s.n))
			if !x.o.InPlace {
				x.o.Progress.Add(int64(s.length))
				continue
			}
			tasks = append(tasks, x.zeroTask(s.target, s.target+s.length))
		case fromStore:
			first := s.first // targets is complete before any task runs
			tasks = append(tasks, func(ctx context.Context) error {
				idx := targets[k]
				if idx == nil {
					idx = []int{first}
				}
				return x.fillFromStore(ctx, idx)
			})
		case fromSeed:
			tasks = append(tasks, x.seedTask(s.seed, s.first, s.seedFirst, s.n))
		}
	}
	return tasks
}

// runTasks runs tasks on workers goroutines until they are done or one
// fails, which cancels ctx with its error.
func runTasks(ctx context.Context, cancel context.CancelCauseFunc, workers int, tasks []task) {
	defer chunk.HashWorkers(min(workers, max(len(tasks), 1)))() // tasks hash what they fetch or copy
	if err := workpool.Each(ctx, workers, tasks, func(ctx context.Context, t task) error { return t(ctx) }); err != nil {
		cancel(err)
	}
}

// newPiecePool returns a pool of buffers that hold a piece of ix: up to
// pieceSize bytes of chunks, or one chunk of the largest size.
func newPiecePool(ix *caindex.Index) *sync.Pool {
	size := max(pieceSize, int(ix.Max))
	return &sync.Pool{New: func() any { b := make([]byte, size); return &b }}
}

// mismatchesAt reads the bytes of the consecutive chunks cs from r (zeros
// past its end) into a buffer of bufs and returns the indexes of the chunks
// they do not match (mismatches). Errors name the offset.
func mismatchesAt(r io.ReaderAt, bufs *sync.Pool, d chunk.Digest, isNull func(caindex.Chunk) bool, cs []caindex.Chunk) ([]int, error) {
	bp := bufs.Get().(*[]byte)
	defer bufs.Put(bp)
	start := cs[0].Start
	buf := (*bp)[:cs[len(cs)-1].End()-start]
	if err := readFull(r, buf, start); err != nil {
		return nil, fmt.Errorf("reading at offset %d: %w", start, err)
	}
	return mismatches(d, isNull, cs, buf), nil
}

// mismatches returns the indexes of the consecutive chunks cs whose bytes
// in buf (which starts at cs[0].Start) are not theirs: the index's null
// chunk (isNull) is compared with zeros, any other is hashed with d.
func mismatches(d chunk.Digest, isNull func(caindex.Chunk) bool, cs []caindex.Chunk, buf []byte) []int {
	base := cs[0].Start
	plain := make([][]byte, len(cs)) // nil for the null chunks
	for j, c := range cs {
		if !isNull(c) {
			plain[j] = buf[c.Start-base : c.End()-base]
		}
	}
	ids := make([]chunk.ID, len(cs))
	d.SumEach(ids, plain) // the piece's chunks hashed together
	var bad []int
	for j, c := range cs {
		if plain[j] == nil && !isZero(buf[c.Start-base:c.End()-base]) || plain[j] != nil && ids[j] != c.ID {
			bad = append(bad, j)
		}
	}
	return bad
}

// piece returns how many of the chunks cs (at least one) fit in size bytes.
func piece(cs []caindex.Chunk, size uint64) int {
	n := 1
	for n < len(cs) && cs[n].End()-cs[0].Start <= size {
		n++
	}
	return n
}

// fillFromStore fetches the chunk at the output's chunks idx (all with one
// ID) once and writes it to each.
func (x *extraction) fillFromStore(ctx context.Context, idx []int) error {
	cs := x.ix.Chunks
	first := cs[idx[0]]
	b, ch, err := fetch(ctx, x.o.Store, first)
	if err != nil {
		return err
	}
	defer ch.Release()
	x.fetched.Add(1)
	hole := !x.o.InPlace && isZero(b)
	for _, i := range idx {
		c := cs[i]
		if c.Size != first.Size {
			return fmt.Errorf("chunk %s at offset %d: index gives it %d bytes, %d at offset %d", c.ID, c.Start, c.Size, first.Size, first.Start)
		}
		if hole {
			x.zero.Add(1)
		} else {
			if err := x.writeAt(b, c.Start); err != nil {
				return fmt.Errorf("writing chunk %s at offset %d: %w", c.ID, c.Start, err)
			}
			x.fromStore.Add(1)
			x.fromStoreBytes.Add(c.Size)
		}
		x.o.Progress.Add(int64(c.Size))
	}
	return nil
}

// zeroTask makes the output's bytes [start, end) all zeros (in place only):
// a hole where the file system can punch one, written zeros elsewhere.
func (x *extraction) zeroTask(start, end uint64) task {
	return func(ctx context.Context) error {
		if !punchHole(x.out, int64(start), int64(end-start)) {
			for off := start; off < end; {
				n := min(end-off, uint64(len(x.zeros())))
				if err := x.writeAt(x.zeros()[:n], off); err != nil {
					return fmt.Errorf("zeroing the output at offset %d: %w", off, err)
				}
				off += n
			}
		}
		x.o.Progress.Add(int64(end - start))
		return nil
	}
}

// seedTask fills the n output chunks from first on with the seed's chunks
// from seedFirst on (the same IDs, in the same order).
func (x *extraction) seedTask(s *seedFile, first, seedFirst, n int) task {
	return func(ctx context.Context) error {
		cs := x.ix.Chunks[first : first+n]
		ss := s.ix.Chunks[seedFirst : seedFirst+n]
		if s.invalid.Load() {
			return x.fillEachFromStore(ctx, first, n)
		}
		tOff, sOff := cs[0].Start, ss[0].Start
		length := cs[n-1].End() - tOff
		bp := x.bufs.Get().(*[]byte)
		defer x.bufs.Put(bp)
		buf := (*bp)[:length]

		// Clone the whole blocks of the range, if the seed and the output
		// are aligned alike; the partial blocks at its ends are copied.
		var head, mid uint64
		if x.canClone(s, tOff, sOff, length) {
			bs := x.blockSize
			head = (bs - tOff%bs) % bs
			mid = (tOff+length)/bs*bs - (tOff + head)
			if err := cloneRange(x.out, s.f, int64(sOff+head), int64(tOff+head), int64(mid)); err != nil {
				s.noClone.Store(true)
				mid = 0
			}
		}
		var err error
		if mid == 0 {
			err = readFull(s.data, buf, sOff)
		} else {
			// Only the partial blocks at the ends are copied. Unless
			// the seed is trusted, what was cloned is read back from
			// the output to be verified: the data the output now holds.
			err = readFull(s.data, buf[:head], sOff)
			if err == nil {
				err = readFull(s.data, buf[head+mid:], sOff+head+mid)
			}
			if err == nil && !s.trusted {
				err = readFull(x.out, buf[head:head+mid], tOff+head)
			}
		}
		if err != nil {
			return fmt.Errorf("seed %s at offset %d: %w", s.name, sOff, err)
		}

		var bad []int
		if s.trusted {
			s.mu.Lock()
			s.used = append(s.used, seedRange{first, seedFirst, n})
			s.mu.Unlock()
		} else {
			bad = mismatches(x.ix.Digest(), x.isNull, cs, buf)
		}
		if len(bad) > 0 {
			j := bad[0]
			if x.o.InvalidSeeds == InvalidSeedFail {
				return s.mismatch(ss[j], "the data does not match the index (the seed changed)")
			}
			s.invalid.Store(true)
		}

		if mid > 0 {
			err = x.writeAt(buf[:head], tOff)
			if err == nil {
				err = x.writeAt(buf[head+mid:], tOff+head+mid)
			}
		} else {
			err = x.writeAt(buf, tOff)
		}
		if err != nil {
			return fmt.Errorf("writing seed data at offset %d: %w", tOff, err)
		}
		for _, j := range bad {
			if err := x.fillFromStore(ctx, []int{first + j}); err != nil {
				return err
			}
		}
		good := length
		for _, j := range bad {
			good -= cs[j].Size
		}
		x.fromSeeds.Add(int64(n - len(bad)))
		x.cloned.Add(mid)
		x.copied.Add(length - mid)
		x.o.Progress.Add(int64(good))
		return nil
	}
}

// recheckSeeds returns tasks that verify, in the output, the data taken
// without hashing from seeds whose file changed during the run.
func (x *extraction) recheckSeeds() []task {
	var tasks []task
	for _, s := range x.seeds {
		if !s.trusted || len(s.used) == 0 || !s.changed() {
			continue
		}
		for _, r := range s.used {
			tasks = append(tasks, func(ctx context.Context) error {
				cs := x.ix.Chunks[r.first : r.first+r.n]
				bad, err := x.outputMismatches(cs)
				if err != nil {
					return err
				}
				for _, j := range bad {
					if x.o.InvalidSeeds == InvalidSeedFail {
						sc := s.ix.Chunks[r.seedFirst+j]
						return &SeedError{Seed: s.name, Offset: sc.Start, ID: sc.ID, Reason: "the seed changed during the extraction"}
					}
					s.invalid.Store(true)
					x.fromSeeds.Add(-1)
					x.o.Progress.Add(-int64(cs[j].Size)) // counted again by the store
					if err := x.fillFromStore(ctx, []int{r.first + j}); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}
	return tasks
}

// fillEachFromStore fills the n output chunks from first on from the store.
func (x *extraction) fillEachFromStore(ctx context.Context, first, n int) error {
	for i := first; i < first+n; i++ {
		if err := x.fillFromStore(ctx, []int{i}); err != nil {
			return err
		}
	}
	return nil
}

func (x *extraction) canClone(s *seedFile, tOff, sOff, length uint64) bool {
	bs := x.blockSize
	return reflinkSupported && !x.o.NoReflink && s.f != nil && !s.noClone.Load() &&
		tOff%bs == sOff%bs && length >= 2*bs
}

// readFull reads len(b) bytes at off; a seed that ends early reads as
// zeros (which then fail verification).
func readFull(r io.ReaderAt, b []byte, off uint64) error {
	n, err := r.ReadAt(b, int64(off))
	if errors.Is(err, io.EOF) {
		clear(b[n:])
		return nil
	}
	return err
}

// writebackEvery is how much the output is written between two starts of
// its writeback: the final sync then finds little left to write, and the
// disk works while chunks are still being decoded.
const writebackEvery = 32 << 20

// writeAt writes b to the output at off.
func (x *extraction) writeAt(b []byte, off uint64) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := x.out.WriteAt(b, int64(off)); err != nil {
		return err
	}
	n := uint64(len(b))
	if w := x.written.Add(n); !x.o.NoSync && w/writebackEvery != (w-n)/writebackEvery {
		startWriteback(x.out)
	}
	return nil
}
