package catar

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testFeat = With32BitUIDs | WithNsecTime | WithPermissions | WithSymlinks | WithDeviceNodes |
	WithFIFOs | WithSockets | WithXattrs | WithUserNames | WithFlagImmutable | SHA512_256

func featPtr(f Features) *Features { return &f }

// hostileArchives are archives a decoder must refuse, each with a piece of
// text the error must contain (the entry it names, or what is wrong).
func hostileArchives() []struct {
	name string
	data []byte
	want string
} {
	ok := func() *tn { return dirNode(fileNode("a", "x"), fileNode("b", "y")) }
	huge := func(typ uint64, size uint64) []byte {
		return append(le64s(size, typ), "short"...)
	}
	type tc = struct {
		name string
		data []byte
		want string
	}
	cases := []tc{
		{"dotdot", buildArchive(testFeat, dirNode(fileNode("..", "evil"))), `".."`},
		{"dot", buildArchive(testFeat, dirNode(fileNode(".", "evil"))), `"."`},
		{"absolute", buildArchive(testFeat, dirNode(fileNode("/etc/passwd", "evil"))), "/etc/passwd"},
		{"slash traversal", buildArchive(testFeat, dirNode(fileNode("../../x", "evil"))), "../../x"},
		{"empty name", buildArchive(testFeat, dirNode(fileNode("", "evil"))), "FILENAME record size 17"},
		{"nul in name", buildArchive(testFeat, dirNode(fileNode("a\x00b", "evil"))), "NUL"},
		{"symlink then dir through it", buildArchive(testFeat, dirNode(linkNode("a", "/tmp"), &tn{name: "a", mode: ModeDir | 0o755, kids: []*tn{fileNode("f", "evil")}})), `"a"`},
		{"symlink then file through it", buildArchive(testFeat, dirNode(linkNode("a", ".."), fileNode("a", "evil"))), `duplicate`},
		{"duplicate", buildArchive(testFeat, dirNode(fileNode("a", "1"), fileNode("a", "2"))), `duplicate`},
		{"duplicate out of order", buildArchive(testFeat, dirNode(fileNode("a", "1"), fileNode("c", "2"), fileNode("b", "3"), fileNode("a", "4"))), `duplicate`},
		{"symlink then file through it, out of order", buildArchive(testFeat, dirNode(linkNode("b", "/tmp"), fileNode("a", "x"), fileNode("b", "evil"))), `duplicate`},
		{"bad goodbye hash", buildArchive(testFeat, &tn{mode: ModeDir | 0o755, kids: ok().kids, gbItems: func(it [][3]uint64, _ *[3]uint64) { it[0][2] ^= 1 }}), "GOODBYE item 0"},
		{"bad goodbye order", buildArchive(testFeat, &tn{mode: ModeDir | 0o755, kids: ok().kids, gbItems: func(it [][3]uint64, _ *[3]uint64) { it[0], it[1] = it[1], it[0] }}), "GOODBYE item 0"},
		{"bad goodbye marker", buildArchive(testFeat, &tn{mode: ModeDir | 0o755, kids: ok().kids, gbItems: func(_ [][3]uint64, t *[3]uint64) { t[2]++ }}), "marker"},
		{"bad goodbye entry offset", buildArchive(testFeat, &tn{mode: ModeDir | 0o755, kids: ok().kids, gbItems: func(_ [][3]uint64, t *[3]uint64) { t[0] += 8 }}), "entry offset"},
		{"goodbye missing a child", buildArchive(testFeat, &tn{mode: ModeDir | 0o755, kids: ok().kids, gbItems: func(it [][3]uint64, t *[3]uint64) {}, tail: nil}), ""},
		{"huge filename", append(buildArchive(testFeat, dirNode())[:64], huge(typeFilename, 1<<40)...), "FILENAME record size"},
		{"huge xattr", buildArchive(testFeat, dirNode(&tn{name: "f", mode: ModeRegular | 0o644, meta: [][]byte{huge(typeXattr, 1<<62)}})), "XATTR record size"},
		{"huge payload in short stream", append(buildArchive(testFeat, dirNode())[:64], append(rec(typeFilename, cstr("f")), append(rec(typeEntry, le64s(uint64(testFeat), uint64(ModeRegular|0o644), 0, 0, 0, 0)), huge(typePayload, 1<<62)...)...)...), "truncated"},
		{"huge goodbye", append(buildArchive(testFeat, dirNode())[:64], huge(typeGoodbye, 1<<50)...), "GOODBYE"},
		{"tiny record", append(buildArchive(testFeat, dirNode())[:64], le64s(3, typeFilename)...), "smaller than its header"},
		{"unknown record", append(buildArchive(testFeat, dirNode())[:64], rec(0x1234, nil)...), "unknown"},
		{"long symlink", buildArchive(testFeat, dirNode(linkNode("l", strings.Repeat("x", 4096)))), "SYMLINK record size"},
		{"device out of range", buildArchive(testFeat, dirNode(&tn{name: "d", mode: ModeChar | 0o600, major: 1 << 12})), "device number"},
		{"flags differ", buildArchive(testFeat, dirNode(&tn{name: "f", mode: ModeRegular | 0o644, feat: featPtr(testFeat | WithACL)})), "feature flags"},
		{"unnormalized flags", buildArchive(WithSecTime|WithNsecTime, dirNode()), "not normalized"},
		{"uid 65535", buildArchive(testFeat, dirNode(&tn{name: "f", mode: ModeRegular | 0o644, uid: 65535})), "uid/gid 65535"},
		{"bad mode", buildArchive(testFeat, dirNode(&tn{name: "f", mode: ModeRegular | 0o644 | 0o1000000})), "mode"},
		{"symlink mode", buildArchive(testFeat, dirNode(&tn{name: "l", mode: ModeSymlink | 0o755, target: "x"})), "symlink mode"},
		{"flag not in features", buildArchive(testFeat, dirNode(&tn{name: "f", mode: ModeRegular | 0o644, flags: uint64(WithFlagAppend)})), "flags"},
		{"mtime granularity", buildArchive(WithSecTime, dirNode(&tn{name: "f", mode: ModeRegular, mtime: 5})), "granularity"},
		{"bad user name", buildArchive(testFeat, dirNode(&tn{name: "f", mode: ModeRegular | 0o644, meta: [][]byte{rec(typeUser, cstr("root"))}})), "USER"},
		{"xattr order", buildArchive(testFeat, dirNode(&tn{name: "f", mode: ModeRegular | 0o644, meta: [][]byte{rec(typeXattr, []byte("user.b\x00v")), rec(typeXattr, []byte("user.a\x00v"))}})), "out of order"},
		{"meta order", buildArchive(testFeat, dirNode(&tn{name: "f", mode: ModeRegular | 0o644, meta: [][]byte{rec(typeXattr, []byte("user.b\x00v")), rec(typeUser, cstr("daemon"))}})), "out of place"},
		{"acl without feature", buildArchive(testFeat, dirNode(&tn{name: "f", mode: ModeRegular | 0o644, meta: [][]byte{rec(typeACLGroupObj, le64s(7))}})), "feature"},
		{"root not a dir", buildArchive(testFeat, &tn{mode: ModeRegular | 0o644}), "root"},
		{"trailing data", append(buildArchive(testFeat, ok()), 0), "trailing"},
		{"payload on a dir", buildArchive(testFeat, dirNode(&tn{name: "d", mode: ModeDir | 0o755, meta: [][]byte{rec(typePayload, nil)}})), "PAYLOAD"},
		{"file without payload", append(buildArchive(testFeat, dirNode())[:64], append(rec(typeFilename, cstr("f")), rec(typeEntry, le64s(uint64(testFeat), uint64(ModeRegular|0o644), 0, 0, 0, 0))...)...), "truncated"},
		{"empty", nil, "truncated"},
	}
	// A goodbye listing one child too few: drop the last item and fix the sizes.
	short := buildArchive(testFeat, ok())
	for i := range cases {
		if cases[i].name == "goodbye missing a child" {
			cases[i] = tc{"goodbye missing a child", shortenGoodbye(short), "GOODBYE table has 1 items"}
		}
	}
	return cases
}

// shortenGoodbye removes the first item of the final goodbye table.
func shortenGoodbye(b []byte) []byte {
	gb := len(b) - (headerSize + 3*goodbyeItemSize)
	out := append([]byte{}, b[:gb]...)
	out = append(out, le64s(uint64(headerSize+2*goodbyeItemSize), typeGoodbye)...)
	out = append(out, b[gb+headerSize+goodbyeItemSize:]...)
	return out
}

func TestReaderHostile(t *testing.T) {
	for _, tc := range hostileArchives() {
		t.Run(tc.name, func(t *testing.T) {
			err := readAll(bytes.NewReader(tc.data))
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *FormatError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// TestExtractHostile extracts every hostile archive into base/out next to
// a sentinel: the extraction must fail with a FormatError or ExtractError,
// and base must hold nothing but out and the untouched sentinel.
func TestExtractHostile(t *testing.T) {
	for _, tc := range hostileArchives() {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			sentinel := filepath.Join(base, "sentinel")
			if err := os.WriteFile(sentinel, []byte("keep"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Extract(context.Background(), bytes.NewReader(tc.data), filepath.Join(base, "out"), ExtractOptions{Workers: 2})
			var fe *FormatError
			var xe *ExtractError
			if !errors.As(err, &fe) && !errors.As(err, &xe) {
				t.Fatalf("error %v, want a FormatError or ExtractError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
			checkConfined(t, base)
		})
	}
}

// checkConfined fails when base holds anything but out/ and the sentinel.
func checkConfined(t *testing.T, base string) {
	t.Helper()
	ents, err := os.ReadDir(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != "out" && e.Name() != "sentinel" {
			t.Fatalf("%q appeared next to the target", e.Name())
		}
	}
	if b, err := os.ReadFile(filepath.Join(base, "sentinel")); err != nil || string(b) != "keep" {
		t.Fatalf("sentinel changed: %q %v", b, err)
	}
	filepath.WalkDir(filepath.Join(base, "out"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type()&os.ModeSymlink != 0 {
			return nil
		}
		return err
	})
}

// TestExtractSymlinkOutside checks that a symlink pointing outside is
// created as a symlink and nothing is written through it.
func TestExtractSymlinkOutside(t *testing.T) {
	base := t.TempDir()
	os.WriteFile(filepath.Join(base, "sentinel"), []byte("keep"), 0o644)
	data := buildArchive(testFeat, dirNode(linkNode("esc", "../sentinel"), fileNode("f", "data")))
	if _, err := Extract(context.Background(), bytes.NewReader(data), filepath.Join(base, "out"), ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	checkConfined(t, base)
	if tgt, err := os.Readlink(filepath.Join(base, "out", "esc")); err != nil || tgt != "../sentinel" {
		t.Fatalf("symlink %q %v", tgt, err)
	}
}

// TestExtractTruncated extracts tree.catar cut at every record boundary:
// each must fail with io.ErrUnexpectedEOF inside a FormatError, confined.
func TestExtractTruncated(t *testing.T) {
	data, err := os.ReadFile("testdata/tree.catar")
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range readDump(t, "tree.catar") {
		for _, cut := range []int64{rec.off, rec.off + rec.size/2} {
			base := t.TempDir()
			os.WriteFile(filepath.Join(base, "sentinel"), []byte("keep"), 0o644)
			_, err := Extract(context.Background(), bytes.NewReader(data[:cut]), filepath.Join(base, "out"), ExtractOptions{Workers: 3})
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("cut at %d: %v", cut, err)
			}
			checkConfined(t, base)
		}
	}
}
