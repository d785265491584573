package sftpstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"net/url"
	"os"
	"path"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/folbricht/desync/storage"
	"github.com/pkg/sftp"
)

// errClosed is the error of a call on a closed driver.
var errClosed = storage.Permanent(errors.New("store is closed"))

// Driver is the SFTP [storage.ObjectDriver]: object "0a1b/….cacnk" is the
// file <dir>/0a1b/….cacnk on the server. Calls run on a pool of ssh
// sessions (see the package documentation).
type Driver struct {
	t       target
	pool    *pool
	timeout time.Duration // of each call; 0 none
	// noPosixRename makes Put rename as on a server without
	// posix-rename@openssh.com (for tests).
	noPosixRename bool
	// newDirs leans positive while uploads mostly land in directories
	// that do not exist yet (a new store: most chunks are the first of
	// their 4-hex directory), and Put then makes the directory before it
	// tries the file, one round trip less than failing first.
	newDirs atomic.Int32
}

// newDirsCap bounds newDirs, so that the guess follows a change soon.
const newDirsCap = 8

// lean moves newDirs one step toward up (true) or down, within its bounds.
func (d *Driver) lean(up bool) {
	for {
		v := d.newDirs.Load()
		n := v - 1
		if up {
			n = v + 1
		}
		if n > newDirsCap || n < -newDirsCap || d.newDirs.CompareAndSwap(v, n) {
			return
		}
	}
}

// NewDriver returns the driver for the store at loc, an
// sftp://[user@]host[:port]/path URL, with a pool of o.N sessions
// (DefaultSessions if 0). o.Timeout bounds each call and the start of a
// session; 0 leaves calls to the caller's context and sessions to
// DefaultConnectTimeout, a negative value bounds neither. Nothing is run
// yet: the first call starts the first session.
func NewDriver(loc *url.URL, o storage.Options) (*Driver, error) {
	t, err := parseTarget(loc)
	if err != nil {
		return nil, storage.Permanent(fmt.Errorf("store %s: %w", loc.Redacted(), err))
	}
	opts := []sftp.ClientOption{sftp.UseConcurrentWrites(true)}
	d := &Driver{t: t, pool: newPool(t, o.N, o.Timeout, opts)}
	if o.Timeout > 0 {
		d.timeout = o.Timeout
	}
	return d, nil
}

// with runs call on a session of the pool. If ctx ends during the call
// the session is killed (its calls fail at once) and ctx's error is
// returned; a call that fails because the connection is lost is a
// transient error, and its session is replaced.
func (d *Driver) with(ctx context.Context, op, name string, call func(*session) error) error {
	// Starting a session has its own bound (dial's timeout).
	s, err := d.pool.get(ctx)
	if err != nil {
		return err
	}
	if d.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.timeout)
		defer cancel()
	}
	stop := context.AfterFunc(ctx, s.kill)
	err = call(s)
	killed := !stop()
	defer d.pool.put(s)
	switch {
	case err == nil:
		return nil
	case killed:
		return ctx.Err()
	case lost(s, err):
		s.dead.Store(true)
		msg := fmt.Sprintf("%s %s: connection lost", op, name)
		if l := s.stderr.line(""); l != "" {
			msg += " (ssh: " + l + ")"
		}
		return storage.Transient(fmt.Errorf("%s: %w", msg, err))
	}
	return fmt.Errorf("%s %s: %w", op, name, err)
}

// lost reports whether err says the session's connection is gone.
func lost(s *session, err error) bool {
	return errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrClosedPipe) || s.dead.Load()
}

// Get reads the whole file of name; one of more than limit bytes is
// storage.ErrTooLarge. The file is closed in the background: its reply is
// not waited for.
func (d *Driver) Get(ctx context.Context, name string, limit int64) ([]byte, error) {
	var b []byte
	err := d.with(ctx, "get", name, func(s *session) error {
		f, err := s.client.Open(d.t.remote(name))
		if err != nil {
			return err
		}
		defer func() { go f.Close() }()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if fi.Size() > limit {
			return storage.ErrTooLarge
		}
		b = make([]byte, fi.Size())
		_, err = io.ReadFull(f, b)
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Open streams the file of name; it holds a session of the pool until
// it is closed.
func (d *Driver) Open(ctx context.Context, name string, limit int64) (io.ReadCloser, error) {
	s, err := d.pool.get(ctx)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, s.kill)
	rf := &remoteFile{d: d, s: s, stop: stop, name: name, ctx: ctx}
	f, err := s.client.Open(d.t.remote(name))
	if err == nil {
		rf.f = f
		var fi os.FileInfo
		if fi, err = f.Stat(); err == nil && fi.Size() > limit {
			err = storage.ErrTooLarge
		}
	}
	if err != nil {
		err = rf.wrap("get", err)
		rf.Close()
		return nil, err
	}
	rf.r = bufio.NewReaderSize(io.LimitReader(f, limit), 256<<10)
	return rf, nil
}

// remoteFile is a file being streamed, on a session of its own.
type remoteFile struct {
	d    *Driver
	s    *session
	stop func() bool
	ctx  context.Context
	name string
	f    *sftp.File
	r    io.Reader
}

func (rf *remoteFile) wrap(op string, err error) error {
	switch {
	case err == nil, err == io.EOF:
		return err
	case rf.ctx.Err() != nil:
		return rf.ctx.Err()
	case lost(rf.s, err):
		rf.s.dead.Store(true)
		return storage.Transient(fmt.Errorf("%s %s: connection lost: %w", op, rf.name, err))
	}
	return fmt.Errorf("%s %s: %w", op, rf.name, err)
}

func (rf *remoteFile) Read(p []byte) (int, error) {
	n, err := rf.r.Read(p)
	return n, rf.wrap("reading", err)
}

func (rf *remoteFile) Close() error {
	if rf.s == nil {
		return nil
	}
	if rf.f != nil {
		rf.f.Close()
	}
	rf.stop()
	rf.d.pool.put(rf.s)
	rf.s = nil
	return nil
}

// Exists stats the file of name.
func (d *Driver) Exists(ctx context.Context, name string) (bool, error) {
	err := d.with(ctx, "stat", name, func(s *session) error {
		_, err := s.client.Stat(d.t.remote(name))
		return err
	})
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Put writes data to a temporary file next to name's (".<base>.desync-
// <random>.tmp") and renames it into place, so that a reader sees the
// whole object or none: with posix-rename@openssh.com where the server has
// it (an existing object is replaced at once), else with a plain rename
// that, if the object exists, is retried after removing it. A missing
// directory below the store's (a chunk's 4-hex one) is created; the
// store's own directory must exist.
func (d *Driver) Put(ctx context.Context, name string, data []byte) error {
	final := d.t.remote(name)
	dir := path.Dir(final)
	tmp := path.Join(dir, fmt.Sprintf(".%s.desync-%016x.tmp", path.Base(final), rand.Uint64()))
	return d.with(ctx, "put", name, func(s *session) error {
		const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if dir != d.t.dir && d.newDirs.Load() > 0 {
			// Most directories are new: make it first. If it was there,
			// that was a round trip lost, and the guess leans the other way.
			made, err := d.mkdir(s, dir)
			if err != nil {
				return err
			}
			d.lean(made)
		}
		f, err := s.client.OpenFile(tmp, flags)
		if errors.Is(err, os.ErrNotExist) {
			if err := d.mkdirs(s, dir); err != nil {
				return err
			}
			d.lean(true)
			f, err = s.client.OpenFile(tmp, flags)
		} else if err == nil && d.newDirs.Load() <= 0 {
			d.lean(false)
		}
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		if err != nil {
			f.Close()
		} else {
			// The server has the data once the write is acknowledged: the
			// file can be closed and renamed at the same time.
			closed := make(chan error, 1)
			go func() { closed <- f.Close() }()
			err = d.rename(s, tmp, final)
			if cerr := <-closed; err == nil {
				err = cerr
			}
		}
		if err != nil && !s.dead.Load() {
			s.client.Remove(tmp)
		}
		return err
	})
}

func (d *Driver) rename(s *session, from, to string) error {
	if s.posix && !d.noPosixRename {
		return s.client.PosixRename(from, to)
	}
	err := s.client.Rename(from, to)
	if err == nil {
		return nil
	}
	if _, serr := s.client.Lstat(to); serr != nil {
		return err // the target is not in the way: the rename failed for another reason
	}
	if err := s.client.Remove(to); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return s.client.Rename(from, to)
}

// mkdirs creates dir and its missing parents below the store's
// directory, never the store's directory itself.
func (d *Driver) mkdirs(s *session, dir string) error {
	if dir == d.t.dir || !strings.HasPrefix(dir, d.t.dir+"/") && d.t.dir != "/" {
		return fmt.Errorf("remote directory %q: %w", dir, os.ErrNotExist)
	}
	err := s.client.Mkdir(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := d.mkdirs(s, path.Dir(dir)); err != nil {
			return err
		}
		err = s.client.Mkdir(dir)
	}
	if err != nil {
		// Another writer may have made it meanwhile.
		if fi, serr := s.client.Stat(dir); serr == nil && fi.IsDir() {
			return nil
		}
	}
	return err
}

// mkdir makes dir, whose parent should exist, and reports whether it was
// new. A failure other than the lost connection is left for the upload
// to meet (a missing parent is made then).
func (d *Driver) mkdir(s *session, dir string) (made bool, err error) {
	err = s.client.Mkdir(dir)
	if err != nil && lost(s, err) {
		return false, err
	}
	return err == nil, nil
}

// Delete removes the file of name.
func (d *Driver) Delete(ctx context.Context, name string) error {
	return d.with(ctx, "remove", name, func(s *session) error {
		return s.client.Remove(d.t.remote(name))
	})
}

// List walks the store's directory tree and yields the files whose names
// (relative to it) start with prefix, skipping hidden files (temporary
// files of uploads in progress or abandoned). A session is held only
// while a directory is read, never while the caller handles a name.
func (d *Driver) List(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		d.list(ctx, "", prefix, yield)
	}
}

// list yields the files under the relative directory rel; false means
// stop.
func (d *Driver) list(ctx context.Context, rel, prefix string, yield func(string, error) bool) bool {
	var entries []os.FileInfo
	err := d.with(ctx, "list", rel+"/", func(s *session) (err error) {
		entries, err = s.client.ReadDirContext(ctx, d.t.remote(rel))
		return err
	})
	if err != nil {
		return yield("", err)
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") {
			continue
		}
		if rel != "" {
			n = rel + "/" + n
		}
		switch {
		case e.IsDir():
			if (strings.HasPrefix(prefix, n+"/") || strings.HasPrefix(n+"/", prefix)) && !d.list(ctx, n, prefix, yield) {
				return false
			}
		case e.Mode().IsRegular() && strings.HasPrefix(n, prefix):
			if !yield(n, nil) {
				return false
			}
		}
	}
	return true
}

// Classify: a file that does not exist is missing; refused logins, host
// keys that do not match, unreachable hosts, a missing store directory and
// permission denied are permanent; a connection lost during a session (or
// while starting one) is transient.
func (d *Driver) Classify(err error) storage.ErrorKind {
	var se *sftp.StatusError
	switch {
	case err == nil:
		return storage.KindUnknown
	case storage.IsPermanent(err):
		return storage.KindPermanent
	case storage.IsTransient(err):
		return storage.KindTransient
	case errors.Is(err, os.ErrNotExist):
		return storage.KindMissing
	case errors.Is(err, os.ErrPermission), errors.Is(err, errors.ErrUnsupported):
		return storage.KindPermanent
	case errors.Is(err, sftp.ErrSSHFxConnectionLost):
		return storage.KindTransient
	case errors.As(err, &se) && se.FxCode() == sftp.ErrSSHFxOpUnsupported:
		return storage.KindPermanent
	}
	return storage.KindUnknown
}

// String is the store's location, sftp://[user@]host[:port]/dir/.
func (d *Driver) String() string { return d.t.String() }

// Close ends the idle sessions (and the others as their calls end).
func (d *Driver) Close() error { return d.pool.Close() }

var (
	_ storage.ObjectDriver   = (*Driver)(nil)
	_ storage.ObjectStreamer = (*Driver)(nil)
)
