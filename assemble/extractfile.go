package assemble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// ExtractOptions configure [ExtractFile], [ExtractStream] and [ExtractWriter].
type ExtractOptions struct {
	// Store supplies the chunks no seed has.
	Store chunk.Store
	// Concurrency is the number of chunks fetched, and seed ranges copied,
	// in parallel; 0 means GOMAXPROCS.
	Concurrency int
	// Seeds are data already on the target to copy or clone from.
	// ExtractWriter, which has no plan, reads each chunk a seed holds from
	// the seed (verified) instead of fetching it.
	Seeds []Seed
	// InvalidSeeds is what to do when a seed's data does not match its index.
	InvalidSeeds InvalidSeedAction
	// InPlace writes into the existing output (a file or a block device)
	// instead of a temporary file, leaving the chunks that are already at
	// the right offset as they are (ExtractFile only). It is not atomic: a
	// failed or cancelled extraction leaves a mix of old and new data.
	InPlace bool
	// NoReflink copies seed data even where it could be cloned.
	NoReflink bool
	// NoSync skips making the output durable: no fsync before the rename
	// (or at the end, in place) and no early writeback. The output is still
	// complete and verified when ExtractFile returns, and still replaces path
	// atomically, but a crash soon after may leave path with data that never
	// reached the disk. casync and desync extract this way; it suits outputs
	// the caller syncs itself, or can simply extract again.
	NoSync bool
	// syncer makes the output durable (nil: storage.SystemSync); tests
	// observe the syncs through it.
	syncer storage.Syncer
	// Progress, if set, follows the extraction (not ExtractWriter): a phase
	// "Chunking seed N" for each seed without an index, then "Assembling",
	// whose Add calls add up to the index's size when it succeeds (its
	// total is that size; for ExtractStream, the reader's SizeHint).
	Progress Progress
}

// ExtractStats describe a finished extraction. The JSON keys are desync's
// --print-stats keys where desync has the same figure.
type ExtractStats struct {
	ChunksTotal          int    `json:"chunks-total"`
	BytesTotal           uint64 `json:"bytes-total"`
	ChunksFromStore      int    `json:"chunks-from-store"` // chunk occurrences filled from the store
	BytesFromStore       uint64 `json:"bytes-from-store"`
	ChunksFetched        int    `json:"chunks-fetched"` // chunk reads from the store (each distinct chunk once per plan window)
	ChunksZero           int    `json:"chunks-zero"`    // all-zero chunks left as (or made) holes
	ChunksFromSeeds      int    `json:"chunks-from-seeds"`
	ChunksInPlace        int    `json:"chunks-in-place"`
	BytesCopiedFromSeeds uint64 `json:"bytes-copied-from-seeds"`
	BytesClonedFromSeeds uint64 `json:"bytes-cloned-from-seeds"`
	BlockSize            uint64 `json:"blocksize"` // the output's file system block size
	Seeds                int    `json:"seeds"`
	// InvalidSeeds names the seeds found not to match their index (with
	// InvalidSeedSkip or InvalidSeedRegenerate): chunks were to come from
	// them that came from the store.
	InvalidSeeds []string `json:"invalid-seeds,omitempty"`
	// RegeneratedSeeds names the seeds whose index did not match their
	// data and was made again, in memory, from the data
	// (InvalidSeedRegenerate).
	RegeneratedSeeds []string `json:"regenerated-seeds,omitempty"`
}

// Progress follows a long operation made of phases.
type Progress interface {
	// Phase starts a phase of total bytes; the previous one is over.
	Phase(name string, total int64)
	// Add counts n more bytes of the phase done (n may be negative when
	// work is redone). It is called from several goroutines.
	Add(n int64)
}

type noProgress struct{}

func (noProgress) Phase(string, int64) {}
func (noProgress) Add(int64)           {}

// pieceSize bounds the seed data one worker reads, verifies and writes at
// a time; a seed run longer than that is split at chunk boundaries. With
// desync's 10 workers, 1 MiB pieces keep a seeded extract near 40 MiB of
// memory (4 MiB pieces took it to 64 MiB) at no cost in speed.
const pieceSize = 1 << 20

// zeroPiece bounds the run of null chunks one in-place task zeroes.
const zeroPiece = 64 << 20

// ExtractFile rebuilds the file of ix at path.
//
// It plans first: every chunk of the output comes from exactly one place.
// All-zero chunks of the index's max size are holes. With InPlace, chunks
// the output already holds at the right offset stay. Runs of chunks that a
// seed holds in the same order are copied from the longest such run (of
// equally long runs, the one that can be cloned); on file systems with
// reflinks (Btrfs, XFS) the blocks of a run aligned alike in the seed and
// the output are cloned rather than copied. The remaining chunks are fetched
// from the store and written at every offset it occurs (so a repeated chunk
// is copied from memory, not fetched again). Then it executes the plan on
// Concurrency workers. The plan is made and run for 16384 chunks of the
// index at a time (about 1 GiB at casync's default sizes), so that its
// memory stays the same for any index: each distinct chunk is fetched once
// per window. Seed data is hashed
// once, as it is read (cloned data is read back from the output and
// hashed); a chunk that does not match is handled per InvalidSeeds.
//
// Without InPlace the data goes to a temporary file next to path that
// replaces path only when every chunk is written and synced: on any error,
// or when ctx is cancelled, path is left as it was and the temporary file
// is removed. An existing file keeps its permissions. Unless NoSync, the
// output is on stable storage before it replaces path, and the directory
// is synced after. A temporary file of path that a killed extraction left
// behind is removed first (storage.WriteFileAtomic).
func ExtractFile(ctx context.Context, ix *caindex.Index, path string, o ExtractOptions) (stats ExtractStats, err error) {
	if o.Progress == nil {
		o.Progress = noProgress{}
	}
	if o.InPlace {
		return extractInPlace(ctx, ix, path, o)
	}
	if err := checkReplaceable(path); err != nil {
		return stats, err
	}
	seeds, err := openSeeds(ctx, ix, o)
	if err != nil {
		return stats, err
	}
	defer closeSeeds(seeds)
	err = replaceFile(path, o, func(f *os.File) error {
		if err := f.Truncate(int64(ix.Size())); err != nil {
			return err
		}
		o.Progress.Phase("Assembling", int64(ix.Size()))
		stats, err = newExtraction(ix, f, seeds, o).run(ctx)
		return err
	})
	return stats, err
}

// ExtractStream is ExtractFile for an index read as the extraction goes:
// it plans and writes 16384 chunks of the index at a time, so that its
// memory stays the same however long the index is. It takes no Seeds and
// no InPlace, which need the whole index. Progress's total is
// r.SizeHint(). An index that turns out to be invalid halfway fails the
// extraction like any other error: path is left as it was.
func ExtractStream(ctx context.Context, r *caindex.Reader, path string, o ExtractOptions) (stats ExtractStats, err error) {
	if len(o.Seeds) > 0 || o.InPlace {
		return stats, errors.New("a streamed extraction takes no seeds and is not in place")
	}
	if o.Progress == nil {
		o.Progress = noProgress{}
	}
	if err := checkReplaceable(path); err != nil {
		return stats, err
	}
	win := r.Header()
	win.Chunks = make([]caindex.Chunk, 0, planWindow)
	err = replaceFile(path, o, func(f *os.File) error {
		x := newExtraction(win, f, nil, o)
		x.next = func() (bool, error) {
			win.Chunks = win.Chunks[:0]
			for len(win.Chunks) < planWindow {
				c, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return false, err
				}
				win.Chunks = append(win.Chunks, c)
			}
			return len(win.Chunks) > 0, nil
		}
		o.Progress.Phase("Assembling", int64(r.SizeHint()))
		if stats, err = x.run(ctx); err != nil {
			return err
		}
		// The holes at the end, if any, are made by the size.
		return f.Truncate(int64(stats.BytesTotal))
	})
	return stats, err
}

// sync returns what makes the output durable.
func (o ExtractOptions) sync() storage.Syncer {
	switch {
	case o.NoSync:
		return storage.NoSync{}
	case o.syncer != nil:
		return o.syncer
	}
	return storage.SystemSync{}
}

// checkReplaceable fails unless path is a regular file or does not exist.
func checkReplaceable(path string) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("output %s is not a regular file (use in-place extraction for devices)", path)
	}
	return nil
}

// replaceFile is storage.WriteFileAtomic for an output: synced unless
// o.NoSync, and an existing file keeps its permissions (a new one gets 0644).
func replaceFile(path string, o ExtractOptions, fill func(f *os.File) error) error {
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return storage.WriteFileAtomic(path, 0o600, o.sync(), func(f *os.File) error {
		if err := fill(f); err != nil {
			return err
		}
		return f.Chmod(mode)
	})
}

// extractInPlace is ExtractFile with InPlace.
func extractInPlace(ctx context.Context, ix *caindex.Index, path string, o ExtractOptions) (stats ExtractStats, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return stats, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return stats, err
	}
	for _, s := range o.Seeds {
		if sfi, err := os.Stat(s.Path); err == nil && os.SameFile(fi, sfi) {
			return stats, fmt.Errorf("seed %s is the output; in place, the output is used as it is without naming it as a seed", s.Path)
		}
	}
	want := int64(ix.Size())
	switch {
	case fi.Mode().IsRegular():
		// Data past the new end is never needed: in place, a chunk is
		// taken only from its own offset.
		if fi.Size() != want {
			if err := f.Truncate(want); err != nil {
				return stats, err
			}
		}
	case fi.Mode()&fs.ModeDevice != 0 && fi.Mode()&fs.ModeCharDevice == 0:
		size, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			return stats, err
		}
		if size < want {
			return stats, fmt.Errorf("output %s: the device holds %d bytes, the index needs %d", path, size, want)
		}
	default:
		return stats, fmt.Errorf("output %s is neither a regular file nor a block device", path)
	}
	seeds, err := openSeeds(ctx, ix, o)
	if err != nil {
		return stats, err
	}
	defer closeSeeds(seeds)
	o.Progress.Phase("Assembling", int64(ix.Size()))
	if stats, err = newExtraction(ix, f, seeds, o).run(ctx); err != nil {
		return stats, err
	}
	if err := o.sync().SyncFile(f); err != nil {
		return stats, err
	}
	return stats, nil
}

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
			runTasks(ctx, cancel, workers, x.plan(locs, inPlace, lo, min(lo+planWindow, len(cs))))
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

// runTasks runs tasks on workers goroutines until they are done or one
// fails, which cancels ctx with its error.
func runTasks(ctx context.Context, cancel context.CancelCauseFunc, workers int, tasks []task) {
	var next atomic.Int64
	var wg sync.WaitGroup
	n := min(workers, max(len(tasks), 1))
	defer chunk.HashWorkers(n)() // tasks hash what they fetch or copy
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= len(tasks) {
					return
				}
				if err := tasks[k](ctx); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// checkInPlace returns tasks that read the output and mark the chunks it
// already holds at their offsets.
func (x *extraction) checkInPlace(inPlace []bool) []task {
	var tasks []task
	cs := x.ix.Chunks
	for i := 0; i < len(cs); {
		n := piece(cs[i:], pieceSize)
		first := i
		tasks = append(tasks, func(ctx context.Context) error {
			bad, err := x.outputMismatches(cs[first : first+n])
			if err != nil {
				return err
			}
			for j := first; j < first+n; j++ {
				inPlace[j] = true
			}
			for _, j := range bad {
				inPlace[first+j] = false
			}
			return nil
		})
		i += n
	}
	return tasks
}

// outputMismatches returns the indexes of the consecutive chunks cs that
// the output does not hold at their offsets.
func (x *extraction) outputMismatches(cs []caindex.Chunk) ([]int, error) {
	bad, err := mismatchesAt(x.out, x.bufs, x.ix.Digest(), x.isNull, cs)
	if err != nil {
		return nil, fmt.Errorf("reading the output: %w", err)
	}
	return bad, nil
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

// seedLoc is a chunk of a seed's index.
type seedLoc struct {
	seed  *seedFile
	chunk int
}

// maxSeedLocs bounds the places a chunk is looked for in the seeds; a chunk
// that occurs more often than that (not the zero chunk, which is a hole)
// only shortens some runs.
const maxSeedLocs = 8

// planWindow is the number of index chunks planned at once: 16384, about
// 1 GiB of output at casync's default chunk sizes. A chunk that repeats
// within a window is fetched once; one that comes again in a later window
// is fetched again.
const planWindow = 1 << 14

// seedLocs maps the chunk IDs of the seeds to where the seeds hold them.
func (x *extraction) seedLocs() map[chunk.ID][]seedLoc {
	locs := map[chunk.ID][]seedLoc{}
	for _, s := range x.seeds {
		if s.invalid.Load() {
			continue
		}
		for k, c := range s.ix.Chunks {
			if l := locs[c.ID]; len(l) < maxSeedLocs {
				locs[c.ID] = append(l, seedLoc{s, k})
			}
		}
	}
	return locs
}

// plan decides where the chunks [lo, hi) of the output come from and returns
// the work, in output order. locs are the seeds' chunks (seedLocs); inPlace,
// if not nil, marks the chunks the output already holds.
func (x *extraction) plan(locs map[chunk.ID][]seedLoc, inPlace []bool, lo, hi int) []task {
	cs := x.ix.Chunks[:hi]
	usable := func(i int) bool { return !x.isNull(cs[i]) && (inPlace == nil || !inPlace[i]) }

	tasks := make([]task, 0, hi-lo)
	// Each distinct chunk the store provides is one task, made at its
	// first occurrence; repeats holds all the occurrences of the few that
	// occur again. Only the tasks and repeats outlive the planning.
	firstAt := map[chunk.ID]int{}
	repeats := map[int][]int{}
	for i := lo; i < len(cs); {
		c := cs[i]
		switch {
		case inPlace != nil && inPlace[i]:
			x.inPlaceN.Add(1)
			x.o.Progress.Add(int64(c.Size))
			i++
			continue
		case x.isNull(c):
			// A run of null chunks is one hole.
			j := i + 1
			for j < len(cs) && x.isNull(cs[j]) && (inPlace == nil || !inPlace[j]) {
				j++
			}
			x.zero.Add(int64(j - i))
			if inPlace == nil {
				x.o.Progress.Add(int64(cs[j-1].End() - c.Start))
				i = j
				continue
			}
			// In place, a long run is zeroed by several workers, in case
			// the device cannot punch holes and the zeros are written.
			for i < j {
				n := piece(cs[i:j], zeroPiece)
				tasks = append(tasks, x.zeroTask(cs[i].Start, cs[i+n-1].End()))
				i += n
			}
			continue
		}
		// The longest run of chunks from i on that a seed holds in order.
		var best seedLoc
		bestN, bestAligned := 0, false
		for _, l := range locs[c.ID] {
			if l.seed.invalid.Load() {
				continue
			}
			sc := l.seed.ix.Chunks
			n := 0
			for i+n < len(cs) && l.chunk+n < len(sc) && usable(i+n) &&
				sc[l.chunk+n].ID == cs[i+n].ID && sc[l.chunk+n].Size == cs[i+n].Size {
				n++
			}
			aligned := sc[l.chunk].Start%x.blockSize == c.Start%x.blockSize
			if n > bestN || (n == bestN && n > 0 && aligned && !bestAligned) {
				best, bestN, bestAligned = l, n, aligned
			}
		}
		if bestN == 0 {
			if f, ok := firstAt[c.ID]; ok {
				if repeats[f] == nil {
					repeats[f] = []int{f}
				}
				repeats[f] = append(repeats[f], i)
			} else {
				firstAt[c.ID] = i
				first := i // repeats is complete before any task runs
				tasks = append(tasks, func(ctx context.Context) error {
					idx := repeats[first]
					if idx == nil {
						idx = []int{first}
					}
					return x.fillFromStore(ctx, idx)
				})
			}
			i++
			continue
		}
		for end := i + bestN; i < end; {
			n := piece(cs[i:end], pieceSize)
			tasks = append(tasks, x.seedTask(best.seed, i, best.chunk, n))
			best.chunk += n
			i += n
		}
	}
	return tasks
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
			err = readFull(s.f, buf, sOff)
		} else {
			// Only the partial blocks at the ends are copied. Unless
			// the seed is trusted, what was cloned is read back from
			// the output to be verified: the data the output now holds.
			err = readFull(s.f, buf[:head], sOff)
			if err == nil {
				err = readFull(s.f, buf[head+mid:], sOff+head+mid)
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
	return reflinkSupported && !x.o.NoReflink && !s.noClone.Load() &&
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
