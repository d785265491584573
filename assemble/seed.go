package assemble

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/chunker"
	"github.com/folbricht/desync/storage"
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
	// IndexPath is the file Index was read from (messages name it); with
	// [InvalidSeedRegenerate] the index of a seed found invalid is written
	// there anew.
	IndexPath string
}

// InvalidSeedAction is what an extraction does when a seed's data does not
// match its index: the seed changed since its index was made, or while the
// extraction ran.
type InvalidSeedAction int

const (
	// InvalidSeedFail stops the extraction with a [*SeedError] naming the
	// seed and the offset (the default).
	InvalidSeedFail InvalidSeedAction = iota
	// InvalidSeedSkip stops using the seed: the chunks it was to supply
	// come from the store instead, and the output is still exact.
	InvalidSeedSkip
	// InvalidSeedRegenerate is InvalidSeedSkip, and once the extraction is
	// done the seed is chunked again and its index rewritten at IndexPath,
	// so the next extraction can use it.
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
	f       *os.File
	name    string         // for messages: "data" or "data (index x.caibx)"
	ix      *caindex.Index // its chunks; never nil once opened
	invalid atomic.Bool    // data found not to match ix
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
	fi, err := s.f.Stat()
	return err != nil || stampOf(fi) != s.stamp
}

// openSeeds opens every seed and chunks those without an index. A seed
// whose data is shorter than its index says is invalid from the start.
func openSeeds(ctx context.Context, target *caindex.Index, o ExtractOptions) ([]*seedFile, error) {
	var out []*seedFile
	fail := func(err error) ([]*seedFile, error) {
		closeSeeds(out)
		return nil, err
	}
	for i, s := range o.Seeds {
		f, err := os.Open(s.Path)
		if err != nil {
			if s.IndexPath != "" {
				return fail(fmt.Errorf("seed %s: its data: %w", s.IndexPath, err))
			}
			return fail(fmt.Errorf("seed: %w", err))
		}
		sf := &seedFile{Seed: s, f: f, name: s.name(), ix: s.Index}
		out = append(out, sf)
		size, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			return fail(fmt.Errorf("seed %s: %w", sf.name, err))
		}
		if sf.ix == nil {
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				sf.trusted, sf.stamp = true, stampOf(fi)
			}
			o.Progress.Phase(fmt.Sprintf("Chunking seed %d", i+1), size)
			if sf.ix, err = chunkSeed(ctx, f, target, o.Concurrency, o.Progress); err != nil {
				return fail(fmt.Errorf("seed %s: %w", sf.name, err))
			}
			continue
		}
		if err := sameDigest(sf.name, sf.ix, target); err != nil {
			return fail(err)
		}
		if want := sf.ix.Size(); uint64(size) < want {
			err := &SeedError{Seed: sf.name, Offset: uint64(size), ID: lastChunkAt(sf.ix, uint64(size)),
				Reason: fmt.Sprintf("the data is %d bytes, the index describes %d", size, want)}
			if o.InvalidSeeds == InvalidSeedFail {
				return fail(err)
			}
			sf.invalid.Store(true)
		}
	}
	return out, nil
}

func lastChunkAt(ix *caindex.Index, off uint64) chunk.ID {
	for _, c := range ix.Chunks {
		if c.End() > off {
			return c.ID
		}
	}
	return chunk.ID{}
}

// invalidSeeds names the seeds found not to match their index.
func invalidSeeds(seeds []*seedFile) []string {
	var names []string
	for _, s := range seeds {
		if s.invalid.Load() {
			names = append(names, s.name)
		}
	}
	return names
}

func closeSeeds(seeds []*seedFile) {
	for _, s := range seeds {
		s.f.Close()
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

// regenerate chunks an invalid seed's data again, with its index's sizes,
// and replaces the index file.
func (s *seedFile) regenerate(ctx context.Context, workers int) error {
	if s.IndexPath == "" {
		return nil
	}
	ix, err := chunkSeed(ctx, s.f, s.ix, workers, nil)
	if err != nil {
		return fmt.Errorf("regenerating the index of seed %s: %w", s.name, err)
	}
	dir, name := filepath.Split(s.IndexPath)
	if dir == "" {
		dir = "."
	}
	if err := storage.NewLocalIndex(dir).StoreIndex(ctx, name, ix); err != nil {
		return fmt.Errorf("regenerating the index of seed %s: %w", s.name, err)
	}
	return nil
}

// SeedIndex returns the chunks of s as an extraction of target sees them:
// s.Index, or for a seed without one its data chunked with target's chunk
// sizes and digest (reading the whole seed). Use it to estimate how much of
// target the seeds hold.
func SeedIndex(ctx context.Context, s Seed, target *caindex.Index, concurrency int) (*caindex.Index, error) {
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
