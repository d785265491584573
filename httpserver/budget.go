package httpserver

import (
	"context"
	"sync"
)

// budget is a pool of bytes that uploads reserve before reading their
// body, so the memory they hold at once stays within it however large
// the bodies are. Waiters are woken whenever bytes come back.
type budget struct {
	mu    sync.Mutex
	free  int64
	freed chan struct{} // closed, and replaced, when bytes come back
}

func newBudget(n int64) *budget { return &budget{free: n, freed: make(chan struct{})} }

// acquire reserves n bytes, waiting until they are free or ctx is done.
func (b *budget) acquire(ctx context.Context, n int64) error {
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
			b.mu.Unlock()
			return nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release gives back n bytes.
func (b *budget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.free += n
	close(b.freed)
	b.freed = make(chan struct{})
}
