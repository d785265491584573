//go:build linux || darwin

package fuse

import (
	"context"
	"io"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"
)

// MountBlob mounts at dir a read-only directory holding one file, name,
// whose contents are b's stream.
func MountBlob(dir, name string, b *Blob, o MountOptions) (*Mount, error) {
	now := time.Now()
	root := &blobDir{name: name, file: &blobFile{b: b, mtime: now}, mtime: now}
	return mount(dir, root, o)
}

// blobDir is the root of a blob mount.
type blobDir struct {
	gofs.Inode
	name  string
	file  *blobFile
	mtime time.Time
}

var (
	_ gofs.NodeOnAdder   = (*blobDir)(nil)
	_ gofs.NodeGetattrer = (*blobDir)(nil)
	_ gofs.NodeGetattrer = (*blobFile)(nil)
	_ gofs.NodeOpener    = (*blobFile)(nil)
	_ gofs.NodeReader    = (*blobFile)(nil)
)

func (d *blobDir) OnAdd(ctx context.Context) {
	ch := d.NewPersistentInode(ctx, d.file, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: 2})
	d.AddChild(d.name, ch, false)
}

func (d *blobDir) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFDIR | 0o555
	out.Nlink = 2
	out.SetTimes(&d.mtime, &d.mtime, &d.mtime)
	return 0
}

// blobFile is the one file of a blob mount.
type blobFile struct {
	gofs.Inode
	b     *Blob
	mtime time.Time
}

func (f *blobFile) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFREG | 0o444
	out.Nlink = 1
	out.Size = uint64(f.b.Size())
	out.Blocks = (out.Size + 511) / 512
	out.Blksize = 1 << 16
	out.SetTimes(&f.mtime, &f.mtime, &f.mtime)
	return 0
}

func (f *blobFile) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR) != 0 {
		return nil, 0, syscall.EROFS
	}
	// The contents never change: the kernel may keep its page cache of
	// the file across opens.
	return nil, gofuse.FOPEN_KEEP_CACHE, 0
}

func (f *blobFile) Read(ctx context.Context, fh gofs.FileHandle, dest []byte, off int64) (gofuse.ReadResult, syscall.Errno) {
	vecs, release, err := f.b.slices(off, len(dest))
	if err != nil && err != io.EOF {
		release()
		return nil, syscall.EIO
	}
	return &chunkResult{vecs: vecs, release: release}, 0
}

// chunkResult is a read served straight from the chunks holding it: go-fuse
// writes the pieces to the kernel with one writev (Slices), and the chunks
// are given back once it has (Done), so the bytes are never copied in
// between.
type chunkResult struct {
	vecs    [][]byte
	release func()
	once    sync.Once
}

func (r *chunkResult) Size() int {
	n := 0
	for _, v := range r.vecs {
		n += len(v)
	}
	return n
}

// Bytes is for go-fuse paths that need one buffer.
func (r *chunkResult) Bytes(buf []byte) ([]byte, gofuse.Status) {
	buf = buf[:0]
	for _, v := range r.vecs {
		buf = append(buf, v...)
	}
	return buf, gofuse.OK
}

// Slices makes go-fuse write the pieces with writev(2).
func (r *chunkResult) Slices() ([][]byte, gofuse.Status) { return r.vecs, gofuse.OK }

func (r *chunkResult) Done() { r.once.Do(r.release) }

// readAt serves a FUSE read from r: EIO for any failure (r has logged it).
func readAt(r io.ReaderAt, dest []byte, off int64) (gofuse.ReadResult, syscall.Errno) {
	n, err := r.ReadAt(dest, off)
	if err != nil && err != io.EOF {
		return nil, syscall.EIO
	}
	return gofuse.ReadResultData(dest[:n]), 0
}
