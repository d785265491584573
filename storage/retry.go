package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/folbricht/desync/chunk"
)

// Defaults of desync's -e/--error-retry and -b/--error-retry-base-interval:
// a call is made at most 3 times, waiting 500ms before the second, 1s before
// the third.
const (
	DefaultErrorRetry             = 3
	DefaultErrorRetryBaseInterval = 500 * time.Millisecond
)

// RetryOptions configure a [Retry].
type RetryOptions struct {
	// Attempts is how many times a call is made at most, counting the
	// first: desync's --error-retry N makes N requests, not N+1, and 0 and
	// 1 both mean a single request with no retry.
	Attempts int
	// BaseInterval is the wait before the first retry; retry n waits n times
	// as long, as in desync.
	BaseInterval time.Duration
	// Logger receives a warning for the first retry of a failure streak
	// (the calls of a store that fail until one succeeds), and a debug
	// message for every retry; nil discards.
	Logger *slog.Logger
}

// streak counts the retries of a store since its last call that
// succeeded, so that a store that is down makes one warning, not one per
// chunk.
type streak struct{ retries atomic.Int64 }

// note records the outcome of a call: one that did not fail transiently
// (it succeeded, or the store answered, such as with a missing chunk) ends
// the streak.
func (s *streak) note(err error) {
	if !IsTransient(err) && s.retries.Load() != 0 {
		s.retries.Store(0)
	}
}

// Retry repeats store calls that fail with a transient error ([IsTransient]):
// one the backend marked [Transient] (or that says so with a method
// Transient() bool), or a timeout; never a missing or invalid chunk, a
// cancelled context, a [Permanent] error, or an error nobody classified. A call is made at most max(Attempts, 1) times. The wait ends early
// when the context does.
type Retry struct {
	s      chunk.Store
	o      RetryOptions
	streak streak
}

// NewRetry wraps s. StoreChunk is retried too, if s is a chunk.WriteStore.
func NewRetry(s chunk.Store, o RetryOptions) *Retry {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Retry{s: s, o: o}
}

func (r *Retry) do(ctx context.Context, op string, id chunk.ID, fn func() error) error {
	return retry(ctx, r.o, &r.streak, r.s.String(), op, id.String(), fn)
}

// retry calls fn until it succeeds, fails with an error that is not
// transient, o.Attempts calls are made, or ctx is done. store, op and what
// (a chunk ID, an index name) are for the log; st is the store's failure
// streak.
func retry(ctx context.Context, o RetryOptions, st *streak, store, op, what string, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		st.note(err)
		last := attempt >= o.Attempts
		if !last && IsTransient(err) && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			// A retry is due but the caller has given up: say so, as when
			// the wait is cut short.
			return fmt.Errorf("%w (giving up retries: %w)", err, context.Cause(ctx))
		}
		if last || !IsTransient(err) || ctx.Err() != nil {
			if err != nil && attempt > 1 {
				return fmt.Errorf("%w (after %d attempts)", err, attempt)
			}
			return err
		}
		wait := time.Duration(attempt) * o.BaseInterval
		level, msg := slog.LevelDebug, "retrying store call"
		if st.retries.Add(1) == 1 {
			level, msg = slog.LevelWarn, "store calls failing, retrying (further retries are logged at debug level until a call succeeds)"
		}
		o.Logger.Log(ctx, level, msg, "store", store, "op", op, "id", what,
			"attempt", attempt, "wait", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (giving up retries: %w)", err, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// GetChunk reads a chunk, retrying transient failures.
func (r *Retry) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	var c *chunk.Chunk
	err := r.do(ctx, "get", id, func() (err error) {
		c, err = r.s.GetChunk(ctx, id)
		return err
	})
	return c, err
}

// HasChunk asks the store, retrying transient failures.
func (r *Retry) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	var ok bool
	err := r.do(ctx, "has", id, func() (err error) {
		ok, err = r.s.HasChunk(ctx, id)
		return err
	})
	return ok, err
}

// StoreChunk writes a chunk, retrying transient failures. It fails if the
// wrapped store does not accept chunks.
func (r *Retry) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	w, ok := r.s.(chunk.WriteStore)
	if !ok {
		return errReadOnly(r.s)
	}
	return r.do(ctx, "store", c.ID(), func() error { return w.StoreChunk(ctx, c) })
}

// Flush flushes the wrapped store if it batches writes.
func (r *Retry) Flush(ctx context.Context) error { return flush(ctx, r.s) }

// Unwrap returns the wrapped store.
func (r *Retry) Unwrap() chunk.Store { return r.s }

func (r *Retry) Close() error   { return r.s.Close() }
func (r *Retry) String() string { return r.s.String() }

func flush(ctx context.Context, s chunk.Store) error {
	if f, ok := s.(chunk.Flusher); ok {
		return f.Flush(ctx)
	}
	return nil
}

// ChunkFile forwards to the wrapped store (see [ChunkFiler]).
func (r *Retry) ChunkFile(id chunk.ID) (string, string, bool) { return chunkFile(r.s, id) }
