package sshstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/casyncproto"
)

// ErrReadOnly is the error of StoreChunk: the casync protocol's pull side
// only reads.
var ErrReadOnly = fmt.Errorf("ssh:// stores are read-only (casync pull): %w", errors.ErrUnsupported)

// DefaultHandshakeTimeout bounds the start of a connection (ssh login and
// the HELLO exchange) unless Options.Timeout is set.
const DefaultHandshakeTimeout = 30 * time.Second

// Store is a read-only chunk store reached by running a casync pull server
// ("casync pull - - - PATH", or desync's) on a remote host over ssh.
type Store struct {
	loc       Location
	name      string
	sshPath   string
	args      []string
	timeout   time.Duration // per call; 0: none
	handshake time.Duration
	zstd      *storage.ChunkFormat
	plain     *storage.ChunkFormat
	log       *slog.Logger

	slots  []slot
	next   atomic.Uint64
	closed atomic.Bool
}

type slot struct {
	mu sync.Mutex
	c  *conn
}

// New returns the store at an ssh:// location. The ssh program is
// $CASYNC_SSH_PATH (default "ssh") and the remote program
// $CASYNC_REMOTE_PATH (default "casync"). o.N connections at most are
// opened (at least one), each as it is first needed; the first is opened
// here, so that a wrong host, login or remote program fails now.
func New(ctx context.Context, u *url.URL, o storage.Options) (*Store, error) {
	loc, err := ParseLocation(u)
	if err != nil {
		return nil, err
	}
	if o.Encryption {
		// The remote casync sends its chunks as it keeps them: there is
		// nothing to decrypt, and encrypting what it is sent is not ours
		// to do.
		return nil, fmt.Errorf("store %s: encryption is not supported by ssh:// (casync) stores", loc)
	}
	sshPath := os.Getenv("CASYNC_SSH_PATH")
	if sshPath == "" {
		sshPath = "ssh"
	}
	remote := os.Getenv("CASYNC_REMOTE_PATH")
	if remote == "" {
		remote = "casync"
	}
	zf, err := storage.NewChunkFormat(storage.FormatOptions{Digest: o.Digest, MaxChunkSize: o.MaxChunkSize, SkipVerify: o.SkipVerify})
	if err != nil {
		return nil, err
	}
	pf, err := storage.NewChunkFormat(storage.FormatOptions{Uncompressed: true, Digest: o.Digest, MaxChunkSize: o.MaxChunkSize, SkipVerify: o.SkipVerify})
	if err != nil {
		return nil, err
	}
	s := &Store{
		loc: loc, name: loc.String(), sshPath: sshPath, args: loc.Args(remote),
		handshake: DefaultHandshakeTimeout, zstd: zf, plain: pf, log: o.Logger,
		slots: make([]slot, max(o.N, 1)),
	}
	if o.Timeout > 0 {
		s.timeout, s.handshake = o.Timeout, o.Timeout
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if _, err := s.conn(ctx, 0); err != nil {
		return nil, fmt.Errorf("store %s: %w", s.name, err)
	}
	return s, nil
}

// String returns the location (never with a password).
func (s *Store) String() string { return s.name }

// Command returns the ssh command line the store runs, for diagnostics.
func (s *Store) Command() []string { return append([]string{s.sshPath}, s.args...) }

// conn returns the live connection of slot i, dialling a new one if there
// is none.
func (s *Store) conn(ctx context.Context, i int) (*conn, error) {
	sl := &s.slots[i]
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if s.closed.Load() {
		return nil, errClosed
	}
	if sl.c != nil && sl.c.alive() {
		return sl.c, nil
	}
	if sl.c != nil {
		s.log.Debug("reconnecting", "store", s.name, "after", sl.c.failure())
	}
	c, err := dial(ctx, s.name, s.sshPath, s.args, s.handshake)
	if err != nil {
		return nil, err
	}
	sl.c = c
	return c, nil
}

// replace retires connection c of slot i (if it is still there), so that
// the next call dials a new one.
func (s *Store) replace(i int, c *conn) {
	sl := &s.slots[i]
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.c == c {
		sl.c = nil
		go c.retire()
	}
}

// fetch asks a connection for chunk id: CHUNK or MISSING.
func (s *Store) fetch(ctx context.Context, id chunk.ID) (*casyncproto.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	i := int(s.next.Add(1) % uint64(len(s.slots)))
	var m *casyncproto.Message
	c, err := s.conn(ctx, i)
	if err == nil {
		m, err = c.get(ctx, id)
	}
	// An ID this connection was asked for already, or a connection
	// retired under the call, is asked on the slot's next connection.
	for tries := 0; (errors.Is(err, errAsked) || errors.Is(err, errRetired)) && tries < 3; tries++ {
		s.replace(i, c)
		if c, err = s.conn(ctx, i); err == nil {
			m, err = c.get(ctx, id)
		}
	}
	if err != nil && !isContext(err) {
		err = &storage.ChunkError{Store: s.name, ID: id, Err: err}
	}
	return m, err
}

// GetChunk fetches chunk id and verifies it (unless SkipVerify). A
// MISSING answer is a chunk.ErrMissing naming chunk and store.
func (s *Store) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	m, err := s.fetch(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.Type == casyncproto.Missing {
		return nil, &chunk.MissingError{ID: id, Store: s.name}
	}
	f := s.plain
	if m.Flags&casyncproto.Compressed != 0 {
		f = s.zstd
	}
	return f.Decode(s.name, id, m.Data, true)
}

// HasChunk asks for the chunk and reports whether it came (without
// decoding it): the protocol has no other question.
func (s *Store) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	m, err := s.fetch(ctx, id)
	if err != nil {
		return false, err
	}
	return m.Type == casyncproto.Chunk, nil
}

// StoreChunk fails: the store is read-only.
func (s *Store) StoreChunk(_ context.Context, c *chunk.Chunk) error {
	return storage.Permanent(&storage.ChunkError{Store: s.name, Op: "writing", ID: c.ID(), Err: ErrReadOnly})
}

// Close says GOODBYE on every connection and waits for their servers to
// end.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	var wg sync.WaitGroup
	for i := range s.slots {
		sl := &s.slots[i]
		sl.mu.Lock()
		c := sl.c
		sl.mu.Unlock()
		if c != nil {
			wg.Go(c.close)
		}
	}
	wg.Wait()
	return nil
}
