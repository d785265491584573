package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/folbricht/desync/chunk"
)

// Failover is a group of stores holding the same chunks (desync's "a|b|c"),
// such as mirrors. Calls go to the active member, the first at the start.
// When it fails (any error but a missing chunk or the caller's cancelled
// context; an invalid chunk counts as a failure) the next members are tried
// in turn, and the first that answers becomes the active one for every later
// call. A chunk missing from the active member is missing: the members are
// the same. If every member fails, the error is a *[GroupError] carrying
// each member's error.
type Failover struct {
	stores []chunk.Store
	active atomic.Int64
	log    *slog.Logger
}

// NewFailover returns a failover group of stores; logger (may be nil)
// receives a warning when the group switches members.
func NewFailover(logger *slog.Logger, stores ...chunk.Store) *Failover {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Failover{stores: stores, log: logger}
}

// do runs fn on the active member and, on failure, on the others.
func (f *Failover) do(ctx context.Context, fn func(chunk.Store) error) error {
	start := int(f.active.Load())
	var errs []error
	for i := range f.stores {
		idx := (start + i) % len(f.stores)
		err := fn(f.stores[idx])
		if err == nil || errors.Is(err, chunk.ErrMissing) {
			if i > 0 && f.active.CompareAndSwap(int64(start), int64(idx)) {
				f.log.Warn("failover group switched store", "group", f.String(),
					"from", f.stores[start].String(), "to", f.stores[idx].String(), "error", errs[len(errs)-1])
			}
			return err
		}
		if ctx.Err() != nil {
			// The caller gave up: no failover, and the error says so even
			// if the member's (a store that is down, say) does not.
			if !errors.Is(err, ctx.Err()) {
				err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
			}
			return err
		}
		errs = append(errs, err)
	}
	return &GroupError{Group: f.String(), Errs: errs}
}

// GetChunk reads from the active member, failing over as described. A
// missing chunk's error names the group.
func (f *Failover) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	var c *chunk.Chunk
	err := f.do(ctx, func(s chunk.Store) (err error) {
		c, err = s.GetChunk(ctx, id)
		return err
	})
	if errors.Is(err, chunk.ErrMissing) {
		// Name the group, as a Router does: the members are the same.
		return nil, &chunk.MissingError{ID: id, Store: f.String()}
	}
	return c, err
}

// HasChunk asks the active member, failing over as described.
func (f *Failover) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	var ok bool
	err := f.do(ctx, func(s chunk.Store) (err error) {
		ok, err = s.HasChunk(ctx, id)
		return err
	})
	return ok, err
}

// Close closes every member.
func (f *Failover) Close() error {
	var errs []error
	for _, s := range f.stores {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// String is the group's location, its members joined by "|".
func (f *Failover) String() string {
	names := make([]string, len(f.stores))
	for i, s := range f.stores {
		names[i] = s.String()
	}
	return strings.Join(names, "|")
}
