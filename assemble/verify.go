package assemble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/folbricht/desync/caindex"
)

// ErrMismatch is matched by every [VerifyIndex] failure that is about content.
var ErrMismatch = errors.New("does not match the index")

// Mismatch is one chunk of the file that does not hash to its index entry.
type Mismatch struct {
	Index int
	Chunk caindex.Chunk
}

// MismatchError lists the chunks that differ (up to a limit) and how many.
type MismatchError struct {
	Mismatches []Mismatch // the first ones, by offset
	Count      int
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d chunk(s) %s:", e.Count, ErrMismatch)
	for _, m := range e.Mismatches {
		fmt.Fprintf(&b, "\n  chunk %d (%s) at offset %d, %d bytes", m.Index, m.Chunk.ID, m.Chunk.Start, m.Chunk.Size)
	}
	if e.Count > len(e.Mismatches) {
		fmt.Fprintf(&b, "\n  … and %d more", e.Count-len(e.Mismatches))
	}
	return b.String()
}

func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

// maxReported bounds the mismatches a MismatchError lists.
const maxReported = 20

// VerifyIndex checks that the size bytes readable from r are exactly the
// stream ix describes, hashing every chunk in parallel (pieces of up to
// 1 MiB, their chunks hashed together). A difference is a *MismatchError; a
// size difference is reported before any hashing.
func VerifyIndex(ctx context.Context, ix *caindex.Index, r io.ReaderAt, size int64, concurrency int) error {
	if ix == nil {
		return ErrNoIndex
	}
	if r == nil {
		return errors.New("no data to verify given (nil reader)")
	}
	if uint64(size) != ix.Size() {
		return fmt.Errorf("size %d %w of %d bytes", size, ErrMismatch, ix.Size())
	}
	d, isNull, bufs := ix.Digest(), nullChunks(ix), newPiecePool(ix)
	var mu sync.Mutex
	var bad []Mismatch
	var tasks []task
	cs := ix.Chunks
	for i := 0; i < len(cs); {
		first, n := i, piece(cs[i:], pieceSize)
		tasks = append(tasks, func(ctx context.Context) error {
			js, err := mismatchesAt(r, bufs, d, isNull, cs[first:first+n])
			if err != nil {
				return err
			}
			for _, j := range js {
				mu.Lock()
				bad = append(bad, Mismatch{first + j, cs[first+j]})
				mu.Unlock()
			}
			return nil
		})
		i += n
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	runTasks(ctx, cancel, workerCount(concurrency), tasks)
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Slice(bad, func(a, b int) bool { return bad[a].Index < bad[b].Index })
	return &MismatchError{Mismatches: bad[:min(len(bad), maxReported)], Count: len(bad)}
}
