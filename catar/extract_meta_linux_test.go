package catar

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestExtractMetadataRoundTrip builds an archive with what the vectors
// lack (access and default ACLs, trusted.* and directory xattrs, an
// immutable file, a socket), extracts it as root and has the real casync
// archive the result: the bytes must be the ones built.
func TestExtractMetadataRoundTrip(t *testing.T) {
	needRoot(t)
	casync := needCasync(t)
	const mt = 1600000000123456789
	root := &tn{mode: ModeDir | 0o755, mtime: mt, meta: [][]byte{rec(typeXattr, []byte("user.dir\x00d"))}, kids: []*tn{
		{name: "acl.txt", mode: ModeRegular | 0o640, uid: 4242, gid: 4343, mtime: mt + 1, payload: []byte("acl\n"),
			meta: [][]byte{rec(typeACLUser, le64s(4343, 6)), rec(typeACLGroup, le64s(4444, 4)), rec(typeACLGroupObj, le64s(4))}},
		{name: "dacl", mode: ModeDir | 0o750, mtime: mt + 2,
			meta: [][]byte{rec(typeACLDefault, le64s(7, 5, 0, 7)), rec(typeACLDefaultUser, le64s(4242, 7))},
			kids: []*tn{{name: "inner", mode: ModeRegular | 0o644, mtime: mt + 3, payload: []byte("in\n")}}},
		{name: "immutable.txt", mode: ModeRegular | 0o644, mtime: mt + 4, flags: uint64(WithFlagImmutable), payload: []byte("fixed\n")},
		{name: "sock", mode: ModeSocket | 0o755, mtime: mt + 5},
		{name: "trusted.txt", mode: ModeRegular | 0o600, mtime: mt + 6, payload: []byte("t\n"),
			meta: [][]byte{rec(typeXattr, []byte("trusted.x\x00secret")), rec(typeXattr, []byte("user.y\x00"))}},
	}}
	want := buildArchive(DefaultArchive, root)
	if err := readAll(bytes.NewReader(want)); err != nil {
		t.Fatalf("the built archive does not read: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	t.Cleanup(func() { exec.Command("chattr", "-R", "-ia", dir).Run() })
	if _, err := Extract(context.Background(), bytes.NewReader(want), dir, ExtractOptions{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	if sz, err := syscall.Getxattr(filepath.Join(dir, "acl.txt"), "system.posix_acl_access", nil); err != nil || sz == 0 {
		t.Skipf("file system without ACLs here (%v)", err)
	}
	casyncRemakes(t, casync, dir, want)
}

// TestExtractNoSame checks NoSameOwner and NoSamePermissions: files keep
// the extracting user and get the umask applied.
func TestExtractNoSame(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	data := buildArchive(testFeat, dirNode(&tn{name: "f", mode: ModeRegular | 0o666, uid: 4242, gid: 4343, payload: []byte("x")}))
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := Extract(context.Background(), bytes.NewReader(data), dir, ExtractOptions{NoSameOwner: true, NoSamePermissions: true}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o640 || int(st.Uid) != os.Geteuid() {
		t.Fatalf("mode %v uid %d", fi.Mode(), st.Uid)
	}
}
