package workpool

import (
	"context"
	"errors"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// pools are the three entry points, each run over the items 0..len-1, so
// that every test holds for all of them.
var pools = map[string]func(ctx context.Context, n int, items []int, fn func(context.Context, int) error) error{
	"Each": Each[int],
	"Run": func(ctx context.Context, n int, items []int, fn func(context.Context, int) error) error {
		return Run(ctx, n, slices.Values(items), fn)
	},
	"EachWorkers": func(ctx context.Context, n int, items []int, fn func(context.Context, int) error) error {
		return EachWorkers(ctx, n, items, func() func(context.Context, int) error { return fn })
	},
	"RunWorkers": func(ctx context.Context, n int, items []int, fn func(context.Context, int) error) error {
		return RunWorkers(ctx, n, slices.Values(items), func() func(context.Context, int) error { return fn })
	},
}

func count(n int) []int {
	items := make([]int, n)
	for i := range items {
		items[i] = i
	}
	return items
}

// TestAllItems: without errors every item is passed to exactly one call.
func TestAllItems(t *testing.T) {
	for name, pool := range pools {
		for _, n := range []int{-1, 0, 1, 3, 64} {
			seen := make([]atomic.Int32, 1000)
			err := pool(context.Background(), n, count(len(seen)), func(_ context.Context, i int) error {
				seen[i].Add(1)
				return nil
			})
			if err != nil {
				t.Fatalf("%s n=%d: %v", name, n, err)
			}
			for i := range seen {
				if got := seen[i].Load(); got != 1 {
					t.Fatalf("%s n=%d: item %d ran %d times", name, n, i, got)
				}
			}
		}
		if err := pool(context.Background(), 4, nil, func(context.Context, int) error { return errors.New("called") }); err != nil {
			t.Errorf("%s over no items: %v", name, err)
		}
	}
}

// TestBound: n calls are in flight at the peak, no more. Every call waits
// until n calls are in flight (or all remaining items are), so a pool that
// runs fewer would hang here, not pass; one that runs more is caught by
// TestWorkers, which counts its goroutines, and sometimes here.
func TestBound(t *testing.T) {
	const items = 200
	for name, pool := range pools {
		for _, n := range []int{1, 2, 5, 16} {
			var mu sync.Mutex
			cond := sync.NewCond(&mu)
			inFlight, peak, done := 0, 0, 0
			err := pool(context.Background(), n, count(items), func(context.Context, int) error {
				mu.Lock()
				defer mu.Unlock()
				inFlight++
				peak = max(peak, inFlight)
				cond.Broadcast()
				for inFlight < min(n, items-done) {
					cond.Wait()
				}
				inFlight--
				done++
				cond.Broadcast()
				return nil
			})
			if err != nil {
				t.Fatalf("%s n=%d: %v", name, n, err)
			}
			if peak != n {
				t.Errorf("%s n=%d: %d calls were in flight at once", name, n, peak)
			}
		}
	}
}

// TestFirstErrorCancels: the first error is returned (not the
// context.Canceled of the calls it stopped), the running calls see their
// context cancelled, and no item is started after it.
func TestFirstErrorCancels(t *testing.T) {
	const n = 4
	boom := errors.New("boom")
	for name, pool := range pools {
		var calls atomic.Int32
		var ready sync.WaitGroup
		ready.Add(n - 1)
		err := pool(context.Background(), n, count(1000), func(ctx context.Context, i int) error {
			calls.Add(1)
			if i == 0 {
				ready.Wait() // the others are running
				return boom
			}
			if i < n {
				ready.Done()
			}
			<-ctx.Done()
			return ctx.Err()
		})
		if !errors.Is(err, boom) {
			t.Errorf("%s: returned %v, want the first error", name, err)
		}
		if got := calls.Load(); got != n {
			t.Errorf("%s: %d calls made, want %d (no item after the error)", name, got, n)
		}
	}
}

// TestParentCancelled: a cancelled context stops the pool before any item
// and its cause is returned.
func TestParentCancelled(t *testing.T) {
	cause := errors.New("interrupted")
	for name, pool := range pools {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(cause)
		var calls atomic.Int32
		err := pool(ctx, 3, count(100), func(context.Context, int) error {
			calls.Add(1)
			return nil
		})
		if !errors.Is(err, cause) {
			t.Errorf("%s: returned %v, want the cause", name, err)
		}
		if calls.Load() != 0 {
			t.Errorf("%s: %d calls after cancellation", name, calls.Load())
		}
	}
}

// TestRunStopsReading: Run stops pulling from its sequence after an error.
func TestRunStopsReading(t *testing.T) {
	boom := errors.New("boom")
	var pulled int
	items := iter.Seq[int](func(yield func(int) bool) {
		for i := range 1000 {
			pulled++
			if !yield(i) {
				return
			}
		}
	})
	err := Run(context.Background(), 2, items, func(_ context.Context, i int) error {
		if i == 0 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("returned %v", err)
	}
	if pulled == 1000 {
		t.Errorf("the whole sequence was read after the first item failed")
	}
}

// TestWorkers: the bound, counted. Every worker is one goroutine that
// makes its function once, so counting the functions made counts the
// goroutines, which bound the calls in flight: n of them (fewer only for a
// shorter slice), each with its own state.
func TestWorkers(t *testing.T) {
	type workerPool func(ctx context.Context, n int, items []int, newWorker func() func(context.Context, int) error) error
	run := func(ctx context.Context, n int, items []int, newWorker func() func(context.Context, int) error) error {
		return RunWorkers(ctx, n, slices.Values(items), newWorker)
	}
	for _, tc := range []struct {
		name           string
		pool           workerPool
		n, items, want int
	}{
		{"EachWorkers", EachWorkers[int], 3, 100, 3},
		{"EachWorkers", EachWorkers[int], 8, 5, 5},
		{"EachWorkers", EachWorkers[int], 0, 5, 1},
		{"EachWorkers", EachWorkers[int], 4, 0, 1},
		{"RunWorkers", run, 3, 100, 3},
		{"RunWorkers", run, 8, 5, 8},
		{"RunWorkers", run, -2, 5, 1},
	} {
		var made atomic.Int32
		var total atomic.Int64
		err := tc.pool(context.Background(), tc.n, count(tc.items), func() func(context.Context, int) error {
			made.Add(1)
			var mine int // one worker's: the race detector would see it shared
			return func(context.Context, int) error {
				mine++
				total.Add(1)
				return nil
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if made.Load() != int32(tc.want) || total.Load() != int64(tc.items) {
			t.Errorf("%s n=%d over %d items: %d workers made, %d items done; want %d and %d",
				tc.name, tc.n, tc.items, made.Load(), total.Load(), tc.want, tc.items)
		}
	}
}
