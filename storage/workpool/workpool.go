package workpool

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"
)

// Each calls fn on every item of items, on at most n goroutines at a time.
// The first error returned by fn cancels the context of the other calls,
// stops the pool and is returned; a cancelled ctx stops it too, and its
// cause is returned. Items are handed out in order.
func Each[T any](ctx context.Context, n int, items []T, fn func(context.Context, T) error) error {
	return EachWorkers(ctx, n, items, func() func(context.Context, T) error { return fn })
}

// EachWorkers is [Each] where each worker calls newWorker once, as it
// starts, for the function it calls on its items: state kept in that
// function's closure (a buffer) belongs to one goroutine and needs no lock.
// There are min(n, len(items)) workers (at least one).
func EachWorkers[T any](ctx context.Context, n int, items []T, newWorker func() func(context.Context, T) error) error {
	var next atomic.Int64
	return start(ctx, workers(n, len(items)), func(ctx context.Context) error {
		fn := newWorker()
		for ctx.Err() == nil {
			k := int(next.Add(1) - 1)
			if k >= len(items) {
				return nil
			}
			if err := fn(ctx, items[k]); err != nil {
				return err
			}
		}
		return nil
	})
}

// Run is [Each] over a sequence: items are taken from it one at a time, as
// a worker is free, by the calling goroutine. It stops reading the
// sequence on the first error or when ctx is cancelled.
func Run[T any](ctx context.Context, n int, items iter.Seq[T], fn func(context.Context, T) error) error {
	return RunWorkers(ctx, n, items, func() func(context.Context, T) error { return fn })
}

// RunWorkers is [Run] with a function per worker, as [EachWorkers]. There
// are n workers (at least one), however many items the sequence holds.
func RunWorkers[T any](ctx context.Context, n int, items iter.Seq[T], newWorker func() func(context.Context, T) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan T)
	var wg sync.WaitGroup
	for range workers(n, -1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn := newWorker()
			for it := range work {
				// An item received as the pool was being stopped is
				// dropped, not started.
				if ctx.Err() != nil {
					continue
				}
				if err := fn(ctx, it); err != nil {
					cancel(err)
				}
			}
		}()
	}
	for it := range items {
		if ctx.Err() != nil {
			break
		}
		select {
		case work <- it:
			continue
		case <-ctx.Done():
		}
		break
	}
	close(work)
	wg.Wait()
	return context.Cause(ctx)
}

// start runs n copies of worker, which take items until there are none
// left or ctx ends, and returns the first error one of them returned (which
// cancels the others' ctx), or else the cause of ctx's cancellation.
func start(ctx context.Context, n int, worker func(context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := worker(ctx); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// workers is the number of goroutines for n workers over items items
// (items < 0: unknown): at least one, at most one per item.
func workers(n, items int) int {
	n = max(n, 1)
	if items >= 0 {
		n = min(n, max(items, 1))
	}
	return n
}
