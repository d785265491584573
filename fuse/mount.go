//go:build linux || darwin

package fuse

import (
	"fmt"
	"log/slog"
	"os/exec"
	"runtime"
	"sync"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"
)

// Supported reports whether this platform can mount (FUSE on Linux,
// macFUSE on macOS).
const Supported = true

// kernelIO is the largest read the kernel sends, and its read-ahead (see
// raiseReadAhead): four times the default, so a sequential reader costs
// few round trips. Not the 1 MiB a FUSE request can carry: go-fuse
// splices replies through a pipe of 1 MiB, which a 1 MiB read plus its
// header would not fit.
const kernelIO = 512 << 10

// Mount is a mounted file system, served until it is unmounted.
type Mount struct {
	srv  *gofuse.Server
	dir  string
	once sync.Once
	err  error
}

// Dir returns the mount point.
func (m *Mount) Dir() string { return m.dir }

// Wait returns when the file system is unmounted (by Unmount, or by
// fusermount -u from outside).
func (m *Mount) Wait() { m.srv.Wait() }

// Unmount unmounts the file system and returns once it is. If a process
// still has it open (busy), it is detached lazily: gone from the
// namespace now, released by the kernel when the last user closes it.
func (m *Mount) Unmount() error {
	m.once.Do(func() {
		err := m.srv.Unmount()
		if err != nil {
			if lerr := lazyUnmount(m.dir); lerr != nil {
				m.err = fmt.Errorf("unmounting %s: %w (lazy unmount: %v)", m.dir, err, lerr)
				return
			}
		}
		m.srv.Wait()
	})
	return m.err
}

// lazyUnmount detaches a busy mount.
func lazyUnmount(dir string) error {
	if runtime.GOOS == "darwin" {
		return exec.Command("umount", "-f", dir).Run()
	}
	var err error
	for _, prog := range []string{"fusermount3", "fusermount"} {
		if err = exec.Command(prog, "-u", "-z", dir).Run(); err == nil {
			return nil
		}
	}
	return err
}

// mount serves root at dir, read-only.
func mount(dir string, root gofs.InodeEmbedder, o MountOptions) (*Mount, error) {
	name := o.FsName
	if name == "" {
		name = "desync"
	}
	ttl := time.Hour // nothing in the file system ever changes
	opts := &gofs.Options{
		MountOptions: gofuse.MountOptions{
			FsName:       name,
			Name:         "desync",
			MaxWrite:     kernelIO, // also the largest read request
			MaxReadAhead: kernelIO,
			Options:      []string{"ro"},
			Debug:        o.Debug,
			AllowOther:   o.AllowOther,
		},
		EntryTimeout:    &ttl,
		AttrTimeout:     &ttl,
		NegativeTimeout: &ttl,
	}
	if o.Logger != nil {
		opts.Logger = slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug)
	}
	srv, err := gofs.Mount(dir, root, opts)
	if err != nil {
		return nil, fmt.Errorf("mounting %s: %w", dir, err)
	}
	if err := raiseReadAhead(dir); err != nil && o.Logger != nil {
		o.Logger.Debug("mount: kernel read-ahead left at its default", "mount", dir, "error", err)
	}
	return &Mount{srv: srv, dir: dir}, nil
}
