//go:build linux

package catar

import (
	"os"
	"syscall"
	"unsafe"
)

const (
	fsIocSetFlags     = 0x40086602
	atSymlinkNoFollow = 0x100
)

func fsetxattr(f *os.File, name string, value []byte) error {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	var v unsafe.Pointer
	if len(value) > 0 {
		v = unsafe.Pointer(&value[0])
	}
	var errno syscall.Errno
	err = rawFd(f, func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_FSETXATTR, fd, uintptr(unsafe.Pointer(p)), uintptr(v), uintptr(len(value)), 0, 0)
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return &os.PathError{Op: "fsetxattr " + name, Path: f.Name(), Err: errno}
	}
	return nil
}

// rawFd runs fn with the file's descriptor, keeping the file in its mode.
func rawFd(f *os.File, fn func(fd uintptr)) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(fn)
}

func timespecs(mtime int64) [2]syscall.Timespec {
	ts := syscall.NsecToTimespec(mtime)
	return [2]syscall.Timespec{ts, ts}
}

// futimes sets atime and mtime of an open file (utimensat on the descriptor).
func futimes(f *os.File, mtime int64) error {
	ts := timespecs(mtime)
	var errno syscall.Errno
	err := rawFd(f, func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_UTIMENSAT, fd, 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return &os.PathError{Op: "futimens", Path: f.Name(), Err: errno}
	}
	return nil
}

// lutimesAt sets the times of name in the directory dir without following
// a symlink.
func lutimesAt(dir *os.File, name string, mtime int64) error {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	ts := timespecs(mtime)
	var errno syscall.Errno
	err = rawFd(dir, func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_UTIMENSAT, fd, uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&ts[0])), atSymlinkNoFollow, 0, 0)
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return &os.PathError{Op: "utimensat", Path: name, Err: errno}
	}
	return nil
}

// mknodAt makes a device node, fifo or socket in the directory dir.
func mknodAt(dir *os.File, name string, mode uint32, major, minor uint64) error {
	dev := (minor & 0xff) | (major&0xfff)<<8 | (minor&^0xff)<<12
	var err error
	cerr := rawFd(dir, func(fd uintptr) {
		err = syscall.Mknodat(int(fd), name, mode&(ModeType)|0o600, int(dev))
	})
	if cerr != nil {
		return cerr
	}
	if err != nil {
		return &os.PathError{Op: "mknodat", Path: name, Err: err}
	}
	return nil
}

// chmodAt sets the mode of name in dir (fchmodat; name is never a symlink here).
func chmodAt(dir *os.File, name string, mode uint32) error {
	var err error
	cerr := rawFd(dir, func(fd uintptr) {
		err = syscall.Fchmodat(int(fd), name, mode, 0)
	})
	if cerr != nil {
		return cerr
	}
	if err != nil {
		return &os.PathError{Op: "fchmodat", Path: name, Err: err}
	}
	return nil
}

func fchmod(f *os.File, mode uint32) error {
	var err error
	cerr := rawFd(f, func(fd uintptr) { err = syscall.Fchmod(int(fd), mode) })
	if cerr != nil {
		return cerr
	}
	if err != nil {
		return &os.PathError{Op: "fchmod", Path: f.Name(), Err: err}
	}
	return nil
}

// setChattr adds the chattr flags fl to an open file or directory.
func setChattr(f *os.File, fl uint32) error {
	var errno syscall.Errno
	err := rawFd(f, func(fd uintptr) {
		var cur int32
		if _, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, fsIocGetFlags, uintptr(unsafe.Pointer(&cur))); errno != 0 {
			return
		}
		cur |= int32(fl)
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, fsIocSetFlags, uintptr(unsafe.Pointer(&cur)))
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return &os.PathError{Op: "chattr", Path: f.Name(), Err: errno}
	}
	return nil
}

func processUmask() uint32 {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return uint32(m)
}

// cloneFile makes dst share src's extents (FICLONE; Btrfs, XFS): dst then
// holds src's contents without them being copied.
func cloneFile(dst *os.File, src string) error {
	s, err := os.Open(src)
	if err != nil {
		return err
	}
	defer s.Close()
	const ficlone = 0x40049409
	var errno syscall.Errno
	err = rawFd(dst, func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, ficlone, s.Fd())
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}
