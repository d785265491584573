package storage_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

// nullChunkSize is the size of the NullChunk's zero chunk in the conformance
// runs, one the suite never stores (so the null chunk stays out of its way).
const nullChunkSize = 12345

// composition is a store type built from local stores, for the suite.
type composition struct {
	name string
	// build returns the composed store, made of local stores from newLocal,
	// and backend: the local stores that hold the chunks the suite stores.
	build func(newLocal func() *storage.Local) (s chunk.Store, backend []*storage.Local)
	// viaWriter: the suite stores chunks into backend (Harness.Writer)
	// instead of calling s.StoreChunk, because s is not a chunk.WriteStore
	// or its writes do not reach what it reads.
	viaWriter bool
}

// compositions are the composition types, each over local stores, as the
// CLI builds them.
var compositions = []composition{
	{
		// Chunks are in the last member: every read first finds them
		// missing from the first.
		name: "Router",
		build: func(newLocal func() *storage.Local) (chunk.Store, []*storage.Local) {
			a, b := newLocal(), newLocal()
			return storage.NewRouter(a, b), []*storage.Local{b}
		},
		viaWriter: true,
	},
	{
		// Mirrors: every chunk goes to every member. Corrupt damages every
		// copy, since a group that reads a good copy from the next member
		// does what it should.
		name: "Failover",
		build: func(newLocal func() *storage.Local) (chunk.Store, []*storage.Local) {
			a, b := newLocal(), newLocal()
			return storage.NewFailover(nil, a, b), []*storage.Local{a, b}
		},
		viaWriter: true,
	},
	{
		// The first member is down: the first call of each subtest fails
		// over to the second (which then stays active), and a call whose
		// context is cancelled gets the down store's error first.
		name: "FailoverFirstDown",
		build: func(newLocal func() *storage.Local) (chunk.Store, []*storage.Local) {
			a, b := newLocal(), newLocal()
			return storage.NewFailover(nil, storagetest.NewDown(a, nil), b), []*storage.Local{a, b}
		},
		viaWriter: true,
	},
	{
		// Chunks are in the store behind the cache: reads take the
		// cache-miss path (and fill the cache); Corrupt damages the store's
		// copy, which a fresh cache has not read yet.
		name: "Cache",
		build: func(newLocal func() *storage.Local) (chunk.Store, []*storage.Local) {
			store, cache := newLocal(), newLocal()
			return storage.NewCache(store, cache, storage.CacheOptions{Repair: true}), []*storage.Local{store}
		},
		viaWriter: true,
	},
	{
		// The first GetChunk of each subtest fails once, transiently.
		name: "RetryGet",
		build: func(newLocal func() *storage.Local) (chunk.Store, []*storage.Local) {
			l := newLocal()
			flaky := storagetest.NewTransient(l, 1, storagetest.OpGet)
			return storage.NewRetry(flaky, storage.RetryOptions{Attempts: 4, BaseInterval: time.Millisecond}), []*storage.Local{l}
		},
	},
	{
		// The first two calls of each subtest (of any kind) fail,
		// transiently; one call may fail twice.
		name: "RetryAll",
		build: func(newLocal func() *storage.Local) (chunk.Store, []*storage.Local) {
			l := newLocal()
			flaky := storagetest.NewTransient(l, 2, storagetest.OpGet|storagetest.OpHas|storagetest.OpStore)
			return storage.NewRetry(flaky, storage.RetryOptions{Attempts: 4, BaseInterval: time.Millisecond}), []*storage.Local{l}
		},
	},
	{
		name: "Dedup",
		build: func(newLocal func() *storage.Local) (chunk.Store, []*storage.Local) {
			l := newLocal()
			return storage.NewDedup(l), []*storage.Local{l}
		},
	},
	{
		name: "NullChunk",
		build: func(newLocal func() *storage.Local) (chunk.Store, []*storage.Local) {
			l := newLocal()
			return storage.NewNullChunk(l, chunk.SHA512_256, nullChunkSize), []*storage.Local{l}
		},
	},
	{
		// The CLI's order for -s a -s b -c cache. Its StoreChunk reaches
		// the read-only cache and fails, so chunks go to the router's last
		// member.
		name: "CLIStack",
		build: func(newLocal func() *storage.Local) (chunk.Store, []*storage.Local) {
			a, b, cache := newLocal(), newLocal(), newLocal()
			c := storage.NewCache(storage.NewRouter(a, b), cache, storage.CacheOptions{Repair: true})
			return storage.NewNullChunk(storage.NewDedup(c), chunk.SHA512_256, nullChunkSize), []*storage.Local{b}
		},
		viaWriter: true,
	},
}

// TestCompositionConformance runs the chunk store conformance suite on every
// composition type over local stores.
func TestCompositionConformance(t *testing.T) {
	zstd, err := chunk.NewZstd(chunk.ZstdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range compositions {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Run(t, compositionHarness(tc, zstd))
		})
	}
}

// composed is what a composition's harness knows of one store it made.
type composed struct {
	locals  []*storage.Local // every local store in it
	backend []*storage.Local // where the suite's chunks are stored
}

func compositionHarness(tc composition, zstd *chunk.Zstd) storagetest.Harness {
	var mu sync.Mutex
	made := map[chunk.Store]*composed{}
	lookup := func(t *testing.T, s chunk.Store) *composed {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		c, ok := made[s]
		if !ok {
			t.Fatalf("store %s (%T) was not made by the harness", s, s)
		}
		return c
	}
	h := storagetest.Harness{
		New: func(t *testing.T) chunk.Store {
			c := &composed{}
			newLocal := func() *storage.Local {
				dir := filepath.Join(t.TempDir(), "store")
				l, err := storage.NewLocal(dir, storage.LocalOptions{Converter: zstd})
				if err != nil {
					t.Fatal(err)
				}
				c.locals = append(c.locals, l)
				return l
			}
			s, backend := tc.build(newLocal)
			c.backend = backend
			mu.Lock()
			made[s] = c
			mu.Unlock()
			t.Cleanup(func() { // after the suite's Close and Check
				mu.Lock()
				delete(made, s)
				mu.Unlock()
			})
			return s
		},
		Converter: zstd,
		Corrupt: func(t *testing.T, s chunk.Store, id chunk.ID, stored []byte) {
			t.Helper()
			for _, l := range lookup(t, s).backend {
				corruptLocal(t, l, id, stored)
			}
		},
		Check: func(t *testing.T, s chunk.Store) {
			t.Helper()
			for _, l := range lookup(t, s).locals {
				checkNoTemp(t, l)
			}
		},
	}
	if tc.viaWriter {
		h.Writer = func(s chunk.Store) chunk.WriteStore {
			mu.Lock()
			defer mu.Unlock()
			c := made[s]
			if c == nil {
				return nil // the suite reports it
			}
			if len(c.backend) == 1 {
				return c.backend[0]
			}
			return &fanOut{stores: c.backend}
		}
	}
	return h
}

// fanOut writes every chunk to each of its stores, as the members of a
// failover group are kept alike; it reads from the first. The stores belong
// to the composition, which closes them.
type fanOut struct{ stores []*storage.Local }

func (w *fanOut) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	return w.stores[0].GetChunk(ctx, id)
}

func (w *fanOut) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	return w.stores[0].HasChunk(ctx, id)
}

func (w *fanOut) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	for _, s := range w.stores {
		if err := s.StoreChunk(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func (w *fanOut) Flush(ctx context.Context) error {
	var errs []error
	for _, s := range w.stores {
		errs = append(errs, s.Flush(ctx))
	}
	return errors.Join(errs...)
}

// Close does nothing: the composition closes the stores.
func (w *fanOut) Close() error { return nil }

func (w *fanOut) String() string { return "fan-out writer" }
