//go:build linux

package catar

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tarOfDir writes dir as a PAX tar with archive/tar (ns mtimes, owners and
// names, xattrs as SCHILY.xattr.*), walking in lexical order.
func tarOfDir(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		if fi.Mode()&fs.ModeSocket != 0 {
			return nil // tar has no sockets
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h.Name = "./" + filepath.ToSlash(rel)
		if d.IsDir() {
			h.Name += "/"
		}
		h.Format = tar.FormatPAX
		h.AccessTime, h.ChangeTime = time.Time{}, time.Time{}
		if fi.Mode().IsRegular() || d.IsDir() {
			sz, _ := syscall.Listxattr(p, nil)
			if sz > 0 {
				lb := make([]byte, sz)
				sz, _ = syscall.Listxattr(p, lb)
				for _, name := range strings.Split(strings.TrimSuffix(string(lb[:sz]), "\x00"), "\x00") {
					v := make([]byte, 64<<10)
					n, err := syscall.Getxattr(p, name, v)
					if err != nil {
						return err
					}
					if h.PAXRecords == nil {
						h.PAXRecords = map[string]string{}
					}
					h.PAXRecords["SCHILY.xattr."+name] = string(v[:n])
				}
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := io.Copy(tw, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestEncodeTarEqualsEncodeTree: a tar of the vectors' tree, archived by
// EncodeTar, equals EncodeTree of the tree for the features a tar carries
// (ids, user names, ns times, permissions, symlinks, devices, fifos,
// sockets, xattrs; nodump entries kept since a tar has no chattr flags).
func TestEncodeTarEqualsEncodeTree(t *testing.T) {
	dir := vectorTree(t)
	tarEqualsTree(t, dir, []FeatureOptions{
		{With: []string{"32bit-uids", "user-names", "nsec-time", "permissions", "symlinks", "device-nodes", "fifos", "sockets", "xattrs"}, NoExcludeNodump: true},
		{With: []string{"unix"}, NoExcludeNodump: true},
		{Without: []string{"all"}, NoExcludeNodump: true},
	})
}

// TestEncodeTarEqualsEncodeTreeGenerated does the same on the generated
// trees of the casync tests (odd names, wide directories, devices, fcaps,
// .caexclude files inside the tar); sockets, chattr and ACLs left out as a
// tar does not carry them (hard links become plain copies in this tar).
func TestEncodeTarEqualsEncodeTreeGenerated(t *testing.T) {
	needRoot(t)
	for _, tr := range casyncTrees {
		t.Run(tr.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "t")
			must(t, os.Mkdir(dir, 0o755))
			tr.build(t, dir)
			tarEqualsTree(t, dir, []FeatureOptions{
				{With: []string{"32bit-uids", "user-names", "nsec-time", "permissions", "symlinks", "device-nodes", "fifos", "xattrs", "fcaps"}, NoExcludeNodump: true},
			})
		})
	}
}

func tarEqualsTree(t *testing.T, dir string, fos []FeatureOptions) {
	t.Helper()
	tr := tarOfDir(t, dir)
	for _, fo := range fos {
		f := mustFeatures(t, fo)
		var fromTree, fromTar bytes.Buffer
		if _, err := EncodeTree(context.Background(), &fromTree, dir, EncodeOptions{Features: f}); err != nil {
			t.Fatal(err)
		}
		if _, err := EncodeTar(context.Background(), &fromTar, bytes.NewReader(tr), EncodeOptions{Features: f}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fromTar.Bytes(), fromTree.Bytes()) {
			t.Errorf("%v: EncodeTar differs from EncodeTree: %s", f, firstDiff(fromTar.Bytes(), fromTree.Bytes()))
		}
	}
}
