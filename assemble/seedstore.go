package assemble

import (
	"context"
	"fmt"
	"sync"

	"github.com/folbricht/desync/chunk"
)

// seedStore answers GetChunk from the seeds' data where a seed holds the
// chunk (read, hashed and checked against the ID), and from the store
// behind it otherwise. It gives seeds to the in-order [ExtractWriter],
// which has no plan; a chunk that does not match is handled per action.
// Every chunk is hashed here, even from a seed this run chunked (and so
// hashed already): a stream cannot be re-verified after it is written.
type seedStore struct {
	chunk.Store
	digest chunk.Digest
	action InvalidSeedAction
	locs   map[chunk.ID]seedLoc

	served sync.Map // chunk.ID → struct{}: the chunks answered from a seed
}

func newSeedStore(s chunk.Store, seeds []*seedFile, d chunk.Digest, action InvalidSeedAction) *seedStore {
	ss := &seedStore{Store: s, digest: d, action: action, locs: map[chunk.ID]seedLoc{}}
	for _, sf := range seeds {
		if sf.invalid.Load() {
			continue
		}
		for k, c := range sf.ix.Chunks {
			if _, ok := ss.locs[c.ID]; !ok {
				ss.locs[c.ID] = seedLoc{sf, k}
			}
		}
	}
	return ss
}

// servedFromSeed reports whether the chunk id was answered from a seed.
func (s *seedStore) servedFromSeed(id chunk.ID) bool {
	_, ok := s.served.Load(id)
	return ok
}

func (s *seedStore) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	if l, ok := s.locs[id]; ok && !l.seed.invalid.Load() {
		c := l.seed.ix.Chunks[l.chunk]
		b := make([]byte, c.Size)
		if err := readFull(l.seed.data, b, c.Start); err != nil {
			return nil, fmt.Errorf("seed %s at offset %d: %w", l.seed.name, c.Start, err)
		}
		if s.digest.Sum(b) == id {
			s.served.Store(id, struct{}{})
			return chunk.New(id, b), nil
		}
		if s.action == InvalidSeedFail {
			return nil, l.seed.mismatch(c, "the data does not match the index (the seed changed)")
		}
		// A file seed that changed is dropped; seed data that is a reader
		// (an image of a tree whose files change one by one) only loses
		// this chunk.
		if l.seed.f != nil {
			l.seed.invalid.Store(true)
		}
	}
	if s.Store == nil {
		return nil, ErrNoStore
	}
	return s.Store.GetChunk(ctx, id)
}
