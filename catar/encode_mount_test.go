//go:build linux

package catar

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// mount mounts a file system of type typ at dir for the test, or skips
// (mounting may be forbidden in a container even to root).
func mount(t *testing.T, typ, dir string) {
	t.Helper()
	must(t, os.MkdirAll(dir, 0o755))
	if err := syscall.Mount(typ, dir, typ, 0, ""); err != nil {
		t.Skipf("cannot mount %s: %v", typ, err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
}

// TestEncodeTreeMounts: a tmpfs submount is archived (default) or left out
// (ExcludeSubmounts, OneFileSystem); a proc mount is archived as an empty
// directory. Each compared with casync where it applies.
func TestEncodeTreeMounts(t *testing.T) {
	needRoot(t)
	dir := filepath.Join(t.TempDir(), "t")
	writeFile(t, filepath.Join(dir, "a", "file"), "a", 0o644)
	mount(t, "tmpfs", filepath.Join(dir, "m"))
	writeFile(t, filepath.Join(dir, "m", "on-tmpfs"), "tmpfs", 0o644)
	mount(t, "proc", filepath.Join(dir, "proc"))
	// A bind mount of the same file system: same st_dev, another mount.
	src := filepath.Join(t.TempDir(), "src")
	writeFile(t, filepath.Join(src, "bound-file"), "bound", 0o644)
	must(t, os.Mkdir(filepath.Join(dir, "bind"), 0o755))
	if err := syscall.Mount(src, filepath.Join(dir, "bind"), "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("cannot bind mount: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(filepath.Join(dir, "bind"), syscall.MNT_DETACH) })
	writeFile(t, filepath.Join(dir, "z"), "z", 0o644)
	for _, tc := range []struct {
		fo       FeatureOptions
		oneFS    bool
		hasTmpfs bool
	}{
		{FeatureOptions{}, false, true},
		{FeatureOptions{ExcludeSubmounts: true}, false, false},
		{FeatureOptions{}, true, false},
	} {
		f := mustFeatures(t, tc.fo)
		var got bytes.Buffer
		if _, err := EncodeTree(context.Background(), &got, dir, EncodeOptions{Features: f, OneFileSystem: tc.oneFS}); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(got.Bytes(), []byte("bound-file")) != tc.hasTmpfs {
			t.Errorf("%v oneFS=%v: bind mount contents archived = %v, want %v", f, tc.oneFS, !tc.hasTmpfs, tc.hasTmpfs)
		}
		if bytes.Contains(got.Bytes(), []byte("on-tmpfs")) != tc.hasTmpfs {
			t.Errorf("%v oneFS=%v: tmpfs contents archived = %v, want %v", f, tc.oneFS, !tc.hasTmpfs, tc.hasTmpfs)
		}
		if bytes.Contains(got.Bytes(), []byte("cpuinfo")) {
			t.Errorf("%v: descended into proc", f)
		}
		if !tc.oneFS {
			want := casyncMake(t, dir, featureArgs(tc.fo)...)
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%v: differs from casync make: %s", f, firstDiff(got.Bytes(), want))
			}
		}
	}
}

func TestEncodeTreeErrors(t *testing.T) {
	needRoot(t)
	dir := filepath.Join(t.TempDir(), "t")
	writeFile(t, filepath.Join(dir, "sub", "big-uid"), "x", 0o644)
	must(t, os.Chown(filepath.Join(dir, "sub", "big-uid"), 70000, 0))

	_, err := EncodeTree(context.Background(), io.Discard, dir, EncodeOptions{Features: mustFeatures(t, FeatureOptions{With: []string{"unix"}})})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "sub", "big-uid")) || !strings.Contains(err.Error(), "16-bit") {
		t.Errorf("16-bit overflow: got %v, want an error naming the file", err)
	}
	if _, err := EncodeTree(context.Background(), io.Discard, dir, EncodeOptions{}); err != nil {
		t.Errorf("32-bit ids: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := EncodeTree(ctx, io.Discard, dir, EncodeOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: got %v", err)
	}
	if _, err := EncodeTree(context.Background(), io.Discard, filepath.Join(dir, "sub", "big-uid"), EncodeOptions{}); err == nil {
		t.Errorf("root not a directory: no error")
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{
		`/plain`:               "/plain",
		`/with\040space`:       "/with space",
		`/tab\011nl\012bs\134`: "/tab\tnl\nbs\\",
		`/trailing\04`:         `/trailing\04`,
	} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescapeMountinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEncodeTreeSymlinkRoot: a symlink given as the root is followed.
func TestEncodeTreeSymlinkRoot(t *testing.T) {
	dir := vectorTree(t)
	link := filepath.Join(t.TempDir(), "link")
	must(t, os.Symlink(dir, link))
	var a, b bytes.Buffer
	if _, err := EncodeTree(context.Background(), &a, dir, EncodeOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := EncodeTree(context.Background(), &b, link, EncodeOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("archive through a symlinked root differs")
	}
}
