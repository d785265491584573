package fuse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"github.com/folbricht/desync/fuse/fusetest"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/catar"
	"github.com/folbricht/desync/storage"
	"golang.org/x/sys/unix"
)

// within runs fn and fails the test if it does not return in d (a hung
// mount is unmounted lazily so that fn's goroutine can end).
func within(t *testing.T, d time.Duration, dir string, fn func() error) {
	t.Helper()
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done) // also when fn calls t.Fatal
		err = fn()
	}()
	select {
	case <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(d):
		lazyUnmount(dir)
		t.Fatalf("no answer from the mount at %s within %v", dir, d)
	}
}

// mountBlob mounts b as "blob" in a new directory, unmounted at the end.
func mountBlob(t *testing.T, b *Blob) (dir string, m *Mount) {
	t.Helper()
	fusetest.Require(t)
	dir = t.TempDir()
	m, err := MountBlob(dir, "blob", b, MountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Error(err)
		}
		if fusetest.Mounted(t, dir) {
			t.Errorf("%s still mounted", dir)
		}
	})
	return dir, m
}

func TestMountBlob(t *testing.T) {
	f := newFixture(t, 8<<20, 5)
	b := NewBlob(f.ix, BlobOptions{Store: f.store})
	defer b.Close()
	dir, _ := mountBlob(t, b)
	within(t, time.Minute, dir, func() error {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		if len(ents) != 1 || ents[0].Name() != "blob" {
			t.Errorf("mount holds %v, want just blob", ents)
		}
		fi, err := os.Stat(filepath.Join(dir, "blob"))
		if err != nil {
			return err
		}
		if fi.Size() != int64(len(f.data)) || fi.Mode() != 0o444 {
			t.Errorf("blob: size %d mode %v", fi.Size(), fi.Mode())
		}
		got, err := os.ReadFile(filepath.Join(dir, "blob"))
		if err != nil {
			return err
		}
		if !bytes.Equal(got, f.data) {
			t.Error("the mounted blob differs from the original")
		}
		if _, err := os.OpenFile(filepath.Join(dir, "blob"), os.O_WRONLY, 0); err == nil {
			t.Error("the blob opened for writing")
		}
		return nil
	})
}

// TestMountBlobRandomReads: hundreds of reads at random offsets, through
// a fresh mount (no page cache), match the blob.
func TestMountBlobRandomReads(t *testing.T) {
	f := newFixture(t, 8<<20, 6)
	b := NewBlob(f.ix, BlobOptions{Store: f.store})
	defer b.Close()
	dir, _ := mountBlob(t, b)
	within(t, 2*time.Minute, dir, func() error {
		fh, err := os.Open(filepath.Join(dir, "blob"))
		if err != nil {
			return err
		}
		defer fh.Close()
		rng := rand.New(rand.NewPCG(6, 6))
		p := make([]byte, 200_000)
		for i := range 500 {
			off := rng.Int64N(int64(len(f.data)))
			n := rng.IntN(len(p)) + 1
			m, err := fh.ReadAt(p[:n], off)
			if err != nil && err != io.EOF {
				return err
			}
			if !bytes.Equal(p[:m], f.data[off:min(off+int64(n), int64(len(f.data)))]) {
				t.Fatalf("read %d: %d bytes at %d differ", i, n, off)
			}
		}
		return nil
	})
}

// TestMountBlobMissingChunk: a missing chunk is EIO on its range, in
// bounded time, and the rest of the blob reads.
func TestMountBlobMissingChunk(t *testing.T) {
	f := newFixture(t, 4<<20, 7)
	bad := len(f.ix.Chunks) / 2
	f.removeChunk(t, bad)
	b := NewBlob(f.ix, BlobOptions{Store: f.store})
	defer b.Close()
	dir, _ := mountBlob(t, b)
	c := f.ix.Chunks[bad]
	within(t, time.Minute, dir, func() error {
		fh, err := os.Open(filepath.Join(dir, "blob"))
		if err != nil {
			return err
		}
		defer fh.Close()
		p := make([]byte, 100)
		if _, err := fh.ReadAt(p, int64(c.Start+c.Size/2)); !errors.Is(err, syscall.EIO) {
			t.Errorf("read in the missing chunk: %v, want EIO", err)
		}
		// Whole pages clear of the missing chunk read, before and after it.
		const page = 4096
		ranges := [][2]int64{{0, int64(c.Start) / page * page}, {(int64(c.End()) + 2*page - 1) / page * page, int64(len(f.data))}}
		for _, r := range ranges {
			for off := r[0]; off < r[1]; off += 64 << 10 {
				n := min(64<<10, r[1]-off)
				q := make([]byte, n)
				if _, err := fh.ReadAt(q, off); err != nil && err != io.EOF {
					t.Fatalf("read of %d bytes at %d (missing chunk at %d-%d): %v", n, off, c.Start, c.End(), err)
				}
				if !bytes.Equal(q, f.data[off:off+n]) {
					t.Fatalf("read at %d differs", off)
				}
			}
		}
		return nil
	})
}

// TestMountBlobCOR: after a full read through the mount the copy-on-read
// file equals the blob, and a second mount initialized from the state
// reads it all without a store.
func TestMountBlobCOR(t *testing.T) {
	f := newFixture(t, 4<<20, 8)
	tmp := t.TempDir()
	corPath, statePath := filepath.Join(tmp, "cor"), filepath.Join(tmp, "state")
	cor, err := OpenCOR(corPath, f.ix)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBlob(f.ix, BlobOptions{Store: f.store, COR: cor})
	dir, m := mountBlob(t, b)
	within(t, time.Minute, dir, func() error {
		got, err := os.ReadFile(filepath.Join(dir, "blob"))
		if err == nil && !bytes.Equal(got, f.data) {
			t.Error("the mounted blob differs")
		}
		return err
	})
	if err := m.Unmount(); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if err := cor.SaveState(statePath); err != nil {
		t.Fatal(err)
	}
	cor.Close()
	if got, _ := os.ReadFile(corPath); !bytes.Equal(got, f.data) {
		t.Fatal("the copy-on-read file differs from the blob")
	}

	cor2, err := OpenCOR(corPath, f.ix)
	if err != nil {
		t.Fatal(err)
	}
	defer cor2.Close()
	sf, err := os.Open(statePath)
	if err != nil {
		t.Fatal(err)
	}
	marked, _, err := cor2.LoadState(sf, 4)
	sf.Close()
	if err != nil || marked != len(f.ix.Chunks) {
		t.Fatalf("LoadState: %d of %d, %v", marked, len(f.ix.Chunks), err)
	}
	b2 := NewBlob(f.ix, BlobOptions{Store: emptyStore(t), COR: cor2})
	defer b2.Close()
	dir2, _ := mountBlob(t, b2)
	within(t, time.Minute, dir2, func() error {
		got, err := os.ReadFile(filepath.Join(dir2, "blob"))
		if err == nil && !bytes.Equal(got, f.data) {
			t.Error("the second mount differs")
		}
		return err
	})
}

// fileInfo is what the tree comparison looks at.
type fileInfo struct {
	mode   fs.FileMode
	size   int64
	mtime  time.Time
	sum    [32]byte
	target string
	uid    uint32
	gid    uint32
}

// walkTree describes every entry below root by its relative path.
func walkTree(t *testing.T, root string, times bool) map[string]fileInfo {
	t.Helper()
	out := map[string]fileInfo{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		st := fi.Sys().(*syscall.Stat_t)
		info := fileInfo{mode: fi.Mode(), uid: st.Uid, gid: st.Gid}
		if times {
			info.mtime = fi.ModTime()
		}
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			info.size, info.sum = fi.Size(), sha256.Sum256(b)
		case fi.Mode()&fs.ModeSymlink != 0:
			info.target, err = os.Readlink(p)
			if err != nil {
				return err
			}
		}
		out[rel] = info
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMountTree: the tree mount of the vectors' tree.caidx shows what
// extracting the archive writes: names, types, sizes, contents, symlink
// targets, modes, owners, mtimes, and xattrs.
func TestMountTree(t *testing.T) {
	fusetest.Require(t)
	ix, err := caindex.ReadFile("../catar/testdata/tree.caidx")
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.NewLocal("../catar/testdata/tree.castr", storage.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := NewBlob(ix, BlobOptions{Store: st})
	defer b.Close()
	a, err := catar.OpenArchive(b, b.Size())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m, err := MountTree(dir, a, MountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := m.Unmount(); err != nil {
			t.Error(err)
		}
	}()

	// The reference: the archive extracted to disk.
	want := filepath.Join(t.TempDir(), "x")
	arch, err := os.ReadFile("../catar/testdata/tree.catar")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := catar.Extract(context.Background(), bytes.NewReader(arch), want, catar.ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	within(t, time.Minute, dir, func() error {
		got, ref := walkTree(t, dir, true), walkTree(t, want, true)
		// The mount point shows the root entry; the extraction target is
		// a directory of its own.
		delete(got, ".")
		delete(ref, ".")
		if len(got) != len(ref) {
			t.Errorf("%d entries in the mount, %d extracted", len(got), len(ref))
		}
		for p, w := range ref {
			g, ok := got[p]
			if !ok {
				t.Errorf("%s: missing from the mount", p)
				continue
			}
			if !w.mtime.Equal(g.mtime) && w.mode&fs.ModeSymlink == 0 {
				t.Errorf("%s: mtime %v, extracted %v", p, g.mtime, w.mtime)
			}
			g.mtime, w.mtime = time.Time{}, time.Time{}
			if g != w {
				t.Errorf("%s: mount %+v, extracted %+v", p, g, w)
			}
		}
		// Extended attributes, as listed and read back.
		n := 0
		for p := range ref {
			names := listXattrs(t, filepath.Join(want, p))
			if got := listXattrs(t, filepath.Join(dir, p)); strings.Join(got, ",") != strings.Join(names, ",") {
				t.Errorf("%s: xattrs %q, extracted %q", p, got, names)
			}
			for _, x := range names {
				n++
				if g, w := getXattr(t, filepath.Join(dir, p), x), getXattr(t, filepath.Join(want, p), x); !bytes.Equal(g, w) {
					t.Errorf("%s: xattr %s %q, extracted %q", p, x, g, w)
				}
			}
		}
		if n == 0 {
			t.Error("the tree has no xattr to compare")
		}
		return nil
	})
}

func listXattrs(t *testing.T, p string) []string {
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		if errors.Is(err, syscall.ENOTSUP) {
			return nil
		}
		t.Fatalf("listxattr %s: %v", p, err)
	}
	var names []string
	for _, s := range strings.Split(string(buf[:n]), "\x00") {
		if s != "" && !strings.HasPrefix(s, "security.") && !strings.HasPrefix(s, "system.") {
			names = append(names, s)
		}
	}
	return names
}

func getXattr(t *testing.T, p, name string) []byte {
	buf := make([]byte, 64<<10)
	n, err := unix.Lgetxattr(p, name, buf)
	if err != nil {
		t.Fatalf("getxattr %s %s: %v", p, name, err)
	}
	return buf[:n]
}
