package sshstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/casyncproto"
)

// conn is one ssh process running a pull server, multiplexed: callers
// queue chunk IDs, a writer goroutine sends whatever is queued as one
// REQUEST (so many concurrent callers share a round trip), and a reader
// goroutine hands each CHUNK or MISSING to the caller waiting for its ID.
// After a failure the connection is dead; every waiting call gets its
// error, and the store dials a new one for the next call.
type conn struct {
	store  string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *os.File
	r      *casyncproto.Reader
	wmu    sync.Mutex // guards w
	w      *casyncproto.Writer
	errs   *tail

	queue chan *call

	mu      sync.Mutex
	pending map[chunk.ID][]*call
	asked   map[chunk.ID]struct{} // every ID requested on this connection
	err     error                 // why the connection died
	dead    chan struct{}         // closed when err is set
	exited  chan struct{}         // closed when the process has been waited for
	closing error                 // why close was called (errClosed, errRetired); nil while open
}

type call struct {
	id  chunk.ID
	res chan answer // buffered: the reader never blocks
}

type answer struct {
	m   *casyncproto.Message
	err error
}

// errAsked is the answer to a second request for an ID on one
// connection: casync's pull server answers each ID once per connection
// (a repeated REQUEST is never answered), so the store asks on a fresh
// connection instead.
var errAsked = errors.New("chunk already requested on this connection")

// testHookDequeued, when set by a test, runs in writeLoop between taking
// a call off the queue and sending its REQUEST.
var testHookDequeued func(*conn)

// errRetired is the answer to a call that reached a connection the store
// had retired (to ask an ID again elsewhere) before the call's REQUEST
// went out: the store asks on the slot's new connection.
var errRetired = errors.New("connection retired")

// dial starts the ssh command and does the HELLO exchange, bounded by ctx
// and timeout.
func dial(ctx context.Context, store, sshPath string, args []string, timeout time.Duration) (*conn, error) {
	c := &conn{
		store:   store,
		cmd:     exec.Command(sshPath, args...),
		errs:    &tail{},
		queue:   make(chan *call, casyncproto.MaxRequestIDs),
		pending: map[chunk.ID][]*call{},
		asked:   map[chunk.ID]struct{}{},
		dead:    make(chan struct{}),
		exited:  make(chan struct{}),
	}
	c.cmd.Stderr = c.errs
	c.cmd.WaitDelay = 5 * time.Second
	stdin, err := c.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// Our own pipe, not StdoutPipe: Wait would close that as soon as the
	// process exits, losing an ABORT it sent just before.
	stdout, stdoutW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c.cmd.Stdout = stdoutW
	err = c.cmd.Start()
	stdoutW.Close()
	if err != nil {
		stdout.Close()
		return nil, storage.Permanent(fmt.Errorf("starting %s: %w", sshPath, err))
	}
	c.stdin, c.stdout = stdin, stdout
	c.r, c.w = casyncproto.NewReader(stdout), casyncproto.NewWriter(stdin)
	go func() {
		c.cmd.Wait()
		close(c.exited)
	}()

	hello := make(chan error, 1)
	go func() { hello <- c.handshake() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	got := false
	select {
	case err = <-hello:
		got = true
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = storage.Permanent(fmt.Errorf("no HELLO from the pull server within %v", timeout))
	}
	if err != nil {
		c.kill()
		if !got {
			<-hello
		}
		return nil, c.describe(err)
	}
	go c.readLoop()
	go c.writeLoop()
	return c, nil
}

// kill ends the process and unblocks the reader, even if a child of the
// ssh command (a local stand-in's shell) still holds the pipe open.
func (c *conn) kill() {
	c.cmd.Process.Kill()
	c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(c.cmd.WaitDelay + time.Second):
	}
	c.stdout.Close()
}

func isContext(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// handshake sends our HELLO and checks the server's. Every failure is
// permanent: the command, the remote program or the store is wrong.
func (c *conn) handshake() error {
	if err := c.w.Hello(casyncproto.PullChunks); err != nil {
		return err
	}
	if err := c.w.Flush(); err != nil {
		return storage.Permanent(fmt.Errorf("sending HELLO: %w", err))
	}
	m, err := c.r.ReadMessage()
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return storage.Permanent(errors.New("the ssh command ended before the casync handshake"))
	case err != nil:
		return storage.Permanent(err)
	case m.Type == casyncproto.Abort:
		return storage.Permanent(abortError(m))
	case m.Type != casyncproto.Hello:
		return storage.Permanent(fmt.Errorf("casync protocol: %s before HELLO", m.Type))
	}
	return storage.Permanent(casyncproto.CheckHello(casyncproto.PullChunks, m.Flags))
}

// describe makes err carry what the command printed on
// stderr.
func (c *conn) describe(err error) error {
	return &connError{stderr: c.errs.String(), err: err}
}

type connError struct {
	stderr string
	err    error
}

func (e *connError) Error() string {
	if e.stderr == "" {
		return e.err.Error()
	}
	return fmt.Sprintf("%v (ssh command's stderr: %s)", e.err, e.stderr)
}
func (e *connError) Unwrap() error { return e.err }

// AbortError is an ABORT from the pull server: its errno and reason.
type AbortError struct {
	Errno  uint64
	Reason string
}

func (e *AbortError) Error() string {
	return fmt.Sprintf("the pull server aborted: %s (errno %d)", e.Reason, e.Errno)
}

func abortError(m *casyncproto.Message) error { return &AbortError{Errno: m.Errno, Reason: m.Reason} }

// fail kills the connection with err (the first failure wins).
func (c *conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = c.describe(err)
	close(c.dead)
	if c.closing == nil {
		go c.kill()
	}
}

// failure returns why the connection died.
func (c *conn) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *conn) alive() bool {
	select {
	case <-c.dead:
		return false
	default:
		return true
	}
}

func (c *conn) readLoop() {
	for {
		m, err := c.r.ReadMessage()
		if err != nil {
			c.mu.Lock()
			closing := c.closing
			c.mu.Unlock()
			switch {
			case closing != nil:
				c.fail(closing)
			case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
				c.fail(storage.Transient(fmt.Errorf("the ssh connection ended: %w", err)))
			default:
				c.fail(storage.Permanent(err))
			}
			return
		}
		switch m.Type {
		case casyncproto.Chunk, casyncproto.Missing:
			c.mu.Lock()
			q := c.pending[m.ID]
			if len(q) == 0 {
				c.mu.Unlock()
				c.fail(storage.Permanent(fmt.Errorf("casync protocol: the server sent %s for chunk %s, which was not requested", m.Type, m.ID)))
				return
			}
			delete(c.pending, m.ID)
			c.mu.Unlock()
			for _, cl := range q {
				cl.res <- answer{m: m}
			}
		case casyncproto.Abort:
			c.fail(storage.Permanent(abortError(m)))
			return
		case casyncproto.Goodbye:
			c.fail(storage.Transient(errors.New("the pull server said GOODBYE")))
			return
		default:
			c.fail(storage.Permanent(fmt.Errorf("casync protocol: unexpected %s from the pull server", m.Type)))
			return
		}
	}
}

// writeLoop sends queued IDs, as many as are waiting (up to 64 KiB of
// IDs) in each REQUEST.
func (c *conn) writeLoop() {
	ids := make([]chunk.ID, 0, casyncproto.MaxRequestIDs)
	for {
		var first *call
		select {
		case first = <-c.queue:
		case <-c.dead:
			return
		}
		if testHookDequeued != nil {
			testHookDequeued(c)
		}
		ids = ids[:0]
		c.mu.Lock()
		for cl := first; ; {
			// Callers asking for an ID already on its way share its
			// answer; an ID answered before is asked for elsewhere.
			if q, ok := c.pending[cl.id]; ok {
				c.pending[cl.id] = append(q, cl)
			} else if _, ok := c.asked[cl.id]; ok {
				cl.res <- answer{err: errAsked}
			} else {
				c.pending[cl.id] = []*call{cl}
				c.asked[cl.id] = struct{}{}
				ids = append(ids, cl.id)
			}
			if len(ids) == cap(ids) {
				break
			}
			select {
			case cl = <-c.queue:
				continue
			default:
			}
			break
		}
		c.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		c.wmu.Lock()
		if c.giveBack(ids) {
			c.wmu.Unlock()
			continue
		}
		err := c.w.Request(0, ids)
		if err == nil {
			err = c.w.Flush()
		}
		c.wmu.Unlock()
		if err != nil {
			c.fail(storage.Transient(fmt.Errorf("sending a request: %w", err)))
			return
		}
	}
}

// giveBack answers the calls for ids with why the connection is closing
// and forgets them, if it is: their REQUEST must not go out. wmu is held,
// so close cannot start between this check and the write.
func (c *conn) giveBack(ids []chunk.ID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing == nil {
		return false
	}
	for _, id := range ids {
		for _, cl := range c.pending[id] {
			cl.res <- answer{err: c.closing}
		}
		delete(c.pending, id)
		delete(c.asked, id)
	}
	return true
}

// get asks for chunk id and returns the server's answer: a CHUNK or a
// MISSING message.
func (c *conn) get(ctx context.Context, id chunk.ID) (*casyncproto.Message, error) {
	cl := &call{id: id, res: make(chan answer, 1)}
	select {
	case c.queue <- cl:
	case <-c.dead:
		return nil, c.failure()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case a := <-cl.res:
		return a.m, a.err
	case <-c.dead:
		select {
		case a := <-cl.res:
			return a.m, a.err
		default:
			return nil, c.failure()
		}
	case <-ctx.Done():
		// The answer, when it comes, goes to the buffered channel and
		// is dropped.
		return nil, ctx.Err()
	}
}

// retire closes the connection once no call waits for an answer on it.
func (c *conn) retire() {
	for {
		c.mu.Lock()
		n := len(c.pending)
		c.mu.Unlock()
		if n == 0 || !c.alive() {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.closeWith(errRetired)
}

// close says GOODBYE, closes the server's input and waits a while for it
// to end, then kills it.
func (c *conn) close() { c.closeWith(errClosed) }

// closeWith is close, with why for the calls still on the connection.
// Closing is marked under wmu, so a REQUEST is either out before the
// GOODBYE or not sent at all (see giveBack).
func (c *conn) closeWith(why error) {
	c.wmu.Lock()
	c.mu.Lock()
	c.closing = why
	c.mu.Unlock()
	if c.alive() && c.w.Goodbye() == nil {
		c.w.Flush()
	}
	c.wmu.Unlock()
	c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
	}
	c.kill()
	c.fail(why)
}

// tail keeps the last 2 KiB written to it: the remote's stderr, for error
// messages.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	const keep = 2 << 10
	t.b = append(t.b, p...)
	if len(t.b) > keep {
		t.b = append(t.b[:0], t.b[len(t.b)-keep:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(strings.ToValidUTF8(string(t.b), "?"))
}
