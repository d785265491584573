//go:build linux || darwin

package fuse

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/folbricht/desync/catar"
	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"
)

// MountTree mounts the archive a at dir as a read-only directory tree:
// names, types, sizes, modes, owners, modification times, symlink targets,
// device numbers and extended attributes as the archive holds them. A
// directory is read from its goodbye table the first time it is looked
// into; file contents are read from the archive when they are read.
func MountTree(dir string, a *catar.Archive, o MountOptions) (*Mount, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	root := &treeNode{t: &tree{a: a, log: log}, n: a.Root()}
	return mount(dir, root, o)
}

// tree is what the nodes of a tree mount share.
type tree struct {
	a   *catar.Archive
	log *slog.Logger
}

// treeNode is one entry of a tree mount.
type treeNode struct {
	gofs.Inode
	t *tree
	n *catar.Node

	once   sync.Once // loads kids, a directory's children
	kids   []*catar.Node
	byName map[string]*catar.Node
	err    syscall.Errno
}

var (
	_ gofs.NodeGetattrer   = (*treeNode)(nil)
	_ gofs.NodeLookuper    = (*treeNode)(nil)
	_ gofs.NodeReaddirer   = (*treeNode)(nil)
	_ gofs.NodeOpener      = (*treeNode)(nil)
	_ gofs.NodeReader      = (*treeNode)(nil)
	_ gofs.NodeReadlinker  = (*treeNode)(nil)
	_ gofs.NodeGetxattrer  = (*treeNode)(nil)
	_ gofs.NodeListxattrer = (*treeNode)(nil)
)

// children reads the directory's children once.
func (t *treeNode) children() syscall.Errno {
	t.once.Do(func() {
		kids, err := t.t.a.ReadDir(t.n)
		if err != nil {
			t.t.log.Error("mount: reading directory failed", "path", "/"+t.n.Path, "error", err)
			t.err = syscall.EIO
			return
		}
		t.kids = kids
		t.byName = make(map[string]*catar.Node, len(kids))
		for _, k := range kids {
			t.byName[k.Name()] = k
		}
	})
	return t.err
}

// ino is the inode number of an archive entry: its offset, unique and
// stable across mounts of one archive.
func ino(n *catar.Node) uint64 { return uint64(n.Offset) + 1 }

func (t *treeNode) Lookup(ctx context.Context, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if !t.n.IsDir() {
		return nil, syscall.ENOTDIR
	}
	if errno := t.children(); errno != 0 {
		return nil, errno
	}
	k, ok := t.byName[name]
	if !ok {
		return nil, syscall.ENOENT
	}
	fillAttr(k, &out.Attr)
	child := &treeNode{t: t.t, n: k}
	return t.NewInode(ctx, child, gofs.StableAttr{Mode: k.Mode & catar.ModeType, Ino: ino(k)}), 0
}

func (t *treeNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	if !t.n.IsDir() {
		return nil, syscall.ENOTDIR
	}
	if errno := t.children(); errno != 0 {
		return nil, errno
	}
	list := make([]gofuse.DirEntry, len(t.kids))
	for i, k := range t.kids {
		list[i] = gofuse.DirEntry{Name: k.Name(), Mode: k.Mode, Ino: ino(k)}
	}
	return gofs.NewListDirStream(list), 0
}

func (t *treeNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	fillAttr(t.n, &out.Attr)
	return 0
}

// fillAttr fills the attributes of n as the archive holds them.
func fillAttr(n *catar.Node, a *gofuse.Attr) {
	a.Ino = ino(n)
	a.Mode = n.Mode
	a.Nlink = 1
	if n.IsDir() {
		a.Nlink = 2
	}
	switch {
	case n.IsRegular():
		a.Size = uint64(n.Size)
	case n.Type() == catar.ModeSymlink:
		a.Size = uint64(len(n.Target))
	case n.Type() == catar.ModeChar || n.Type() == catar.ModeBlock:
		a.Rdev = uint32(mkdev(n.DevMajor, n.DevMinor))
	}
	a.Blocks = (a.Size + 511) / 512
	a.Blksize = 1 << 16
	a.Uid, a.Gid = n.UID, n.GID
	mt := time.Unix(0, n.MTime)
	a.SetTimes(&mt, &mt, &mt)
}

// mkdev encodes a device number as the kernel's stat does.
func mkdev(major, minor uint64) uint64 {
	if runtime.GOOS == "darwin" {
		return major<<24 | minor&0xffffff
	}
	return minor&0xff | (major&0xfff)<<8 | (minor&^0xff)<<12
}

func (t *treeNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR) != 0 {
		return nil, 0, syscall.EROFS
	}
	return nil, gofuse.FOPEN_KEEP_CACHE, 0
}

func (t *treeNode) Read(ctx context.Context, fh gofs.FileHandle, dest []byte, off int64) (gofuse.ReadResult, syscall.Errno) {
	if !t.n.IsRegular() {
		return nil, syscall.EINVAL
	}
	return readAt(t.t.a.Payload(t.n), dest, off)
}

func (t *treeNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	if t.n.Type() != catar.ModeSymlink {
		return nil, syscall.EINVAL
	}
	return []byte(t.n.Target), 0
}

// xattrs are the extended attributes of n: those the archive lists, and
// its file capabilities and SELinux label as the kernel names them.
func xattrs(n *catar.Node) []catar.Xattr {
	x := n.Xattrs
	if n.FCaps != nil {
		x = append(x[:len(x):len(x)], catar.Xattr{Name: "security.capability", Value: n.FCaps})
	}
	if n.SELinux != "" {
		x = append(x[:len(x):len(x)], catar.Xattr{Name: "security.selinux", Value: append([]byte(n.SELinux), 0)})
	}
	return x
}

func (t *treeNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	for _, x := range xattrs(t.n) {
		if x.Name != attr {
			continue
		}
		if len(dest) == 0 {
			return uint32(len(x.Value)), 0
		}
		if len(dest) < len(x.Value) {
			return uint32(len(x.Value)), syscall.ERANGE
		}
		return uint32(copy(dest, x.Value)), 0
	}
	return 0, gofs.ENOATTR
}

func (t *treeNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	var names []byte
	for _, x := range xattrs(t.n) {
		names = append(names, x.Name...)
		names = append(names, 0)
	}
	if len(dest) == 0 {
		return uint32(len(names)), 0
	}
	if len(dest) < len(names) {
		return uint32(len(names)), syscall.ERANGE
	}
	return uint32(copy(dest, names)), 0
}
