//go:build linux

package storage

import (
	"io"
	"os"
	"syscall"
)

// On Linux, chunk files are read and written with plain system calls:
// opening an os.File also sets it up for the runtime's poller, which for a
// regular file costs five more calls (fcntl and epoll_ctl) that fail or are
// undone, and that adds up over the thousands of chunk files of every
// gigabyte. Elsewhere (file_other.go) os.File is used, whose Sync is what
// each system needs for durability (F_FULLFSYNC on macOS, not fsync).

// readFile reads the file at path into buf, growing it if needed. Chunk
// files are written once, completely, so their size at open is their size.
func readFile(path string, buf []byte) ([]byte, error) {
	fd, err := retryEINTR(func() (int, error) { return syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0) })
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	n := int(st.Size)
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	for off := 0; off < n; {
		m, err := retryEINTR(func() (int, error) { return syscall.Read(fd, buf[off:]) })
		switch {
		case err != nil:
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		case m == 0:
			return nil, &os.PathError{Op: "read", Path: path, Err: io.ErrUnexpectedEOF}
		}
		off += m
	}
	return buf, nil
}

// writeNew creates the file name, which must not exist, with permissions
// perm (less the umask), writes b to it and, unless sync is nil, syncs it
// with sync. On failure the file is removed.
func writeNew(name string, b []byte, perm os.FileMode, sync Syncer) (err error) {
	fd, err := retryEINTR(func() (int, error) {
		return syscall.Open(name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, uint32(perm.Perm()))
	})
	if err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	op := "write"
	for len(b) > 0 && err == nil {
		var m int
		m, err = retryEINTR(func() (int, error) { return syscall.Write(fd, b) })
		if err == nil && m == 0 {
			err = io.ErrShortWrite
		}
		if err == nil {
			b = b[m:]
		}
	}
	if err == nil && sync != nil {
		// Only where chunks are not synced in batches; the os.File
		// takes the descriptor and closes it.
		f := os.NewFile(uintptr(fd), name)
		if err = sync.SyncFile(f); err != nil {
			f.Close()
			syscall.Unlink(name)
			return err
		}
		if err = f.Close(); err != nil {
			syscall.Unlink(name)
			return err
		}
		return nil
	}
	if cerr := syscall.Close(fd); err == nil && cerr != nil {
		op, err = "close", cerr
	}
	if err != nil {
		syscall.Unlink(name)
		return &os.PathError{Op: op, Path: name, Err: err}
	}
	return nil
}

func retryEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != syscall.EINTR {
			return n, err
		}
	}
}
