package sha512x4

import (
	"crypto/sha512"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// minBatch is the shortest message Sum hands to the hashing goroutine;
// shorter ones cost less to hash than to pass on.
const minBatch = 8 << 10

// AddWorkers declares n more (or, negative, fewer) goroutines that compute
// digests at the same time, such as the workers of a make or an extract.
// While they outnumber the cores, [Sum] batches. When the last of them
// leaves, the hashing goroutine, if running, ends once it is idle.
func AddWorkers(n int) {
	if workers.Add(int32(n)) == 0 {
		select {
		case idle <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
}

// Sum returns the SHA-512/256 digest of b. While the declared workers
// (AddWorkers) outnumber the cores, calls made when another is hashing wait
// for one hashing goroutine that hashes them four at a time, and their cores
// go to the other workers meanwhile; a batch that does not gather three
// within gatherTime is handed back. Otherwise, and for a lone call or one
// that finds a full batch already waiting, it hashes b with crypto/sha512.
func Sum(b []byte) [Size]byte {
	if !haveAVX2 || len(b) < minBatch {
		return sha512.Sum512_256(b)
	}
	if w := workers.Load(); w == 0 || int(w) <= runtime.GOMAXPROCS(0) {
		// Every hashing goroutine has a core: hashing side by side is
		// as fast, and nobody waits.
		return sha512.Sum512_256(b)
	}
	defer hashing.Add(-1)
	if hashing.Add(1) == 1 {
		return sha512.Sum512_256(b) // alone: no partner to batch with
	}
	if len(queue) >= nLanes {
		// A full batch is already waiting: the hashing goroutine has
		// work enough, and this core is better used hashing b here.
		return sha512.Sum512_256(b)
	}
	r := requests.Get().(*request)
	defer func() { r.msg = nil; requests.Put(r) }()
	r.msg, r.self, r.hashed = b, false, 0
	if !enqueue(r) {
		return sha512.Sum512_256(b)
	}
	<-r.done
	switch {
	case r.self: // handed back: too few joined it
		return sha512.Sum512_256(b)
	case r.hashed > 0: // handed back part-way: left alone in the lanes
		return resume(&r.h, r.hashed, b[r.hashed:])
	}
	return r.sum
}

// request is one call of Sum waiting for the hashing goroutine, which
// answers with sum, or hands the message back: whole (self), or with its
// first hashed bytes done, in state h (when it would be left alone in the
// lanes).
type request struct {
	msg    []byte
	sum    [Size]byte
	self   bool
	hashed uint64
	h      [8]uint64
	done   chan struct{} // receives once when the answer is set
}

// The hashing goroutine serves every caller of Sum in the process: it
// gathers the calls of unrelated workers into batches, and whether batching
// pays depends on the process's cores (see package doc). Hence this state
// is the package's, not a caller's.
var (
	workers  atomic.Int32 // declared by AddWorkers
	hashing  atomic.Int32 // calls of Sum under way
	batched  atomic.Int64 // messages the hashing goroutine has hashed (read by tests)
	resumed  atomic.Int64 // messages it handed back part-way, resume (read by tests)
	queue    = make(chan *request, 16)
	idle     = make(chan struct{}, 1) // AddWorkers: no worker is declared any more
	requests = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

	// loopMu guards running, and orders the queueing of a request
	// (enqueue) against the hashing goroutine's decision to end (quit).
	loopMu  sync.Mutex
	running bool // the hashing goroutine is running

	// testHookLoop, if set, is called by the hashing goroutine as it
	// starts (true) and as it ends (false).
	testHookLoop func(started bool)
)

// enqueue hands r to the hashing goroutine, starting it if it is not
// running, and reports whether r was taken (false: the queue is full).
func enqueue(r *request) bool {
	loopMu.Lock()
	defer loopMu.Unlock()
	if !running {
		running = true
		go hashLoop()
	}
	select {
	case queue <- r:
		return true
	default:
		return false
	}
}

// quit reports whether the idle hashing goroutine may end: no worker is
// declared and no request waits. If so, it is marked as not running, so
// that the next enqueue starts another.
func quit() bool {
	loopMu.Lock()
	defer loopMu.Unlock()
	if workers.Load() != 0 || len(queue) > 0 {
		return false
	}
	running = false
	return true
}

// gatherTime is how long a batch being formed waits for more requests,
// about the time one average chunk takes to hash.
const gatherTime = 100 * time.Microsecond

// minLanes is the fewest messages a batch starts with: the kernel hashes
// four lanes at about twice the speed of one, so two would be no faster
// than hashing them one by one.
const minLanes = 3

// sliceBlocks bounds the blocks per lane one kernel call hashes, so that
// new requests join free lanes soon.
const sliceBlocks = 64

// hashLoop serves the queue until, idle, it finds no worker declared
// (quit): it keeps up to four requests in the lanes, hashes them a slice at
// a time so that new requests join free lanes soon, and answers each as it
// finishes.
func hashLoop() {
	if h := testHookLoop; h != nil {
		h(true)
		defer h(false)
	}
	var (
		b    batch
		reqs [nLanes]*request
	)
	take := func(l int, r *request) {
		reqs[l] = r
		b.load(l, r.msg)
	}
	answer := func(l int) {
		r := reqs[l]
		reqs[l], b.lanes[l].busy = nil, false
		r.done <- struct{}{}
	}
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	for {
		n, last := b.active()
		if n == 0 {
			// Nothing to do: wait for a request, or end once the last
			// worker has left. A worker leaving after the check below
			// wakes this goroutine through idle.
			if workers.Load() == 0 && quit() {
				return
			}
			select {
			case r := <-queue:
				take(0, r)
			case <-idle:
			}
			continue
		}
		// Fill free lanes. While the batch has not started, wait up to
		// gatherTime for more requests: the waiting callers take no
		// CPU, and their worker mates are on their way here.
		forming := !b.lanes[last].started
		if forming && n < nLanes {
			gather.Reset(gatherTime)
		}
		for l := range b.lanes {
			if b.lanes[l].busy {
				continue
			}
			if forming {
				select {
				case r := <-queue:
					take(l, r)
					continue
				case <-gather.C:
					forming = false
				}
			}
			select {
			case r := <-queue:
				take(l, r)
			default:
			}
		}
		gather.Stop() // (since Go 1.23 a stopped timer delivers nothing stale)
		n, last = b.active()
		if n < minLanes && !b.lanes[last].started {
			// Too few to be worth the four lanes: their callers hash
			// them faster one by one.
			for l := range b.lanes {
				if b.lanes[l].busy {
					reqs[l].self = true
					answer(l)
				}
			}
			continue
		}
		if ln := &b.lanes[last]; n == 1 && canHandOff && !ln.inPad {
			// One message left under way and none waiting: the kernel
			// would hash it along with three idle lanes, at half the
			// speed of crypto/sha512. Its caller, waiting anyway,
			// finishes it with crypto/sha512 (resume), and this
			// goroutine is free for the next requests.
			r := reqs[last]
			r.h, r.hashed = b.state(last), ln.hashed()
			answer(last)
			resumed.Add(1)
			continue
		}
		for l, done := range b.step(sliceBlocks) {
			if done {
				reqs[l].sum = b.digest(l)
				answer(l)
				batched.Add(1)
			}
		}
	}
}
