package assemble

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/folbricht/desync/caindex"
)

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
	if !o.NoSync {
		o.Progress.Phase("Syncing", 0)
	}
	if err := o.sync().SyncFile(f); err != nil {
		return stats, err
	}
	return stats, nil
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
