//go:build linux

// Package catartest builds, for the catar tests, the small deterministic
// directory tree of casync's developer test vectors (the tree the vectors'
// mktree.py builds; catar/testdata holds casync's archives of it): files with
// fixed modes, owners, nanosecond mtimes, user xattrs and chattr flags, two
// symlinks, a fifo, the character device 1,3 and a few directories.
//
// Building it needs root (chown, mknod, chattr) and a file system with user
// xattrs and FS_IOC_SETFLAGS (ext4, as t.TempDir() usually is). When the tree
// cannot be built, Build skips the test, or fails it when the environment
// variable CI is "true" (CI runs as root and must not skip silently).
package catartest

import (
	"crypto/aes"
	"crypto/cipher"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// Linux ioctl numbers and inode flags (linux/fs.h).
const (
	fsIocGetFlags = 0x80086601
	fsIocSetFlags = 0x40086602
	FSNodumpFL    = 0x00000040
	FSNoatimeFL   = 0x00000080
)

// base is the first mtime in seconds (2020-09-13T12:26:40Z).
const base = 1600000000

// MTime returns the nanosecond mtime of entry i of the table (i = index+1;
// 0 is the root), as mktree.py computes it.
func MTime(i int) int64 {
	return (base+1000*int64(i))*1e9 + (int64(i)*123456789)%1e9
}

type kind int

const (
	kFile kind = iota
	kDir
	kSymlink
	kFIFO
	kChar
)

type node struct {
	path     string
	kind     kind
	mode     uint32
	uid, gid int
	data     []byte
	target   string
	xattrs   map[string][]byte
	chattr   int32
	maj, min uint32
}

// AESData returns n bytes of AES-128-CTR keystream with key 00 01 … 0f and a
// zero IV (the contents of data.bin).
func AESData(n int) []byte {
	key := make([]byte, 16)
	for i := range key {
		key[i] = byte(i)
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	out := make([]byte, n)
	cipher.NewCTR(blk, make([]byte, 16)).XORKeyStream(out, out)
	return out
}

// table is mktree.py's TREE, in its order (the order fixes the mtimes).
func table() []node {
	return []node{
		{path: "B-upper.txt", kind: kFile, mode: 0o644, data: []byte("upper case sorts before lower case (strcmp order)\n")},
		{path: "a-dash-file", kind: kFile, mode: 0o600, data: []byte("'-' (0x2d) sorts before '.' (0x2e)\n")},
		{path: "a.dot.file", kind: kFile, mode: 0o644, data: []byte("dot\n")},
		{path: "data.bin", kind: kFile, mode: 0o644, data: AESData(300000)},
		{path: "empty-file", kind: kFile, mode: 0o644, data: []byte{}},
		{path: "exec.sh", kind: kFile, mode: 0o755, data: []byte("#!/bin/sh\necho hello\n")},
		{path: "hello.txt", kind: kFile, mode: 0o644, data: []byte("hello world\n")},
		{path: "link-to-hello", kind: kSymlink, mode: 0o777, target: "hello.txt"},
		{path: "dangling-link", kind: kSymlink, mode: 0o777, target: "does/not/exist"},
		{path: "owned-4242.txt", kind: kFile, mode: 0o640, uid: 4242, gid: 4343, data: []byte("numeric owner without passwd entry\n")},
		{path: "owned-daemon.txt", kind: kFile, mode: 0o644, uid: 1, gid: 1, data: []byte("owned by daemon:daemon (uid/gid 1)\n")},
		{path: "readonly.txt", kind: kFile, mode: 0o444, data: []byte("read only\n")},
		{path: "setuid-bin", kind: kFile, mode: 0o4755, data: []byte("not really a binary\n")},
		{path: "sticky-dir", kind: kDir, mode: 0o1777},
		{path: "sub", kind: kDir, mode: 0o750},
		{path: "sub/deeper", kind: kDir, mode: 0o755},
		{path: "sub/deeper/leaf.txt", kind: kFile, mode: 0o644, data: []byte("leaf\n")},
		{path: "sub/emptydir", kind: kDir, mode: 0o700},
		{path: "xattr.txt", kind: kFile, mode: 0o644, data: []byte("file with user xattrs\n"), xattrs: map[string][]byte{
			"user.comment": []byte("casync test vector"),
			"user.binary":  {0x00, 0x01, 0x02, 0xff},
			"user.empty":   {},
		}},
		{path: "noatime.txt", kind: kFile, mode: 0o644, data: []byte("chattr +A\n"), chattr: FSNoatimeFL},
		{path: "nodump.txt", kind: kFile, mode: 0o644, data: []byte("chattr +d: casync skips this file by default\n"), chattr: FSNodumpFL},
		{path: "fifo", kind: kFIFO, mode: 0o644},
		{path: "null-dev", kind: kChar, mode: 0o666, maj: 1, min: 3},
		{path: "unicode-\u00fcn\u00efc\u00f6d\u00e9.txt", kind: kFile, mode: 0o644, data: []byte("UTF-8 name\n")},
	}
}

// Unavailable skips the test (or fails it under CI=true) with the reason the
// tree, or another root-only fixture, cannot be built.
func Unavailable(t testing.TB, format string, a ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: "+format, a...)
	}
	t.Skipf(format, a...)
}

// Build creates the vectors' tree at dir (which must not exist or be an
// empty directory). It skips the test when not root or when the file system
// lacks user xattrs or chattr flags, and fails it under CI=true.
func Build(t testing.TB, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "testtree: needs root (chown, mknod, chattr)")
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		t.Fatal(err)
	}
	tab := table()
	for _, n := range tab {
		if err := create(dir, n); err != nil {
			if isUnsupported(err) {
				Unavailable(t, "testtree: %s: %v (file system without user xattrs or chattr?)", n.path, err)
			}
			t.Fatalf("testtree: %s: %v", n.path, err)
		}
	}
	// mtimes: non-directories first, then directories deepest first, root last.
	for i, n := range tab {
		if n.kind != kDir {
			if err := SetMTime(filepath.Join(dir, n.path), MTime(i+1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	idx := make([]int, len(tab))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		return strings.Count(tab[idx[a]].path, "/") > strings.Count(tab[idx[b]].path, "/")
	})
	for _, i := range idx {
		if tab[i].kind == kDir {
			if err := SetMTime(filepath.Join(dir, tab[i].path), MTime(i+1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Chown(dir, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := SetMTime(dir, MTime(0)); err != nil {
		t.Fatal(err)
	}
}

func isUnsupported(err error) bool {
	for _, e := range []error{syscall.ENOTSUP, syscall.EOPNOTSUPP, syscall.ENOTTY, syscall.EPERM, syscall.EINVAL} {
		if pe, ok := err.(*os.PathError); ok && pe.Err == e {
			return true
		}
		if err == e {
			return true
		}
	}
	return false
}

func create(root string, n node) error {
	p := filepath.Join(root, n.path)
	switch n.kind {
	case kFile:
		if err := os.WriteFile(p, n.data, 0o600); err != nil {
			return err
		}
		if err := chownChmod(p, n); err != nil {
			return err
		}
		for k, v := range n.xattrs {
			if err := syscall.Setxattr(p, k, v, 0); err != nil {
				return &os.PathError{Op: "setxattr " + k, Path: p, Err: err}
			}
		}
		if n.chattr != 0 {
			return Chattr(p, n.chattr)
		}
		return nil
	case kDir:
		if err := os.Mkdir(p, 0o700); err != nil {
			return err
		}
		return chownChmod(p, n)
	case kSymlink:
		if err := os.Symlink(n.target, p); err != nil {
			return err
		}
		return os.Lchown(p, n.uid, n.gid)
	case kFIFO:
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			return &os.PathError{Op: "mkfifo", Path: p, Err: err}
		}
		return chownChmod(p, n)
	case kChar:
		dev := int(n.maj<<8 | n.min)
		if err := syscall.Mknod(p, syscall.S_IFCHR|0o600, dev); err != nil {
			return &os.PathError{Op: "mknod", Path: p, Err: err}
		}
		return chownChmod(p, n)
	}
	return nil
}

// chownChmod sets the owner, then the mode (chown clears setuid).
func chownChmod(p string, n node) error {
	if err := os.Chown(p, n.uid, n.gid); err != nil {
		return err
	}
	return syscall.Chmod(p, n.mode)
}

// Chattr adds the inode flags add (FS_*_FL) to the file or directory p.
func Chattr(p string, add int32) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	var flags int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), fsIocGetFlags, uintptr(unsafe.Pointer(&flags))); e != 0 {
		return &os.PathError{Op: "FS_IOC_GETFLAGS", Path: p, Err: e}
	}
	flags |= add
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), fsIocSetFlags, uintptr(unsafe.Pointer(&flags))); e != 0 {
		return &os.PathError{Op: "FS_IOC_SETFLAGS", Path: p, Err: e}
	}
	return nil
}

// SetMTime sets atime and mtime of p to ns nanoseconds, without following a
// symlink (utimensat with AT_SYMLINK_NOFOLLOW).
func SetMTime(p string, ns int64) error {
	ts := [2]syscall.Timespec{syscall.NsecToTimespec(ns), syscall.NsecToTimespec(ns)}
	b, err := syscall.BytePtrFromString(p)
	if err != nil {
		return err
	}
	const atFDCWD = -100
	const atSymlinkNofollow = 0x100
	fdcwd := atFDCWD
	if _, _, e := syscall.Syscall6(syscall.SYS_UTIMENSAT, uintptr(fdcwd), uintptr(unsafe.Pointer(b)),
		uintptr(unsafe.Pointer(&ts[0])), atSymlinkNofollow, 0, 0); e != 0 {
		return &os.PathError{Op: "utimensat", Path: p, Err: e}
	}
	return nil
}
