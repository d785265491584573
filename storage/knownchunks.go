package storage

import (
	"context"
	"errors"

	"github.com/folbricht/desync/chunk"
)

// DefaultListBeforeWrite is how many objects a store written to lists at
// most before its first HasChunk (Options.ListBeforeWrite 0): 10 pages of
// an S3 or GCS listing. A store that holds more is asked per chunk: its
// listing would cost more than the HEADs of a make that finds most of its
// chunks there, and its names more memory (about 100 bytes a chunk).
const DefaultListBeforeWrite = 10_000

// KnownChunks lists the store's chunks once for a writer (an [Uploads]
// queue), so that it need not ask for each chunk. ok is true only when the
// listing ended within the store's bound (Options.ListBeforeWrite); known
// is then every chunk the store held while it was listed. ok is false when
// listing is off, the store holds more objects than the bound, the driver
// cannot list, or the listing failed (logged at debug level): the writer
// asks per chunk then, as it would without a listing. A store whose
// listing says at once that it does not exist (a directory not created
// yet) is empty.
//
// Decision: a chunk the listing names is one the store has (chunks are
// not deleted while they are written to, as for a HEAD's answer); one it
// does not name is uploaded, which at worst writes again the same bytes
// that another writer stored meanwhile. So the listing can make a writer
// upload more, never skip a chunk the store lacks.
func (s *ObjectStore) KnownChunks(ctx context.Context) (known map[chunk.ID]struct{}, ok bool) {
	limit := s.listMax
	switch {
	case limit < 0:
		return nil, false
	case limit == 0:
		limit = DefaultListBeforeWrite
	}
	known = map[chunk.ID]struct{}{}
	n := 0
	for name, err := range s.d.List(ctx, "") {
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			if n == 0 && !errors.Is(err, errors.ErrUnsupported) && !isContextErr(err) && s.d.Classify(err) == KindMissing {
				s.log.Debug("store to write to does not exist yet: listed as empty", "store", s.d.String())
				return known, true
			}
			s.log.Debug("listing before writing failed: asking per chunk", "store", s.d.String(), "error", err)
			return nil, false
		}
		if n++; n > limit {
			s.log.Debug("store holds more objects than listed before writing: asking per chunk", "store", s.d.String(), "bound", limit)
			return nil, false
		}
		if id, ok := s.f.Layout.Parse(name); ok {
			known[id] = struct{}{}
		}
	}
	s.log.Debug("listed before writing", "store", s.d.String(), "objects", n, "chunks", len(known))
	return known, true
}
