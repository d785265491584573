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
	"github.com/folbricht/desync/chunker"
)

// Seed is data already on the target (an earlier version of the file, the
// other partition of an A/B pair) that an extraction copies or clones
// instead of fetching chunks from the store.
type Seed struct {
	// Path is the seed's data: a file or a block device.
	Path string
	// Index lists the chunks of the data at Path. When nil, the data is
	// chunked while the extraction plans, with the chunk sizes and digest of
	// the index being extracted, so any file can serve as a seed.
	Index *caindex.Index
	// IndexPath is the file Index was read from; messages name it. An
	// extraction never writes it.
	IndexPath string
	// Data, when not nil, is the seed's data instead of the file at Path:
	// a stream that exists only as a reader, such as the archive an
	// earlier tree encodes to (untar's seeds). It needs Index; it is read,
	// verified like any seed, and never cloned from; Path only names it.
	Data SeedData
}

// SeedData is seed data that is not a file: its bytes and its length.
type SeedData interface {
	io.ReaderAt
	Size() int64
}

// InvalidSeedAction is what an extraction does when a seed's data does not
// match its index: the seed changed since its index was made, or while the
// extraction ran. A seed is found invalid only where the extraction takes
// chunks from it: a difference in a part of the seed the output does not
// need is no error.
type InvalidSeedAction int

const (
	// InvalidSeedFail stops the extraction with a [*SeedError] naming the
	// seed and the offset (the default).
	InvalidSeedFail InvalidSeedAction = iota
	// InvalidSeedSkip stops using the seed: the chunks it was to supply
	// come from the store instead, and the output is still exact.
	InvalidSeedSkip
	// InvalidSeedRegenerate checks, before the extraction, the seed's
	// chunks that the output needs against the seed's data; a seed that
	// does not match (or whose index names chunks with another digest)
	// is chunked again in memory, with the chunk sizes and digest of the
	// index being extracted, and used with that index. No file is
	// written: IndexPath stays as it is. A seed that changes during the
	// extraction then gives way to the store, as with InvalidSeedSkip.
	InvalidSeedRegenerate
)

// SeedError reports seed data that does not match the seed's index.
type SeedError struct {
	Seed   string   // the seed's data (and index, when it has one)
	Offset uint64   // where in the seed's data
	ID     chunk.ID // the chunk the index names there
	Reason string
}

func (e *SeedError) Error() string {
	return fmt.Sprintf("seed %s: chunk %s at offset %d: %s (use --skip-invalid-seeds or --regenerate-invalid-seeds to go on without it)",
		e.Seed, e.ID, e.Offset, e.Reason)
}

// seedFile is an open seed during one extraction.
type seedFile struct {
	Seed
	f       *os.File       // the seed's file; nil for Seed.Data
	data    io.ReaderAt    // f, or Seed.Data
	name    string         // for messages: "data" or "data (index x.caibx)"
	ix      *caindex.Index // its chunks; never nil once opened
	size    int64          // of its data when opened
	invalid atomic.Bool    // data found not to match ix
	rebuilt bool           // ix was made from the data (InvalidSeedRegenerate)
	noClone atomic.Bool    // cloning from it failed once; copy instead

	// A regular file chunked by this extraction was hashed as it was
	// chunked; its data is not hashed again while copied unless the file
	// changed (its size, modification or change time) by the end of the
	// run, when what was taken from it is verified in the output.
	trusted bool
	stamp   fileStamp
	mu      sync.Mutex
	used    []seedRange // what was taken from it
}

// seedRange is n chunks of the output from first on, taken from the seed's
// chunks from seedFirst on.
type seedRange struct{ first, seedFirst, n int }

// fileStamp is what changes when a file's data is written.
type fileStamp struct {
	size         int64
	mtime, ctime int64
}

func stampOf(fi os.FileInfo) fileStamp {
	return fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano(), ctime: changeTime(fi)}
}

// changed reports whether the seed's file changed since it was chunked.
func (s *seedFile) changed() bool {
	if s.f == nil {
		return false // never trusted
	}
	fi, err := s.f.Stat()
	return err != nil || stampOf(fi) != s.stamp
}

// openSeeds opens every seed and chunks those without an index (and, with
// InvalidSeedRegenerate, those whose index does not match their data).
func openSeeds(ctx context.Context, target *caindex.Index, o ExtractOptions) ([]*seedFile, error) {
	var out []*seedFile
	fail := func(err error) ([]*seedFile, error) {
		closeSeeds(out)
		return nil, err
	}
	for i, s := range o.Seeds {
		if s.Data != nil {
			if s.Index == nil {
				return fail(fmt.Errorf("seed %s: data without an index", s.name()))
			}
			sf := &seedFile{Seed: s, data: s.Data, name: s.name(), ix: s.Index, size: s.Data.Size()}
			out = append(out, sf)
			if err := sf.checkIndex(ctx, target, o, i+1); err != nil {
				return fail(err)
			}
			if sf.ix == nil { // not made again from data that is not a file: not used
				sf.ix, sf.rebuilt = s.Index, false
				sf.invalid.Store(true)
			}
			continue
		}
		f, err := os.Open(s.Path)
		if err != nil {
			if s.IndexPath != "" {
				return fail(fmt.Errorf("seed %s: its data: %w", s.IndexPath, err))
			}
			return fail(fmt.Errorf("seed: %w", err))
		}
		sf := &seedFile{Seed: s, f: f, data: f, name: s.name(), ix: s.Index}
		out = append(out, sf)
		if sf.size, err = f.Seek(0, io.SeekEnd); err != nil {
			return fail(fmt.Errorf("seed %s: %w", sf.name, err))
		}
		if sf.ix != nil {
			if err := sf.checkIndex(ctx, target, o, i+1); err != nil {
				return fail(err)
			}
		}
		if sf.ix == nil {
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				sf.trusted, sf.stamp = true, stampOf(fi)
			}
			o.Progress.Phase(fmt.Sprintf("Chunking seed %d", i+1), sf.size)
			if sf.ix, err = chunkSeed(ctx, f, target, o.Concurrency, o.Progress); err != nil {
				return fail(fmt.Errorf("seed %s: %w", sf.name, err))
			}
		}
	}
	return out, nil
}

// checkIndex decides what to do with the index of seed number n before the
// extraction. An index of another digest fails (InvalidSeedFail), makes
// the seed invalid (InvalidSeedSkip) or is dropped to be made again
// (InvalidSeedRegenerate). With InvalidSeedRegenerate the index is also
// dropped when the chunks of the seed that target has do not match the
// data; when they do, a regular file is trusted as one chunked by the run.
func (s *seedFile) checkIndex(ctx context.Context, target *caindex.Index, o ExtractOptions, n int) error {
	if err := sameDigest(s.name, s.ix, target); err != nil {
		switch o.InvalidSeeds {
		case InvalidSeedFail:
			return err
		case InvalidSeedSkip:
			s.invalid.Store(true)
		default:
			s.ix, s.rebuilt = nil, true
		}
		return nil
	}
	if o.InvalidSeeds != InvalidSeedRegenerate {
		return nil
	}
	if s.f == nil {
		ok, err := s.matches(ctx, target, o, n)
		if err == nil && !ok {
			s.ix, s.rebuilt = nil, true
		}
		return err
	}
	fi, err := s.f.Stat()
	if err != nil {
		return fmt.Errorf("seed %s: %w", s.name, err)
	}
	stamp := stampOf(fi) // before reading: a change from now on shows
	ok, err := s.matches(ctx, target, o, n)
	switch {
	case err != nil:
		return err
	case !ok:
		s.ix, s.rebuilt = nil, true
	case fi.Mode().IsRegular():
		s.trusted, s.stamp = true, stamp
	}
	return nil
}

// matches reports whether the seed's data holds, where its index says, every
// chunk of the index that target has too (all the extraction may take from
// it). It reads and hashes those chunks, a piece at a time, on Concurrency
// workers, and stops at the first that differs.
func (s *seedFile) matches(ctx context.Context, target *caindex.Index, o ExtractOptions, n int) (bool, error) {
	isNull := nullChunks(target) // holes: never taken from a seed
	want := make(map[chunk.ID]struct{}, len(target.Chunks))
	for _, c := range target.Chunks {
		if !isNull(c) {
			want[c.ID] = struct{}{}
		}
	}
	wanted := func(c caindex.Chunk) bool { _, ok := want[c.ID]; return ok }

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	errDiffers := errors.New("seed data differs from its index")
	bufs, d, seedNull := newPiecePool(s.ix), s.ix.Digest(), nullChunks(s.ix)
	var tasks []task
	var total int64
	cs := s.ix.Chunks
	for i := 0; i < len(cs); {
		if !wanted(cs[i]) {
			i++
			continue
		}
		k := 1
		for limit := piece(cs[i:], pieceSize); k < limit && wanted(cs[i+k]); k++ {
		}
		part := cs[i : i+k]
		size := int64(part[k-1].End() - part[0].Start)
		total += size
		tasks = append(tasks, func(ctx context.Context) error {
			bad, err := mismatchesAt(s.data, bufs, d, seedNull, part)
			if err != nil {
				return fmt.Errorf("seed %s: %w", s.name, err)
			}
			if len(bad) > 0 {
				return errDiffers
			}
			o.Progress.Add(size)
			return nil
		})
		i += k
	}
	o.Progress.Phase(fmt.Sprintf("Checking seed %d", n), total)
	runTasks(ctx, cancel, workerCount(o.Concurrency), tasks)
	switch err := context.Cause(ctx); {
	case errors.Is(err, errDiffers):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// mismatch is the error for the seed's chunk c found not to match its data.
func (s *seedFile) mismatch(c caindex.Chunk, reason string) *SeedError {
	if c.End() > uint64(s.size) {
		reason = fmt.Sprintf("the data is %d bytes, the index describes %d", s.size, s.ix.Size())
	}
	return &SeedError{Seed: s.name, Offset: c.Start, ID: c.ID, Reason: reason}
}

// invalidSeeds names the seeds found not to match their index.
func invalidSeeds(seeds []*seedFile) []string {
	return seedNames(seeds, func(s *seedFile) bool { return s.invalid.Load() })
}

// rebuiltSeeds names the seeds whose index was made again in memory.
func rebuiltSeeds(seeds []*seedFile) []string {
	return seedNames(seeds, func(s *seedFile) bool { return s.rebuilt })
}

func seedNames(seeds []*seedFile, pick func(*seedFile) bool) []string {
	var names []string
	for _, s := range seeds {
		if pick(s) {
			names = append(names, s.name)
		}
	}
	return names
}

func closeSeeds(seeds []*seedFile) {
	for _, s := range seeds {
		if s.f != nil {
			s.f.Close()
		}
	}
}

// name is how errors and stats name the seed: its data, and its index
// file if it has one.
func (s Seed) name() string {
	if s.IndexPath != "" {
		return fmt.Sprintf("%s (index %s)", s.Path, s.IndexPath)
	}
	return s.Path
}

// sameDigest checks that the seed index ix names its chunks as target does.
func sameDigest(name string, ix, target *caindex.Index) error {
	if ix.Digest() != target.Digest() {
		return fmt.Errorf("seed %s: its chunks are named by %s, the index's by %s", name, ix.Digest(), target.Digest())
	}
	return nil
}

// chunkSeed cuts the data of f with the chunk sizes of like and names its
// chunks with like's digest.
func chunkSeed(ctx context.Context, f *os.File, like *caindex.Index, workers int, p Progress) (*caindex.Index, error) {
	params, err := chunker.NewParams(like.Min, like.Avg, like.Max)
	if err != nil {
		return nil, err
	}
	var r io.Reader = io.NewSectionReader(f, 0, 1<<62)
	if p != nil {
		r = progressReader{r, p}
	}
	ix, _, err := Make(ctx, r, MakeOptions{Params: params, Digest: like.Digest(), Concurrency: workers})
	return ix, err
}

// progressReader counts what is read from r as progress.
type progressReader struct {
	r io.Reader
	p Progress
}

func (r progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.Add(int64(n))
	return n, err
}

// SeedIndex returns the chunks of s as an extraction of target sees them:
// s.Index, or for a seed without one its data chunked with target's chunk
// sizes and digest (reading the whole seed). Use it to estimate how much of
// target the seeds hold.
func SeedIndex(ctx context.Context, s Seed, target *caindex.Index, concurrency int) (*caindex.Index, error) {
	if target == nil {
		return nil, ErrNoIndex
	}
	if s.Index != nil {
		if err := sameDigest(s.name(), s.Index, target); err != nil {
			return nil, err
		}
		return s.Index, nil
	}
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	defer f.Close()
	ix, err := chunkSeed(ctx, f, target, concurrency, nil)
	if err != nil {
		return nil, fmt.Errorf("seed %s: %w", s.Path, err)
	}
	return ix, nil
}
