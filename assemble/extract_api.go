package assemble

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// ExtractOptions configure [ExtractFile], [ExtractStream] and [ExtractWriter].
type ExtractOptions struct {
	// Store supplies the chunks no seed has. It may be nil only if no
	// chunk is needed from it (the extraction fails with [ErrNoStore]
	// when one is).
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
	// total is that size; for ExtractStream, the reader's SizeHint), then
	// "Syncing", of no size, while the output is made durable (not with
	// NoSync).
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
	if ix == nil {
		return stats, ErrNoIndex
	}
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
	if r == nil {
		return stats, ErrNoIndex
	}
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
