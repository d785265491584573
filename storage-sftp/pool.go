package sftpstore

import (
	"context"
	"sync"
	"time"

	"github.com/pkg/sftp"
)

// DefaultSessions is the pool size of a store whose options set no N.
const DefaultSessions = 4

// maxDialing bounds how many sessions start at once: sshd drops
// connections beyond its MaxStartups (10 by default) that have not
// authenticated yet.
const maxDialing = 4

// pool holds up to n sessions to one target, started when first needed
// and reused; a call takes one for itself and gives it back, and one whose
// connection is lost is closed and replaced by a new one later.
type pool struct {
	t       target
	timeout time.Duration
	opts    []sftp.ClientOption

	slots   chan struct{} // one token per session in use or being started
	dialing chan struct{}

	mu     sync.Mutex
	idle   []*session
	closed bool
}

func newPool(t target, n int, timeout time.Duration, opts []sftp.ClientOption) *pool {
	if n <= 0 {
		n = DefaultSessions
	}
	return &pool{t: t, timeout: timeout, opts: opts, slots: make(chan struct{}, n), dialing: make(chan struct{}, maxDialing)}
}

// get returns a session for the caller's use alone, an idle one if there
// is one, else a new one; it waits while n are in use.
func (p *pool) get(ctx context.Context) (*session, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.slots
		return nil, errClosed
	}
	for len(p.idle) > 0 {
		s := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !s.dead.Load() {
			p.mu.Unlock()
			return s, nil
		}
		go s.Close()
	}
	p.mu.Unlock()
	select {
	case p.dialing <- struct{}{}:
	case <-ctx.Done():
		<-p.slots
		return nil, ctx.Err()
	}
	s, err := dial(ctx, p.t, p.timeout, p.opts)
	<-p.dialing
	if err != nil {
		<-p.slots
		return nil, err
	}
	return s, nil
}

// put gives a session back; a dead one (lost connection, or killed when
// its caller gave up) is closed instead.
func (p *pool) put(s *session) {
	p.mu.Lock()
	if s.dead.Load() || p.closed {
		p.mu.Unlock()
		s.Close()
	} else {
		p.idle = append(p.idle, s)
		p.mu.Unlock()
	}
	<-p.slots
}

// Close closes the idle sessions; sessions in use are closed when they
// are given back.
func (p *pool) Close() error {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range idle {
		wg.Go(func() { s.Close() })
	}
	wg.Wait()
	return nil
}
