package assemble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
)

// workerCount turns a Concurrency option into a goroutine count: n, or
// GOMAXPROCS when n is not positive.
func workerCount(n int) int {
	if n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// fetch gets and decodes one chunk and checks it has the size the index says.
// A caller done with b can give its buffer back with ch.Release.
func fetch(ctx context.Context, s chunk.Store, c caindex.Chunk) (b []byte, ch *chunk.Chunk, err error) {
	if s == nil {
		return nil, nil, fmt.Errorf("chunk %s at offset %d: %w", c.ID, c.Start, ErrNoStore)
	}
	ch, err = s.GetChunk(ctx, c.ID)
	if err != nil {
		// Store errors mostly name the chunk (and the store) themselves:
		// add only the offset then, so the chunk is named once.
		if strings.Contains(err.Error(), c.ID.String()) {
			return nil, nil, fmt.Errorf("at offset %d: %w", c.Start, err)
		}
		return nil, nil, fmt.Errorf("chunk %s at offset %d: %w", c.ID, c.Start, err)
	}
	if b, err = ch.Plain(); err != nil {
		return nil, nil, fmt.Errorf("chunk %s at offset %d from store %s: %w", c.ID, c.Start, s, err)
	}
	if uint64(len(b)) != c.Size {
		ch.Release()
		return nil, nil, fmt.Errorf("chunk %s at offset %d from store %s: %d bytes, the index says %d", c.ID, c.Start, s, len(b), c.Size)
	}
	return b, ch, nil
}

func isZero(b []byte) bool {
	for len(b) >= 8 {
		if b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] != 0 {
			return false
		}
		b = b[8:]
	}
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}

// nullChunks returns a test for the IDs of all-zero chunks of the sizes in ix
// that are cut at max (the sizes zero runs produce).
func nullChunks(ix *caindex.Index) func(caindex.Chunk) bool {
	d := ix.Digest()
	id := d.Sum(make([]byte, ix.Max))
	return func(c caindex.Chunk) bool { return c.Size == ix.Max && c.ID == id }
}

// ExtractWriter writes the stream of ix to w in order, fetching up to
// Concurrency chunks ahead. Use it for pipes and stdout; ExtractFile is faster
// for files (holes, no ordering, runs of seed data, clones). A chunk that a
// seed holds is read from the seed and verified instead of fetched. On
// error, w has received a prefix of the stream.
func ExtractWriter(ctx context.Context, ix *caindex.Index, w io.Writer, o ExtractOptions) (ExtractStats, error) {
	if ix == nil {
		return ExtractStats{}, ErrNoIndex
	}
	if w == nil {
		return ExtractStats{}, errors.New("no writer given (nil)")
	}
	if len(o.Seeds) == 0 {
		return extractWriter(ctx, ix, w, o, nil)
	}
	if o.Progress == nil {
		o.Progress = noProgress{}
	}
	seeds, err := openSeeds(ctx, ix, o)
	if err != nil {
		return ExtractStats{}, err
	}
	defer closeSeeds(seeds)
	ss := newSeedStore(o.Store, seeds, ix.Digest(), o.InvalidSeeds)
	o.Store = ss
	stats, err := extractWriter(ctx, ix, w, o, ss.servedFromSeed)
	stats.Seeds = len(seeds)
	stats.InvalidSeeds = invalidSeeds(seeds)
	stats.RegeneratedSeeds = rebuiltSeeds(seeds)
	return stats, err
}

// extractWriter is ExtractWriter over o.Store: a Reader's WriteTo. Every
// chunk but the index's null chunks is fetched; the stats count the chunks
// written, all of them unless it fails, those fromSeed reports (if not nil)
// as copied from seeds.
func extractWriter(ctx context.Context, ix *caindex.Index, w io.Writer, o ExtractOptions, fromSeed func(chunk.ID) bool) (ExtractStats, error) {
	r := NewReader(ctx, ix, ReaderOptions{Store: o.Store, Concurrency: o.Concurrency})
	defer r.Close()
	n, err := r.WriteTo(w)
	stats := ExtractStats{ChunksTotal: len(ix.Chunks), BytesTotal: ix.Size()}
	for _, c := range ix.Chunks {
		if c.End() > uint64(n) {
			break
		}
		switch {
		case r.isNull(c):
			stats.ChunksZero++
		case fromSeed != nil && fromSeed(c.ID):
			stats.ChunksFromSeeds++
			stats.BytesCopiedFromSeeds += c.Size
		default:
			stats.ChunksFromStore++
			stats.BytesFromStore += c.Size
		}
	}
	stats.ChunksFetched = stats.ChunksFromStore
	return stats, err
}
