//go:build linux

// Package reflinktest gives tests a file system that clones (a fresh XFS
// with reflinks, loop-mounted) and a way to see what was cloned (the
// extents a file shares). The assemble and cli tests of reflinks use it.
package reflinktest

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"
)

// XFSMount mounts a fresh XFS with reflinks (a loop-mounted image) and
// returns its directory. It needs root and xfsprogs; without them the test
// is skipped, or fails in CI.
func XFSMount(t testing.TB) string {
	t.Helper()
	skip := func(format string, a ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" || os.Getenv("DESYNC_REQUIRE_XFS") != "" {
			t.Fatalf(format, a...)
		}
		t.Skipf(format+" (CI=true makes this a failure)", a...)
	}
	if os.Geteuid() != 0 {
		skip("reflink test: needs root to mount an XFS image")
	}
	if _, err := exec.LookPath("mkfs.xfs"); err != nil {
		skip("reflink test: mkfs.xfs not found (apt-get install xfsprogs)")
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "xfs.img"), filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 320<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.xfs", "-q", "-m", "reflink=1", img).CombinedOutput(); err != nil {
		skip("mkfs.xfs: %v: %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		skip("mounting the XFS image: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	return mnt
}

// SharedExtentBytes sums the extents of path that the file system reports
// as shared with another file (FIEMAP_EXTENT_SHARED).
func SharedExtentBytes(t testing.TB, path string) uint64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const (
		fsIocFiemap   = 0xc020660b
		flagSync      = 0x1
		extentLast    = 0x1
		extentShared  = 0x2000
		headerSize    = 32
		extentSize    = 56
		extentsPerCal = 256
	)
	var shared uint64
	start := uint64(0)
	for {
		buf := make([]byte, headerSize+extentsPerCal*extentSize)
		binary.LittleEndian.PutUint64(buf[0:], start)
		binary.LittleEndian.PutUint64(buf[8:], ^uint64(0)-start)
		binary.LittleEndian.PutUint32(buf[16:], flagSync)
		binary.LittleEndian.PutUint32(buf[24:], extentsPerCal)
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), fsIocFiemap, uintptr(unsafe.Pointer(&buf[0]))); errno != 0 {
			t.Fatalf("FIEMAP %s: %v", path, errno)
		}
		n := binary.LittleEndian.Uint32(buf[20:])
		if n == 0 {
			return shared
		}
		for i := range n {
			e := buf[headerSize+i*extentSize:]
			logical, length := binary.LittleEndian.Uint64(e[0:]), binary.LittleEndian.Uint64(e[16:])
			flags := binary.LittleEndian.Uint32(e[40:])
			if flags&extentShared != 0 {
				shared += length
			}
			if flags&extentLast != 0 {
				return shared
			}
			start = logical + length
		}
	}
}
