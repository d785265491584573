package gcsstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultTimeout bounds one call when storage.Options.Timeout is 0, as
// desync's HTTP stores are bounded: a call (or, for a listing or a
// streamed read, a wait for the next page or the next bytes) that gets no
// answer within it fails as a timeout, which is transient.
const DefaultTimeout = time.Minute

// TimeoutError is a call that had no answer within the store's timeout.
type TimeoutError struct {
	Op    string
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s: no answer within %v (the store's timeout)", e.Op, e.After)
}

// Timeout says this is a timeout (net.Error's method), which
// storage.IsTransient counts as transient.
func (e *TimeoutError) Timeout() bool { return true }

// Transient: another try may get an answer.
func (e *TimeoutError) Transient() bool { return true }

// errTimedOut is the cancellation cause a watchdog sets.
var errTimedOut = errors.New("store timeout")

// watchdog bounds the waits of one call: its context is cancelled when
// the timer, armed before each wait, fires before it is disarmed. A
// single request is one wait; a listing or a streamed read arms it for
// each page or read, so a long transfer that keeps moving is not cut
// short, while one that stalls is. A zero or negative timeout never
// fires; the caller's context still bounds everything.
type watchdog struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	d      time.Duration
	mu     sync.Mutex
	t      *time.Timer
}

func newWatchdog(parent context.Context, d time.Duration) *watchdog {
	ctx, cancel := context.WithCancelCause(parent)
	w := &watchdog{ctx: ctx, cancel: cancel, d: d}
	if d > 0 {
		w.t = time.AfterFunc(d, func() { cancel(errTimedOut) })
		w.t.Stop()
	}
	return w
}

// arm starts the timer for one wait.
func (w *watchdog) arm() {
	if w.t != nil {
		w.mu.Lock()
		w.t.Reset(w.d)
		w.mu.Unlock()
	}
}

// disarm stops the timer while the caller, not the server, has the turn.
func (w *watchdog) disarm() {
	if w.t != nil {
		w.mu.Lock()
		w.t.Stop()
		w.mu.Unlock()
	}
}

// stop ends the call: its context is cancelled, the timer released.
func (w *watchdog) stop() {
	w.disarm()
	w.cancel(nil)
}

// fail turns err into a *TimeoutError if the watchdog fired (and the
// caller's context is still live): the client library reports only that
// its context was cancelled, which must not reach the caller as such (a
// cancelled context is not retried; a timeout is).
func (w *watchdog) fail(op string, err error) error {
	if err != nil && context.Cause(w.ctx) == errTimedOut {
		return &TimeoutError{Op: op, After: w.d}
	}
	return err
}
