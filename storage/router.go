package storage

import (
	"context"
	"errors"
	"strings"

	"github.com/folbricht/desync/chunk"
)

// Router reads from a list of stores in order, like desync's repeated -s
// flag: a chunk missing from one store is looked up in the next. Any other
// error stops the lookup and is returned as it is (store errors name their
// store), so a broken store is reported rather than silently skipped.
type Router struct {
	stores []chunk.Store
}

// NewRouter returns a router over stores, tried in the order given.
func NewRouter(stores ...chunk.Store) *Router { return &Router{stores: stores} }

// GetChunk returns the chunk from the first store that has it. If none has
// it the error matches chunk.ErrMissing and names every store.
func (r *Router) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	for _, s := range r.stores {
		c, err := s.GetChunk(ctx, id)
		if err == nil || !errors.Is(err, chunk.ErrMissing) {
			return c, err
		}
	}
	return nil, &chunk.MissingError{ID: id, Store: r.String()}
}

// HasChunk reports whether any store has the chunk; an error from a store
// asked before one that has it is returned.
func (r *Router) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	for _, s := range r.stores {
		if ok, err := s.HasChunk(ctx, id); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// Close closes every store.
func (r *Router) Close() error {
	var errs []error
	for _, s := range r.stores {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// String lists the stores, comma-separated.
func (r *Router) String() string {
	names := make([]string, len(r.stores))
	for i, s := range r.stores {
		names[i] = s.String()
	}
	return strings.Join(names, ", ")
}
