//go:build !linux

package catar

import (
	"io/fs"
	"os"
)

// Outside Linux the extraction writes contents, modes and directory
// structure; xattrs, ACLs, capabilities, chattr flags, device nodes and
// symlink times are reported as not supported (skipped and logged).

func fsetxattr(f *os.File, name string, value []byte) error { return errNotSupported }

func futimes(f *os.File, mtime int64) error { return nil }

func lutimesAt(dir *os.File, name string, mtime int64) error { return nil }

func mknodAt(dir *os.File, name string, mode uint32, major, minor uint64) error {
	return errNotSupported
}

func chmodAt(dir *os.File, name string, mode uint32) error { return nil }

func fchmod(f *os.File, mode uint32) error {
	return f.Chmod(fs.FileMode(mode & 0o777))
}

func setChattr(f *os.File, fl uint32) error { return errNotSupported }

func processUmask() uint32 { return 0o022 }

func cloneFile(dst *os.File, src string) error { return errNotSupported }
