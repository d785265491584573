package storagetest_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

// mapStore is the smallest correct chunk.WriteStore: plain chunks in a map,
// verified on read. It has none of the optional capabilities, so the suite's
// skips are exercised, and it shows the suite assumes nothing of Local.
type mapStore struct {
	mu sync.Mutex
	m  map[chunk.ID][]byte
}

func (s *mapStore) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	b, ok := s.m[id]
	s.mu.Unlock()
	if !ok {
		return nil, &chunk.MissingError{ID: id, Store: s.String()}
	}
	c := chunk.NewStored(id, b, chunk.Uncompressed{})
	if err := c.Verify(chunk.SHA512_256); err != nil {
		if inv, ok := err.(*chunk.InvalidError); ok {
			inv.Store = s.String()
		}
		return nil, err
	}
	return c, nil
}

func (s *mapStore) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[id]
	return ok, nil
}

func (s *mapStore) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := c.Stored(chunk.Uncompressed{})
	if err != nil {
		return err
	}
	b = append([]byte(nil), b...) // the caller may reuse its buffer
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[c.ID()] = b
	return nil
}

func (s *mapStore) put(id chunk.ID, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[id] = b
}

func (s *mapStore) Close() error   { return nil }
func (s *mapStore) String() string { return "map" }

func TestMapStore(t *testing.T) {
	storagetest.Run(t, storagetest.Harness{
		New:       func(*testing.T) chunk.Store { return &mapStore{m: map[chunk.ID][]byte{}} },
		Converter: chunk.Uncompressed{},
		Corrupt: func(t *testing.T, s chunk.Store, id chunk.ID, b []byte) {
			s.(*mapStore).put(id, b)
		},
	})
}

// TestReadOnlyStore runs the suite on a store that does not accept chunks:
// the write tests skip, the rest pass.
func TestReadOnlyStore(t *testing.T) {
	storagetest.Run(t, storagetest.Harness{
		New: func(t *testing.T) chunk.Store {
			s, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"), storage.LocalOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return storagetest.ReadOnly(s)
		},
	})
}
