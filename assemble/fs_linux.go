//go:build linux

package assemble

import (
	"os"
	"syscall"
	"unsafe"
)

// reflinkSupported: Linux has FICLONERANGE (Btrfs, XFS with reflink=1,
// bcachefs, OCFS2); other file systems refuse it and the data is copied.
const reflinkSupported = true

// ficloneRange is the FICLONERANGE ioctl, _IOW(0x94, 13, struct
// file_clone_range).
const ficloneRange = 0x4020940d

// fileCloneRange is struct file_clone_range of linux/fs.h.
type fileCloneRange struct {
	srcFD     int64
	srcOffset uint64
	srcLength uint64
	dstOffset uint64
}

// cloneRange makes length bytes of dst at dstOff share the blocks of src at
// srcOff. Offsets and length must be multiples of the file system's block
// size.
func cloneRange(dst, src *os.File, srcOff, dstOff, length int64) error {
	arg := fileCloneRange{srcFD: int64(src.Fd()), srcOffset: uint64(srcOff), srcLength: uint64(length), dstOffset: uint64(dstOff)}
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, dst.Fd(), ficloneRange, uintptr(unsafe.Pointer(&arg)))
	if errno != 0 {
		return &os.PathError{Op: "FICLONERANGE", Path: dst.Name(), Err: errno}
	}
	return nil
}

// fileBlockSize is the block size of f's file system (4096 if unknown).
func fileBlockSize(f *os.File) uint64 {
	var st syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &st); err != nil || st.Bsize <= 0 {
		return 4096
	}
	return uint64(st.Bsize)
}

// punchHole deallocates a range of f, which then reads as zeros; false if
// the file system cannot.
func punchHole(f *os.File, off, length int64) bool {
	const punchHole, keepSize = 0x02, 0x01 // FALLOC_FL_PUNCH_HOLE, FALLOC_FL_KEEP_SIZE
	return syscall.Fallocate(int(f.Fd()), punchHole|keepSize, off, length) == nil
}

// changeTime is the inode change time of fi, in nanoseconds.
func changeTime(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ctim.Nano()
	}
	return 0
}

// startWriteback starts writing f's dirty pages to disk without waiting
// (sync_file_range with SYNC_FILE_RANGE_WRITE over the whole file).
func startWriteback(f *os.File) {
	const syncFileRangeWrite = 0x2
	syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, f.Fd(), 0, 0, syncFileRangeWrite, 0, 0)
}
