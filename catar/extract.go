package catar

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// ExtractOptions tune Extract.
type ExtractOptions struct {
	// NoSameOwner leaves files owned by the extracting user instead of
	// restoring the archived uid/gid (tar's --no-same-owner).
	NoSameOwner bool
	// NoSamePermissions applies the process umask to the archived modes
	// (tar's --no-same-permissions).
	NoSamePermissions bool
	// Workers is the number of goroutines writing the payloads of regular
	// files while the stream is read on: 0 means 4, 1 writes everything in
	// the reading goroutine.
	Workers int
	// MaxInFlight bounds the payload bytes read ahead of the workers; 0
	// means 32 MiB.
	MaxInFlight int64
	// CloneFrom, when set, is asked for each regular file of at least
	// 64 KiB for a file on the same file system that probably holds the
	// same bytes (a seed tree's), given the entry and the stream offset of
	// its payload; "" for none. The file is then cloned (FICLONE: shared
	// extents on Btrfs and XFS), compared with the payload as it is read,
	// and corrected where it differs; where cloning fails it is written.
	CloneFrom func(e *Entry, payloadOffset int64) string

	// Logger receives what could not be restored (owners, xattrs, flags
	// and devices the process lacks the privilege for); nil discards it.
	Logger *slog.Logger
}

// ExtractStats counts what Extract wrote.
type ExtractStats struct {
	Entries  int64 `json:"entries"` // every entry, the root included
	Dirs     int64 `json:"dirs"`
	Files    int64 `json:"files"`
	Symlinks int64 `json:"symlinks"`
	Devices  int64 `json:"devices"`
	FIFOs    int64 `json:"fifos"`
	Sockets  int64 `json:"sockets"`
	Bytes    int64 `json:"bytes"`   // payload bytes written
	Cloned   int64 `json:"cloned"`  // payload bytes cloned from CloneFrom's files (and verified)
	Skipped  int64 `json:"skipped"` // metadata or nodes not restored for lack of privilege (logged)
}

// ExtractError is a failure to write an entry of the archive to disk: the
// entry's path, the offset of its ENTRY record and the operation. Escapes
// from the target directory (os.Root's confinement) come back as one too.
type ExtractError struct {
	Path   string
	Offset int64
	Op     string
	Err    error
}

func (e *ExtractError) Error() string {
	return fmt.Sprintf("extract %q (archive offset %d): %s: %v", e.Path, e.Offset, e.Op, e.Err)
}

func (e *ExtractError) Unwrap() error { return e.Err }

// smallFile is the largest payload handed to a worker whole; larger files
// are written by the reading goroutine while the workers go on.
const smallFile = 1 << 20

// Extract decodes the archive stream r into the directory dir (created if
// missing), confined to it with os.Root: nothing is created, followed or
// changed outside dir, whatever names or symlinks the archive holds.
//
// The root entry's metadata goes to dir itself. Into an existing directory,
// entries the archive names replace what is there (a non-directory is
// unlinked first and written anew, never written through; an existing
// directory is kept and its metadata updated; a non-directory where the
// archive has a directory is removed); other entries are left alone.
//
// Files are created under their final name (no temporary name and rename):
// the archive is read once, in order, and every file is created by the
// reading goroutine; a file up to 1 MiB is then read whole and handed to a
// worker that writes and finishes it (at most MaxInFlight bytes wait for
// the workers), a larger one is written by the reading goroutine. On an error
// the extraction stops and what was written stays.
//
// As root it restores owners, modes (setuid, sticky), nanosecond mtimes
// (symlinks too), xattrs, ACLs, file capabilities, chattr flags (applied
// last), device nodes, fifos and sockets. As another user, what the kernel
// refuses for lack of privilege (chown to another user, trusted.* xattrs,
// device nodes, immutable/append flags) is skipped, logged and counted.
// Directory modes, times and flags are set after their children.
func Extract(ctx context.Context, r io.Reader, dir string, o ExtractOptions) (ExtractStats, error) {
	x := &extractor{o: o, log: o.Logger, ar: NewReader(r)}
	if x.log == nil {
		x.log = slog.New(slog.DiscardHandler)
	}
	if x.o.MaxInFlight <= 0 {
		x.o.MaxInFlight = 32 << 20
	}
	if x.o.Workers == 0 {
		x.o.Workers = 4
	}
	if o.NoSamePermissions {
		x.umask = processUmask()
	}
	x.budgetCond = sync.NewCond(&x.budgetMu)
	err := x.run(ctx, dir)
	st := x.stats
	st.Bytes, st.Cloned = x.bytes.Load(), x.cloned.Load()
	st.Skipped = x.skipped.Load()
	return st, err
}

type extractor struct {
	o     ExtractOptions
	log   *slog.Logger
	ar    *Reader
	feat  Features
	umask uint32
	chown bool

	stack []*exDir
	stats ExtractStats

	tasks   chan *fileTask
	workers sync.WaitGroup
	errMu   sync.Mutex
	werr    error // first worker error

	budgetMu   sync.Mutex
	budgetCond *sync.Cond
	inFlight   int64

	bytes   atomic.Int64
	cloned  atomic.Int64
	noClone bool // a clone failed: CloneFrom is not asked again
	skipped atomic.Int64
	copyBuf []byte
}

// exDir is a directory being extracted: a confined handle on it, and the
// workers still writing its children.
type exDir struct {
	path    string
	off     int64
	e       *Entry
	root    *os.Root
	dirf    *os.File // the directory opened, for the *at system calls; lazily
	pending sync.WaitGroup
}

type fileTask struct {
	f      *os.File
	e      *Entry
	off    int64
	data   []byte
	parent *exDir
}

func (x *extractor) run(ctx context.Context, dir string) (err error) {
	e, err := x.ar.Next()
	if err != nil {
		if err == io.EOF {
			err = formatErr(0, "", "empty archive")
		}
		return err
	}
	x.feat = x.ar.Features()
	x.chown = !x.o.NoSameOwner && x.feat&(With16BitUIDs|With32BitUIDs) != 0
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &ExtractError{Path: "", Offset: 0, Op: "create target", Err: err}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return &ExtractError{Path: "", Offset: 0, Op: "open target", Err: err}
	}
	x.stats.Entries++
	x.stats.Dirs++
	x.stack = append(x.stack, &exDir{path: "", e: e, root: root})
	if x.o.Workers > 1 {
		x.tasks = make(chan *fileTask, x.o.Workers)
		for range x.o.Workers {
			x.workers.Add(1)
			go x.worker()
		}
	}
	defer func() {
		if x.tasks != nil {
			close(x.tasks)
			x.workers.Wait()
		}
		// Close what is still open after an error; finish nothing more.
		for _, d := range x.stack {
			d.close()
		}
		if err == nil {
			err = x.workerErr()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := x.workerErr(); err != nil {
			return err
		}
		e, err := x.ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		off := x.ar.Offset()
		for len(x.stack) > 1 && !strings.HasPrefix(e.Path, x.top().path+"/") {
			if err := x.finishDir(); err != nil {
				return err
			}
		}
		parent := x.top()
		name := e.Path
		if parent.path != "" {
			name = e.Path[len(parent.path)+1:]
		}
		if name == "" || strings.ContainsRune(name, '/') || name == "." || name == ".." {
			// The Reader refuses such names; this is a second lock.
			return &ExtractError{Path: e.Path, Offset: off, Op: "name", Err: errors.New("invalid entry name")}
		}
		x.stats.Entries++
		if err := x.entry(parent, name, e, off); err != nil {
			return err
		}
	}
	for len(x.stack) > 0 {
		if err := x.finishDir(); err != nil {
			return err
		}
	}
	return nil
}

func (x *extractor) top() *exDir { return x.stack[len(x.stack)-1] }

func (x *extractor) entry(parent *exDir, name string, e *Entry, off int64) error {
	wrap := func(op string, err error) error {
		if err == nil {
			return nil
		}
		var fe *FormatError
		if errors.As(err, &fe) {
			return err
		}
		return &ExtractError{Path: e.Path, Offset: off, Op: op, Err: err}
	}
	switch e.Type() {
	case ModeDir:
		x.stats.Dirs++
		sub, err := x.mkdir(parent.root, name)
		if err != nil {
			return wrap("mkdir", err)
		}
		x.stack = append(x.stack, &exDir{path: e.Path, off: off, e: e, root: sub})
		return nil
	case ModeRegular:
		x.stats.Files++
		return wrap("write file", x.file(parent, name, e, off))
	case ModeSymlink:
		x.stats.Symlinks++
		return wrap("symlink", x.symlink(parent, name, e))
	default:
		switch e.Type() {
		case ModeFIFO:
			x.stats.FIFOs++
		case ModeSocket:
			x.stats.Sockets++
		default:
			x.stats.Devices++
		}
		return wrap("mknod", x.node(parent, name, e))
	}
}

// mkdir makes (or keeps) the directory name below parent and returns a
// confined handle on it.
func (x *extractor) mkdir(parent *os.Root, name string) (*os.Root, error) {
	err := parent.Mkdir(name, 0o700)
	if errors.Is(err, fs.ErrExist) {
		fi, lerr := parent.Lstat(name)
		if lerr != nil {
			return nil, lerr
		}
		if !fi.IsDir() {
			if err := parent.Remove(name); err != nil {
				return nil, err
			}
			err = parent.Mkdir(name, 0o700)
		} else {
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	return parent.OpenRoot(name)
}

// replace runs create; if name exists, removes it (never following a
// symlink) and runs create again.
func replace(parent *os.Root, name string, create func() error) error {
	err := create()
	if errors.Is(err, fs.ErrExist) {
		if err := parent.RemoveAll(name); err != nil {
			return err
		}
		err = create()
	}
	return err
}

func (x *extractor) file(parent *exDir, name string, e *Entry, off int64) error {
	// Files are created here, in archive order: creating in parallel in one
	// directory only makes the workers contend for its lock in the kernel.
	f, err := createFile(parent.root, name)
	if err != nil {
		return err
	}
	if x.o.CloneFrom != nil && e.Size >= cloneMin && !x.noClone {
		src := x.o.CloneFrom(e, x.ar.PayloadOffset())
		err := errNoSource
		if src != "" {
			err = cloneFile(f, src)
		}
		if cloneUnsupported(err) {
			x.noClone = true // not here (ext4, tmpfs, another file system): write from now on
		}
		if err == nil {
			defer f.Close()
			if err := x.checkClone(f, e); err != nil {
				return err
			}
			if err := x.restore(f, e, off); err != nil {
				return err
			}
			return f.Close()
		}
	}
	if x.tasks != nil && e.Size <= smallFile {
		// A worker writes and finishes the file; the parent's pending
		// count holds its metadata until then.
		x.acquire(e.Size)
		data := make([]byte, e.Size)
		if _, err := io.ReadFull(x.ar, data); err != nil {
			x.release(e.Size)
			f.Close()
			return err
		}
		parent.pending.Add(1)
		x.tasks <- &fileTask{f: f, e: e, off: off, data: data, parent: parent}
		return nil
	}
	defer f.Close()
	if x.copyBuf == nil {
		x.copyBuf = make([]byte, 256<<10)
	}
	for {
		n, rerr := x.ar.Read(x.copyBuf)
		if n > 0 {
			if _, err := f.Write(x.copyBuf[:n]); err != nil {
				return err
			}
			x.bytes.Add(int64(n))
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if err := x.restore(f, e, off); err != nil {
		return err
	}
	return f.Close()
}

var errNoSource = errors.New("no file to clone from")

// cloneUnsupported reports whether a clone failed because the file systems
// cannot clone at all, rather than for this file.
func cloneUnsupported(err error) bool {
	return errors.Is(err, errNotSupported) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EXDEV) ||
		errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTTY)
}

// cloneMin is the smallest file CloneFrom is asked about: below it a
// clone saves little over writing.
const cloneMin = 64 << 10

// checkClone reads the payload of e and compares it with what the cloned
// file f holds, writing the payload where they differ; the file ends up
// with exactly the payload, and the stats count the cloned bytes.
func (x *extractor) checkClone(f *os.File, e *Entry) error {
	if x.copyBuf == nil {
		x.copyBuf = make([]byte, 256<<10)
	}
	have := make([]byte, len(x.copyBuf))
	var pos int64
	for {
		n, rerr := x.ar.Read(x.copyBuf)
		if n > 0 {
			k, err := f.ReadAt(have[:n], pos)
			if err != nil && err != io.EOF {
				return err
			}
			if k < n || !bytes.Equal(have[:n], x.copyBuf[:n]) {
				if _, err := f.WriteAt(x.copyBuf[:n], pos); err != nil {
					return err
				}
				x.bytes.Add(int64(n))
			} else {
				x.cloned.Add(int64(n))
			}
			pos += int64(n)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	return f.Truncate(pos)
}

// createFile creates name in parent for writing, replacing what is there.
func createFile(parent *os.Root, name string) (f *os.File, err error) {
	err = replace(parent, name, func() (err error) {
		f, err = parent.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600) // read too: a clone is compared
		return err
	})
	return f, err
}

func (x *extractor) worker() {
	defer x.workers.Done()
	for t := range x.tasks {
		err := x.writeTask(t)
		if err != nil {
			x.setErr(&ExtractError{Path: t.e.Path, Offset: t.off, Op: "write file", Err: err})
		}
		x.release(t.e.Size)
		t.parent.pending.Done()
	}
}

func (x *extractor) writeTask(t *fileTask) error {
	if x.workerErr() != nil {
		t.f.Close()
		return nil // stopping: do not add to the damage
	}
	f := t.f
	defer f.Close()
	if _, err := f.Write(t.data); err != nil {
		return err
	}
	x.bytes.Add(int64(len(t.data)))
	if err := x.restore(f, t.e, t.off); err != nil {
		return err
	}
	return f.Close()
}

func (x *extractor) setErr(err error) {
	x.errMu.Lock()
	if x.werr == nil {
		x.werr = err
	}
	x.errMu.Unlock()
}

func (x *extractor) workerErr() error {
	x.errMu.Lock()
	defer x.errMu.Unlock()
	return x.werr
}

// acquire waits until n more payload bytes fit in the in-flight budget
// (a payload larger than the budget goes alone).
func (x *extractor) acquire(n int64) {
	x.budgetMu.Lock()
	for x.inFlight > 0 && x.inFlight+n > x.o.MaxInFlight {
		x.budgetCond.Wait()
	}
	x.inFlight += n
	x.budgetMu.Unlock()
}

func (x *extractor) release(n int64) {
	x.budgetMu.Lock()
	x.inFlight -= n
	x.budgetMu.Unlock()
	x.budgetCond.Broadcast()
}

// finishDir waits for the workers writing the top directory's children,
// restores its metadata and pops it.
func (x *extractor) finishDir() error {
	d := x.top()
	x.stack = x.stack[:len(x.stack)-1]
	defer d.close()
	d.pending.Wait()
	if err := x.workerErr(); err != nil {
		return err
	}
	f, err := d.dir()
	if err == nil {
		err = x.restore(f, d.e, d.off)
	}
	if err != nil {
		return &ExtractError{Path: d.path, Offset: d.off, Op: "restore directory metadata", Err: err}
	}
	return nil
}

func (d *exDir) dir() (*os.File, error) {
	if d.dirf == nil {
		f, err := d.root.Open(".")
		if err != nil {
			return nil, err
		}
		d.dirf = f
	}
	return d.dirf, nil
}

func (d *exDir) close() {
	if d.dirf != nil {
		d.dirf.Close()
		d.dirf = nil
	}
	if d.root != nil {
		d.root.Close()
		d.root = nil
	}
}

func (x *extractor) symlink(parent *exDir, name string, e *Entry) error {
	err := replace(parent.root, name, func() error { return parent.root.Symlink(e.Target, name) })
	if err != nil {
		return err
	}
	if x.chown {
		if err := parent.root.Lchown(name, int(e.UID), int(e.GID)); err != nil {
			if err := x.skip(e, "lchown", err); err != nil {
				return err
			}
		}
	}
	if x.feat&WithTimes != 0 {
		d, err := parent.dir()
		if err != nil {
			return err
		}
		return lutimesAt(d, name, e.MTime)
	}
	return nil
}

func (x *extractor) node(parent *exDir, name string, e *Entry) error {
	d, err := parent.dir()
	if err != nil {
		return err
	}
	err = replace(parent.root, name, func() error { return mknodAt(d, name, e.Mode, e.DevMajor, e.DevMinor) })
	if err != nil {
		if isPrivilegeErr(err) {
			return x.skip(e, "mknod", err)
		}
		return err
	}
	if x.chown {
		if err := parent.root.Lchown(name, int(e.UID), int(e.GID)); err != nil {
			if err := x.skip(e, "lchown", err); err != nil {
				return err
			}
		}
	}
	if err := chmodAt(d, name, x.mode(e)); err != nil {
		return err
	}
	if x.feat&WithTimes != 0 {
		return lutimesAt(d, name, e.MTime)
	}
	return nil
}

func (x *extractor) mode(e *Entry) uint32 {
	return e.Mode & ModePerm &^ x.umask
}

// restore sets the metadata of an open file or directory, in the order the
// kernel needs: owner (it clears setuid and capabilities), xattrs, ACLs,
// capabilities, mode, times, then chattr flags (immutable forbids the rest).
func (x *extractor) restore(f *os.File, e *Entry, off int64) error {
	if x.chown {
		if err := f.Chown(int(e.UID), int(e.GID)); err != nil {
			if err := x.skip(e, "chown", err); err != nil {
				return err
			}
		}
	}
	for _, xa := range e.Xattrs {
		if err := x.setXattr(f, e, xa.Name, xa.Value); err != nil {
			return err
		}
	}
	if x.feat&WithACL != 0 && !e.ACL.IsZero() {
		if b := accessACLXattr(e); b != nil {
			if err := x.setXattr(f, e, "system.posix_acl_access", b); err != nil {
				return err
			}
		}
		if e.ACL.Default != nil {
			if err := x.setXattr(f, e, "system.posix_acl_default", defaultACLXattr(e.ACL.Default)); err != nil {
				return err
			}
		}
	}
	if e.SELinux != "" {
		if err := x.setXattr(f, e, "security.selinux", []byte(e.SELinux)); err != nil {
			return err
		}
	}
	if e.FCaps != nil && x.feat&WithFcaps != 0 {
		if err := x.setXattr(f, e, "security.capability", e.FCaps); err != nil {
			return err
		}
	}
	if err := fchmod(f, x.mode(e)); err != nil {
		return err
	}
	if x.feat&WithTimes != 0 {
		if err := futimes(f, e.MTime); err != nil {
			return err
		}
	}
	if fl := chattrFlags(e.Flags); fl != 0 {
		if err := setChattr(f, fl); err != nil {
			if err := x.skip(e, "chattr", err); err != nil {
				return err
			}
		}
	}
	return nil
}

func (x *extractor) setXattr(f *os.File, e *Entry, name string, value []byte) error {
	if err := fsetxattr(f, name, value); err != nil {
		if err := x.skip(e, "setxattr "+name, err); err != nil {
			return err
		}
	}
	return nil
}

// skip logs and counts a failure the process's lack of privilege (or the
// file system's lack of support) explains, and returns any other error.
func (x *extractor) skip(e *Entry, op string, err error) error {
	if !isPrivilegeErr(err) {
		return err
	}
	x.skipped.Add(1)
	x.log.Debug("not restored", "entry", e.Path, "op", op, "err", err)
	return nil
}

func isPrivilegeErr(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) || errors.Is(err, errNotSupported) ||
		errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP)
}

var errNotSupported = errors.New("not supported on this platform")
