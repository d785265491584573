package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/folbricht/desync/chunk"
)

// ErrTransient is the error [Transient] injects (wrapped, naming the store):
// it says it is transient (a method Transient() bool that returns true), as
// a backend marks the errors it classifies so, and retry logic must treat
// it as transient.
var ErrTransient error = &injectedError{"storagetest: injected transient error", true}

// ErrUnclassified is an error nobody classified (a plain errors.New): retry
// logic must not repeat it.
var ErrUnclassified = errors.New("storagetest: injected unclassified error")

type injectedError struct {
	msg       string
	transient bool
}

func (e *injectedError) Error() string   { return e.msg }
func (e *injectedError) Transient() bool { return e.transient }

// Op selects store calls for [Transient].
type Op uint8

const (
	OpGet    Op = 1 << iota // GetChunk
	OpHas                   // HasChunk
	OpStore                 // StoreChunk
	OpDelete                // a driver's Delete (MemDriver)
	OpList                  // a driver's List (MemDriver)
)

func (op Op) String() string {
	switch op {
	case OpGet:
		return "GetChunk"
	case OpHas:
		return "HasChunk"
	case OpStore:
		return "StoreChunk"
	case OpDelete:
		return "Delete"
	case OpList:
		return "List"
	}
	return fmt.Sprintf("Op(%d)", uint8(op))
}

// wrapper holds the inner store of a fault-injecting store and forwards what
// the fault does not change. Wrappers take the inner store's String, so
// errors name the store as the backend itself would.
type wrapper struct{ inner chunk.Store }

// Unwrap returns the wrapped store (see storage.As).
func (w wrapper) Unwrap() chunk.Store { return w.inner }

// Close closes the wrapped store.
func (w wrapper) Close() error { return w.inner.Close() }

// String returns the wrapped store's name.
func (w wrapper) String() string { return w.inner.String() }

// Flush flushes the wrapped store if it is a chunk.Flusher.
func (w wrapper) Flush(ctx context.Context) error {
	if f, ok := w.inner.(chunk.Flusher); ok {
		return f.Flush(ctx)
	}
	return nil
}

// storeChunk forwards a write, or fails with an error matching
// errors.ErrUnsupported if the wrapped store does not accept chunks.
func (w wrapper) storeChunk(ctx context.Context, c *chunk.Chunk) error {
	ws, ok := w.inner.(chunk.WriteStore)
	if !ok {
		return fmt.Errorf("storagetest: store %s does not accept chunks: %w", w.inner, errors.ErrUnsupported)
	}
	return ws.StoreChunk(ctx, c)
}

// ReadOnly hides every method of s but those of chunk.Store, so that a
// fault-injecting wrapper around a read-only store is not taken for a
// chunk.WriteStore.
func ReadOnly(s chunk.Store) chunk.Store { return readOnly{s} }

type readOnly struct{ chunk.Store }

// Transient fails the first n calls of the selected operations with an error
// wrapping [ErrTransient], then passes calls through.
type Transient struct {
	wrapper
	n     int64
	ops   Op
	calls atomic.Int64
}

// NewTransient returns a store whose first n calls of ops (OpGet|OpHas, say;
// 0 means OpGet) fail with an error wrapping ErrTransient that names the
// store, the call and the chunk. Other calls pass through to inner.
func NewTransient(inner chunk.Store, n int, ops Op) *Transient {
	if ops == 0 {
		ops = OpGet
	}
	return &Transient{wrapper: wrapper{inner}, n: int64(n), ops: ops}
}

// Calls returns the number of calls of the selected operations so far,
// failed or passed through.
func (s *Transient) Calls() int { return int(s.calls.Load()) }

func (s *Transient) fail(op Op, id chunk.ID) error {
	if s.ops&op == 0 {
		return nil
	}
	if k := s.calls.Add(1); k <= s.n {
		return fmt.Errorf("store %s: %v(%s): %w (failure %d of %d)", s, op, id, ErrTransient, k, s.n)
	}
	return nil
}

func (s *Transient) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	if err := s.fail(OpGet, id); err != nil {
		return nil, err
	}
	return s.inner.GetChunk(ctx, id)
}

func (s *Transient) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	if err := s.fail(OpHas, id); err != nil {
		return false, err
	}
	return s.inner.HasChunk(ctx, id)
}

func (s *Transient) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	if err := s.fail(OpStore, c.ID()); err != nil {
		return err
	}
	return s.storeChunk(ctx, c)
}

// Down is a store that is down: every GetChunk, HasChunk, StoreChunk and
// Flush returns its error, until SetErr(nil) brings it back.
type Down struct {
	wrapper
	mu    sync.Mutex
	err   error
	calls atomic.Int64
}

// NewDown returns a down store in front of inner. A nil err means an error
// wrapping ErrTransient that says the store is down.
func NewDown(inner chunk.Store, err error) *Down {
	if err == nil {
		err = fmt.Errorf("store %s is down: %w", inner, ErrTransient)
	}
	return &Down{wrapper: wrapper{inner}, err: err}
}

// SetErr sets the error every call returns; nil passes calls through to the
// inner store again.
func (s *Down) SetErr(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// Calls returns the number of GetChunk, HasChunk, StoreChunk and Flush calls
// so far, failed or passed through.
func (s *Down) Calls() int { return int(s.calls.Load()) }

func (s *Down) fail() error {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Down) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	return s.inner.GetChunk(ctx, id)
}

func (s *Down) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	if err := s.fail(); err != nil {
		return false, err
	}
	return s.inner.HasChunk(ctx, id)
}

func (s *Down) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.storeChunk(ctx, c)
}

func (s *Down) Flush(ctx context.Context) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.wrapper.Flush(ctx)
}

// CorruptOptions configure [NewBitFlip] and [NewShortRead].
type CorruptOptions struct {
	// Converter is the stored form that is damaged and decoded again, as
	// the backend keeps it. Nil means chunk.Uncompressed{}, where every
	// damage shows as a digest mismatch; pass a *chunk.Zstd to exercise
	// decoding errors.
	Converter chunk.Converter
	// Digest verifies the damaged chunk (zero value: SHA-512/256).
	Digest chunk.Digest
	// Reads is the number of successful reads to damage, the first ones;
	// later reads pass through. 0 damages every read.
	Reads int
}

// Corrupter damages chunks read from the inner store in their stored form
// and decodes and verifies them as a verifying backend would, so GetChunk
// returns the *chunk.InvalidError a real backend would return (its Store is
// the wrapper's String). HasChunk and StoreChunk pass through. Make one with
// [NewBitFlip] or [NewShortRead].
type Corrupter struct {
	wrapper
	o         CorruptOptions
	damage    func(id chunk.ID, stored []byte, verify func([]byte) (*chunk.Chunk, error)) (*chunk.Chunk, error)
	reads     atomic.Int64
	corrupted atomic.Int64
}

// NewBitFlip returns a store that flips one bit of the chunks it reads. The
// bit is the first, scanning from the middle of the stored form, whose flip
// the decoder or the digest detects (a flip in, say, an unused header bit of
// a zstd frame would not be corruption).
func NewBitFlip(inner chunk.Store, o CorruptOptions) *Corrupter {
	return newCorrupter(inner, o, flipBit)
}

// NewShortRead returns a store that cuts the stored form of the chunks it
// reads to half their length, as a connection that closes early would.
func NewShortRead(inner chunk.Store, o CorruptOptions) *Corrupter {
	return newCorrupter(inner, o, func(_ chunk.ID, stored []byte, verify func([]byte) (*chunk.Chunk, error)) (*chunk.Chunk, error) {
		return verify(stored[:len(stored)/2])
	})
}

func newCorrupter(inner chunk.Store, o CorruptOptions, damage func(chunk.ID, []byte, func([]byte) (*chunk.Chunk, error)) (*chunk.Chunk, error)) *Corrupter {
	if o.Converter == nil {
		o.Converter = chunk.Uncompressed{}
	}
	return &Corrupter{wrapper: wrapper{inner}, o: o, damage: damage}
}

// Corrupted returns the number of reads damaged so far.
func (s *Corrupter) Corrupted() int { return int(s.corrupted.Load()) }

func flipBit(id chunk.ID, stored []byte, verify func([]byte) (*chunk.Chunk, error)) (*chunk.Chunk, error) {
	for i := range 8 * len(stored) {
		pos, bit := (len(stored)/2+i/8)%len(stored), byte(1)<<(i%8)
		stored[pos] ^= bit
		if _, err := verify(stored); err != nil {
			return nil, err
		}
		stored[pos] ^= bit // undetected: try the next bit
	}
	return nil, fmt.Errorf("storagetest: no bit flip in chunk %s is detectable", id)
}

func (s *Corrupter) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	c, err := s.inner.GetChunk(ctx, id)
	if err != nil {
		return nil, err
	}
	if n := s.reads.Add(1); s.o.Reads > 0 && n > int64(s.o.Reads) {
		return c, nil
	}
	stored, err := c.Stored(s.o.Converter)
	if err != nil {
		return nil, err
	}
	s.corrupted.Add(1)
	verify := func(b []byte) (*chunk.Chunk, error) {
		d := chunk.NewStored(id, b, s.o.Converter)
		err := d.Verify(s.o.Digest)
		var inv *chunk.InvalidError
		if errors.As(err, &inv) {
			inv.Store = s.String()
		}
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	return s.damage(id, bytes.Clone(stored), verify)
}

func (s *Corrupter) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	return s.inner.HasChunk(ctx, id)
}

func (s *Corrupter) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	return s.storeChunk(ctx, c)
}

// Latency delays every GetChunk, HasChunk and StoreChunk.
type Latency struct {
	wrapper
	d time.Duration
}

// NewLatency returns a store that waits d before passing each GetChunk,
// HasChunk and StoreChunk to inner, or returns ctx.Err() if the context ends
// first.
func NewLatency(inner chunk.Store, d time.Duration) *Latency {
	return &Latency{wrapper: wrapper{inner}, d: d}
}

func (s *Latency) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.d <= 0 {
		return nil
	}
	t := time.NewTimer(s.d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Latency) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return s.inner.GetChunk(ctx, id)
}

func (s *Latency) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	if err := s.wait(ctx); err != nil {
		return false, err
	}
	return s.inner.HasChunk(ctx, id)
}

func (s *Latency) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.storeChunk(ctx, c)
}

// Counts are numbers of store calls.
type Counts struct{ Get, Has, Store int }

// Counting counts GetChunk, HasChunk and StoreChunk calls, in total and per
// chunk, and passes them through. A call is counted when it starts, so calls
// still in flight are included.
type Counting struct {
	wrapper
	mu    sync.Mutex
	total Counts
	per   map[chunk.ID]Counts
}

// NewCounting returns a counting store in front of inner.
func NewCounting(inner chunk.Store) *Counting {
	return &Counting{wrapper: wrapper{inner}, per: map[chunk.ID]Counts{}}
}

// Total returns the calls counted so far.
func (s *Counting) Total() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Of returns the calls for chunk id counted so far.
func (s *Counting) Of(id chunk.ID) Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.per[id]
}

// Reset sets every count to zero.
func (s *Counting) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total = Counts{}
	clear(s.per)
}

func (s *Counting) count(id chunk.ID, f func(*Counts)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.total)
	c := s.per[id]
	f(&c)
	s.per[id] = c
}

func (s *Counting) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	s.count(id, func(c *Counts) { c.Get++ })
	return s.inner.GetChunk(ctx, id)
}

func (s *Counting) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	s.count(id, func(c *Counts) { c.Has++ })
	return s.inner.HasChunk(ctx, id)
}

func (s *Counting) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	s.count(c.ID(), func(c *Counts) { c.Store++ })
	return s.storeChunk(ctx, c)
}

var (
	_ chunk.WriteStore = (*Transient)(nil)
	_ chunk.WriteStore = (*Down)(nil)
	_ chunk.WriteStore = (*Corrupter)(nil)
	_ chunk.WriteStore = (*Latency)(nil)
	_ chunk.WriteStore = (*Counting)(nil)
	_ chunk.Flusher    = (*Counting)(nil)
)
