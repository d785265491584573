//go:build linux

package catar

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/folbricht/desync/catar/catartest"
)

// casyncMake runs the real casync make on dir with args and returns the archive.
func casyncMake(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("casync")
	if err != nil {
		catartest.Unavailable(t, "casync not installed")
	}
	out := filepath.Join(t.TempDir(), "out.catar")
	cmd := exec.Command(bin, append(append([]string{"make"}, args...), out, dir)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("casync make %v: %v\n%s", args, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// featureArgs turns FeatureOptions into casync make's arguments.
func featureArgs(o FeatureOptions) []string {
	var a []string
	for _, w := range o.With {
		a = append(a, "--with="+w)
	}
	for _, w := range o.Without {
		a = append(a, "--without="+w)
	}
	if o.NoExcludeNodump {
		a = append(a, "--exclude-nodump=no")
	}
	if o.ExcludeSubmounts {
		a = append(a, "--exclude-submounts=yes")
	}
	return a
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p, data string, mode os.FileMode) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(data), mode))
}

// vfsCapV2 is a security.capability value (revision 2) granting
// CAP_NET_BIND_SERVICE (bit 10) permitted and effective.
func vfsCapV2() []byte {
	b := binary.LittleEndian.AppendUint32(nil, 0x02000000|1) // revision 2, effective
	b = binary.LittleEndian.AppendUint32(b, 1<<10)           // permitted[0]
	b = binary.LittleEndian.AppendUint32(b, 0)               // inheritable[0]
	b = binary.LittleEndian.AppendUint32(b, 0)               // permitted[1]
	return binary.LittleEndian.AppendUint32(b, 0)            // inheritable[1]
}

var casyncTrees = []struct {
	name  string
	build func(t *testing.T, dir string)
}{
	{"names", func(t *testing.T, dir string) {
		for _, n := range []string{
			`back\slash`, "new\nline", "tab\there", "non-utf8-\xff\xfe", "space name", "~tilde",
			"-dash", ".hidden", "UPPER", "lower", "z", "é", strings.Repeat("L", 255), "#hash", "a=b",
		} {
			writeFile(t, filepath.Join(dir, n), "name "+n, 0o644)
		}
		writeFile(t, filepath.Join(dir, "d\\ir\n2", "x\xc3"), "x", 0o600)
	}},
	{"wide", func(t *testing.T, dir string) {
		for i := range 1000 {
			writeFile(t, filepath.Join(dir, "big", fmt.Sprintf("f%04d", i)), fmt.Sprint(i), 0o644)
		}
		for i := range 37 {
			must(t, os.MkdirAll(filepath.Join(dir, "dirs", fmt.Sprintf("d%d", i), "in"), 0o755))
		}
	}},
	{"hardlinks-and-special", func(t *testing.T, dir string) {
		writeFile(t, filepath.Join(dir, "orig"), "linked content\n", 0o640)
		must(t, os.Link(filepath.Join(dir, "orig"), filepath.Join(dir, "link1")))
		must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
		must(t, os.Link(filepath.Join(dir, "orig"), filepath.Join(dir, "sub", "link2")))
		must(t, syscall.Mknod(filepath.Join(dir, "blk"), syscall.S_IFBLK|0o640, 8<<8|1))
		// major 300, minor 70000 in the kernel's split encoding
		dev := (70000 & 0xff) | (300&0xfff)<<8 | (70000&^0xff)<<12
		must(t, syscall.Mknod(filepath.Join(dir, "bigdev"), syscall.S_IFCHR|0o600, dev))
		l, err := net.Listen("unix", filepath.Join(dir, "sock"))
		must(t, err)
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		l.Close()
		writeFile(t, filepath.Join(dir, "xattrs"), "x", 0o644)
		must(t, syscall.Setxattr(filepath.Join(dir, "xattrs"), "trusted.t", []byte("tv"), 0))
		must(t, syscall.Setxattr(filepath.Join(dir, "xattrs"), "user.z", []byte("last"), 0))
		must(t, syscall.Setxattr(filepath.Join(dir, "xattrs"), "user.a", nil, 0))
		writeFile(t, filepath.Join(dir, "capable"), "cap", 0o755)
		must(t, syscall.Setxattr(filepath.Join(dir, "capable"), "security.capability", vfsCapV2(), 0))
		must(t, os.Symlink(strings.Repeat("t/", 100), filepath.Join(dir, "longlink")))
		writeFile(t, filepath.Join(dir, "owned"), "o", 0o4711)
		must(t, os.Chown(filepath.Join(dir, "owned"), 1, 4242))
		must(t, os.Chmod(filepath.Join(dir, "owned"), 0o6711))
		must(t, os.Mkdir(filepath.Join(dir, "ro-dir"), 0o555))
		must(t, catartest.Chattr(filepath.Join(dir, "sub"), catartest.FSNoatimeFL))
	}},
	{"acl", func(t *testing.T, dir string) {
		p := filepath.Join(dir, "acl-file")
		writeFile(t, p, "acl", 0o640)
		// user::rw- user:4242:r-- user:daemon:rw- group::r-- group:daemon:r-x mask::rwx other::---
		must(t, syscall.Setxattr(p, xattrACLAccess, aclBlob(
			[3]uint32{aclUserObj, 6, 0xffffffff}, [3]uint32{aclUser, 6, 1}, [3]uint32{aclUser, 4, 4242},
			[3]uint32{aclGroupObj, 4, 0xffffffff}, [3]uint32{aclGroup, 5, 1},
			[3]uint32{aclMask, 7, 0xffffffff}, [3]uint32{aclOther, 0, 0xffffffff}), 0))
		d := filepath.Join(dir, "acl-dir")
		must(t, os.Mkdir(d, 0o750))
		must(t, syscall.Setxattr(d, xattrACLDefault, aclBlob(
			[3]uint32{aclUserObj, 7, 0xffffffff}, [3]uint32{aclUser, 5, 1},
			[3]uint32{aclGroupObj, 5, 0xffffffff}, [3]uint32{aclGroup, 1, 4343},
			[3]uint32{aclMask, 5, 0xffffffff}, [3]uint32{aclOther, 0, 0xffffffff}), 0))
		d2 := filepath.Join(dir, "default-no-mask")
		must(t, os.Mkdir(d2, 0o755))
		must(t, syscall.Setxattr(d2, xattrACLDefault, aclBlob(
			[3]uint32{aclUserObj, 7, 0xffffffff}, [3]uint32{aclGroupObj, 5, 0xffffffff},
			[3]uint32{aclOther, 1, 0xffffffff}), 0))
		writeFile(t, filepath.Join(d, "inherits"), "i", 0o666)
	}},
	{"caexclude-nodump", func(t *testing.T, dir string) {
		writeFile(t, filepath.Join(dir, ".caexclude"), "# comment\n*.tmp\n!keep.tmp\ncache/\n*.d/\n/anchored\nsub/exact.txt\nsub/*.md\nfoo\n", 0o644)
		for _, n := range []string{"a.tmp", "keep.txt", "anchored", "cache/x", "sub/anchored", "sub/b.tmp",
			"sub/cache", "sub/exact.txt", "sub/deep/cache/y", "sub/deep/exact.txt", "other/.caexclude", "other/z.log", "other/z.txt",
			"nd/file", "ndfile", "tmp.dir/in", "keep.tmp", "sub/keep.tmp", "x.d/in", "sub/x.d/in", "y.d",
			"sub/a.md", "sub/deep/a.md", "sub/foo", "deep/foo/bar"} {
			writeFile(t, filepath.Join(dir, n), n, 0o644)
		}
		writeFile(t, filepath.Join(dir, "other", ".caexclude"), "*.log\n", 0o644)
		must(t, catartest.Chattr(filepath.Join(dir, "nd"), catartest.FSNodumpFL))
		must(t, catartest.Chattr(filepath.Join(dir, "ndfile"), catartest.FSNodumpFL))
	}},
}

var casyncFeatureSets = []FeatureOptions{
	{},
	{With: []string{"unix"}},
	{Without: []string{"all"}},
	{With: []string{"2sec-time", "read-only", "symlinks"}},
	{With: []string{"usec-time", "permissions", "32bit-uids", "xattrs"}},
	{With: []string{"acl"}},
	{NoExcludeNodump: true},
	{With: []string{"best"}, Without: []string{"user-names"}},
}

// TestEncodeTreeAgainstCasync archives generated trees with EncodeTree and
// with the real casync under several feature sets: the bytes must be equal.
func TestEncodeTreeAgainstCasync(t *testing.T) {
	needRoot(t)
	for _, tr := range casyncTrees {
		t.Run(tr.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "t")
			must(t, os.Mkdir(dir, 0o755))
			tr.build(t, dir)
			for _, fo := range casyncFeatureSets {
				args := featureArgs(fo)
				want := casyncMake(t, dir, args...)
				var got bytes.Buffer
				if _, err := EncodeTree(context.Background(), &got, dir, EncodeOptions{Features: mustFeatures(t, fo)}); err != nil {
					t.Fatalf("%v: %v", args, err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("%v: differs from casync make: %s", args, firstDiff(got.Bytes(), want))
				}
			}
		})
	}
}

// aclBlob encodes POSIX ACL entries {tag, perm, id} as a system.posix_acl_*
// xattr value (tags: 1 user_obj, 2 user, 4 group_obj, 8 group, 0x10 mask,
// 0x20 other), to set ACLs without libacl.
func aclBlob(entries ...[3]uint32) []byte {
	es := make([]aclXattrEntry, len(entries))
	for i, e := range entries {
		es[i] = aclXattrEntry{tag: uint16(e[0]), perm: uint16(e[1]), id: e[2]}
	}
	return encodeACLXattr(es)
}
