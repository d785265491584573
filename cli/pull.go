package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/casyncproto"
)

// errno values of the ABORTs pull sends (Linux numbering, as casync's).
const (
	errnoIO     = 5  // EIO: a store failed
	errnoBadE   = 52 // EBADE: incompatible HELLO
	errnoBadMsg = 74 // EBADMSG: a protocol error
)

func (a *app) pullCmd() *command {
	var f commonFlags
	c := a.newCommand(commandSpec{
		name:    "pull",
		usage:   "desync pull [flags] - <archive> <index> <store> [<store>...]",
		minArgs: 4,
		maxArgs: anyArgs,
		short:   "serve chunks (and an index) over stdin/stdout with casync's protocol",
		long: `The server side of casync's remote protocol, as "casync pull" is: a client
(casync, or desync with an ssh:// store) runs it over ssh and asks for
chunks on stdin; they are sent on stdout, compressed as stored. It is a
drop-in for casync on the remote host: point CASYNC_REMOTE_PATH at desync.

The arguments are casync's: the first (a base) must be "-"; <archive>
must be "-" (archives are not served); <index> is "-" or a local index
file, sent to a client that asks for it; the stores (a "-" is skipped)
are read in order, like -s. Exits 0 when the client says GOODBYE,
closes the connection or goes away mid-reply.

Example:
  desync pull - - - /srv/store
  CASYNC_REMOTE_PATH=desync desync extract -s ssh://host/srv/store x.caibx x`,
	})
	f.addConcurrency(c.FlagSet)
	c.Exec = func(ctx context.Context, args []string) error {
		if args[0] != "-" {
			return usageErr("pull: the base (first argument) must be \"-\", not %q", args[0])
		}
		if args[1] != "-" {
			return usageErr("pull: serving archives is not supported (second argument %q; want \"-\")", args[1])
		}
		var locations []string
		for _, s := range args[3:] {
			if s != "-" {
				locations = append(locations, s)
			}
		}
		srv := &pullServer{in: a.io.In, out: a.io.Out, n: max(f.concurrency, 1), index: args[2]}
		if srv.index == "-" {
			srv.index = ""
			if len(locations) == 0 {
				return usageErr("pull: nothing to serve: give an index or a store")
			}
		} else if _, ok := storage.LocalPath(srv.index); !ok {
			return usageErr("pull: the index must be a local file, not %s", srv.index)
		}
		if len(locations) > 0 {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			sf := &storeFlags{fs: c.FlagSet, stores: locations}
			st, err := openReadOnly(ctx, sf, cfg, a.setup(storeSetup{digest: a.digest.d, concurrency: srv.n}), nil)
			if err != nil {
				return err
			}
			defer st.Close()
			srv.store = st
		}
		// A client that goes away mid-reply makes writes fail: with
		// SIGPIPE caught for the command, a write to a closed stdout
		// fails with EPIPE instead of killing the process, and pull ends
		// as when the client hangs up (status 0, nothing said).
		sigpipe := make(chan os.Signal, 1)
		signal.Notify(sigpipe, syscall.SIGPIPE)
		defer signal.Stop(sigpipe)
		out := &clientWriter{w: srv.out}
		srv.out = out
		err := srv.serve(ctx)
		if out.err != nil {
			return nil // the client is gone: nobody to tell
		}
		return err
	}
	return c
}

// clientWriter is pull's output to the client; err is its first failed
// write, which means the client has gone away.
type clientWriter struct {
	w   io.Writer
	err error
}

func (c *clientWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// pullServer answers one client of casync's protocol.
type pullServer struct {
	in    io.Reader
	out   io.Writer
	store chunk.Store // nil: no chunks
	index string      // local index file; "": none
	n     int         // chunks fetched at once
	w     *casyncproto.Writer
	zstd  chunk.Converter
}

// abort sends an ABORT and returns err.
func (s *pullServer) abort(errno uint64, err error) error {
	if s.w.Abort(errno, err.Error()) == nil {
		s.w.Flush()
	}
	return err
}

func (s *pullServer) serve(ctx context.Context) error {
	z, err := chunk.NewZstd(chunk.ZstdOptions{})
	if err != nil {
		return err
	}
	s.zstd = z
	r, w := casyncproto.NewReader(s.in), casyncproto.NewWriter(s.out)
	s.w = w
	var local uint64
	if s.store != nil {
		local |= casyncproto.ReadableStore
	}
	if s.index != "" {
		local |= casyncproto.ReadableIndex
	}
	if err := w.Hello(local); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return nil // the client is gone
	}
	m, err := r.ReadMessage()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return s.abort(errnoBadMsg, err)
	case m.Type != casyncproto.Hello:
		return s.abort(errnoBadMsg, fmt.Errorf("casync protocol: %s before HELLO", m.Type))
	}
	remote := m.Flags
	if err := casyncproto.CheckHello(local, remote); err != nil {
		return s.abort(errnoBadE, err)
	}
	if remote&casyncproto.PullIndex != 0 {
		if err := s.sendIndex(); err != nil {
			return s.abort(errnoIO, err)
		}
	}
	for {
		if err := w.Flush(); err != nil {
			return nil
		}
		m, err := r.ReadMessage()
		switch {
		case err == io.EOF:
			return nil
		case err != nil:
			return s.abort(errnoBadMsg, err)
		}
		switch {
		case m.Type == casyncproto.Goodbye:
			return nil
		case m.Type == casyncproto.Abort:
			return fmt.Errorf("the client aborted: %s (errno %d)", m.Reason, m.Errno)
		case m.Type == casyncproto.Request && remote&casyncproto.PullChunks != 0:
			if err := s.serveChunks(ctx, m.IDs); err != nil {
				return s.abort(errnoIO, err)
			}
		default:
			return s.abort(errnoBadMsg, fmt.Errorf("casync protocol: unexpected %s from the client", m.Type))
		}
	}
}

func (s *pullServer) sendIndex() error {
	f, err := os.Open(s.index)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := s.w.File(casyncproto.Index, f); err != nil {
		return fmt.Errorf("index %s: %w", s.index, err)
	}
	return nil
}

// fetched is one chunk's answer: its stored (zstd) bytes, or missing.
type fetched struct {
	data    []byte
	missing bool
	err     error
}

// serveChunks answers the IDs of one REQUEST in order, fetching up to n
// at once.
func (s *pullServer) serveChunks(ctx context.Context, ids []chunk.ID) error {
	res := make([]fetched, len(ids))
	sem := make(chan struct{}, s.n)
	var wg sync.WaitGroup
	for i, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			res[i] = s.fetch(ctx, id)
		})
	}
	wg.Wait()
	for i, id := range ids {
		var err error
		switch r := res[i]; {
		case r.err != nil:
			return r.err
		case r.missing:
			err = s.w.Missing(id)
		default:
			err = s.w.Chunk(casyncproto.Compressed, id, r.data)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fetch reads chunk id as stored: the file itself from a local store (the
// client verifies it), else through the store (verified) in zstd form.
func (s *pullServer) fetch(ctx context.Context, id chunk.ID) fetched {
	if path, suffix, ok := chunkFileOf(s.store, id); ok && suffix == storage.SuffixCompressed {
		if b, err := os.ReadFile(path); err == nil {
			return fetched{data: b}
		}
	}
	c, err := s.store.GetChunk(ctx, id)
	if errors.Is(err, chunk.ErrMissing) {
		return fetched{missing: true}
	}
	if err != nil {
		return fetched{err: err}
	}
	b, err := c.Stored(s.zstd)
	return fetched{data: b, err: err}
}

func chunkFileOf(st chunk.Store, id chunk.ID) (string, string, bool) {
	if f, ok := st.(storage.ChunkFiler); ok {
		return f.ChunkFile(id)
	}
	return "", "", false
}
