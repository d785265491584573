package sha512x4

import (
	"crypto/sha512"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loopRunning reports whether a hashing goroutine is running.
func loopRunning() bool {
	loopMu.Lock()
	defer loopMu.Unlock()
	return running
}

// TestHashLoopEnds checks that the hashing goroutine starts when declared
// workers outnumber the cores and hash at once, ends when the last of them
// leaves, and starts again for the next ones.
func TestHashLoopEnds(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2: Sum never batches")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	// A goroutine of an earlier test may still be on its way out.
	for loopRunning() {
		time.Sleep(time.Millisecond)
	}
	events := make(chan bool, 16)
	testHookLoop = func(started bool) { events <- started }
	defer func() { testHookLoop = nil }()

	for round := range 2 {
		AddWorkers(16)
		var stop atomic.Bool
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := make([]byte, 64<<10)
				for !stop.Load() {
					if Sum(m) != sha512.Sum512_256(m) {
						t.Error("digest differs")
						return
					}
				}
			}()
		}
		if started := <-events; !started {
			t.Fatalf("round %d: first event is an end", round)
		}
		stop.Store(true)
		wg.Wait()
		if !loopRunning() {
			t.Fatalf("round %d: the goroutine ended while workers were declared", round)
		}
		AddWorkers(-16)
		if started := <-events; started {
			t.Fatalf("round %d: a second goroutine started", round)
		}
		if loopRunning() {
			t.Fatalf("round %d: ended, but still marked running", round)
		}
	}
}
