//go:build !linux

package storage

import (
	"io"
	"os"
)

// readFile reads the file at path into buf, growing it if needed. Chunk
// files are written once, completely, so their size at open is their size.
func readFile(path string, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	n := int(fi.Size())
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// writeNew creates the file name, which must not exist, with permissions
// perm, writes b to it and, unless sync is nil, syncs it with sync. On
// failure the file is removed.
func writeNew(name string, b []byte, perm os.FileMode, sync Syncer) (err error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(name)
		}
	}()
	if _, err = f.Write(b); err != nil {
		f.Close()
		return err
	}
	if sync != nil {
		if err = sync.SyncFile(f); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
