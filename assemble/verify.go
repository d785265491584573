package assemble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

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
// stream ix describes, hashing every chunk in parallel. A difference is a
// *MismatchError; a size difference is reported before any hashing.
func VerifyIndex(ctx context.Context, ix *caindex.Index, r io.ReaderAt, size int64, concurrency int) error {
	if uint64(size) != ix.Size() {
		return fmt.Errorf("size %d %w of %d bytes", size, ErrMismatch, ix.Size())
	}
	d := ix.Digest()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var mu sync.Mutex
	var bad []Mismatch
	var wg sync.WaitGroup
	for range workerCount(concurrency) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, ix.Max)
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(ix.Chunks) {
					return
				}
				c := ix.Chunks[i]
				b := buf[:c.Size]
				if _, err := r.ReadAt(b, int64(c.Start)); err != nil {
					cancel(fmt.Errorf("reading chunk %d at offset %d: %w", i, c.Start, err))
					return
				}
				if d.Sum(b) != c.ID {
					mu.Lock()
					bad = append(bad, Mismatch{i, c})
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Slice(bad, func(a, b int) bool { return bad[a].Index < bad[b].Index })
	return &MismatchError{Mismatches: bad[:min(len(bad), maxReported)], Count: len(bad)}
}
