package sha512x4

import (
	"crypto/sha512"
	"sync"
	"sync/atomic"
)

// MinBatch is the shortest message [Sum] hands to the hashing goroutine;
// shorter ones cost less to hash than to pass on.
const MinBatch = 8 << 10

// Sum returns the SHA-512/256 digest of b. Calls made at the same time
// from several goroutines (the workers of a make or an extract) are hashed
// together, four messages at a time, by one hashing goroutine; a call made
// while no other is hashing, or while a full batch already waits for that
// goroutine, hashes b itself with crypto/sha512, so the other cores keep
// hashing too.
func Sum(b []byte) [Size]byte {
	if !haveAVX2 || len(b) < MinBatch {
		return sha512.Sum512_256(b)
	}
	if hashing.Add(1) == 1 {
		// Alone: no partner to share the vector registers with.
		defer hashing.Add(-1)
		return sha512.Sum512_256(b)
	}
	defer hashing.Add(-1)
	startOnce.Do(func() { go hashLoop() })
	r := requests.Get().(*request)
	defer func() { r.msg = nil; requests.Put(r) }()
	r.msg = b
	if len(queue) >= nLanes {
		// A full batch is already waiting: the hashing goroutine has
		// work enough, and this core is better used hashing b here.
		return sha512.Sum512_256(b)
	}
	select {
	case queue <- r:
	default:
		return sha512.Sum512_256(b)
	}
	<-r.done
	if r.self { // handed back: nobody joined it after all
		return sha512.Sum512_256(b)
	}
	return r.sum
}

// request is one call of Sum waiting for the hashing goroutine.
type request struct {
	msg  []byte
	sum  [Size]byte
	self bool          // the caller is to hash msg itself
	done chan struct{} // receives once when sum (or self) is set
}

var (
	hashing   atomic.Int32 // calls of Sum under way
	startOnce sync.Once
	queue     = make(chan *request, 16)
	requests  = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}
)

// sliceBlocks bounds the blocks per lane one kernel call hashes, so that
// new requests join free lanes soon.
const sliceBlocks = 64

// hashLoop serves the queue forever: it keeps up to four requests in the
// lanes, hashes them a slice at a time so that new requests join free lanes
// soon, and answers each as it finishes.
func hashLoop() {
	var (
		b    batch
		reqs [nLanes]*request
	)
	for l := range b.lanes {
		b.lanes[l].msg = -1
	}
	answer := func(l int) {
		r := reqs[l]
		reqs[l], b.lanes[l].msg = nil, -1
		r.done <- struct{}{}
	}
	for {
		if n, _ := b.active(); n == 0 {
			r := <-queue // nothing to do: wait
			reqs[0] = r
			b.load(0, r.msg, 0)
		}
		for l := range b.lanes {
			if b.lanes[l].msg < 0 {
				select {
				case r := <-queue:
					reqs[l] = r
					b.load(l, r.msg, l)
				default:
				}
			}
		}
		if n, last := b.active(); n == 1 && !b.lanes[last].started {
			// Alone and not started: its caller hashes it faster.
			reqs[last].self = true
			answer(last)
			continue
		}
		for l, done := range b.step(sliceBlocks) {
			if done {
				reqs[l].sum, reqs[l].self = b.digest(l), false
				answer(l)
			}
		}
	}
}
