package catar

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
)

func dirEntry(p string) *Entry { return &Entry{Path: p, Mode: ModeDir | 0o755} }
func fileEntry(p string, size int64) *Entry {
	return &Entry{Path: p, Mode: ModeRegular | 0o644, Size: size}
}

// TestWriterMisuse checks each misuse is refused with a *FormatError naming
// the entry.
func TestWriterMisuse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []*Entry
		payload string // written after the last entry
		close   bool
		errPath string
		errMsg  string
	}{
		{"root not first", []*Entry{fileEntry("a", 0)}, "", false, "a", "first entry must be the root"},
		{"root not a dir", []*Entry{fileEntry("", 0)}, "", false, "", "root must be a directory"},
		{"out of order", []*Entry{dirEntry(""), fileEntry("b", 0), fileEntry("a", 0)}, "", false, "a", "strcmp order"},
		{"duplicate", []*Entry{dirEntry(""), fileEntry("a", 0), fileEntry("a", 0)}, "", false, "a", "strcmp order"},
		{"uppercase after lowercase", []*Entry{dirEntry(""), fileEntry("a", 0), fileEntry("B", 0)}, "", false, "B", "strcmp order"},
		{"dot name", []*Entry{dirEntry(""), fileEntry(".", 0)}, "", false, ".", "invalid name"},
		{"dotdot name", []*Entry{dirEntry(""), dirEntry("d"), fileEntry("d/..", 0)}, "", false, "d/..", "invalid name"},
		{"empty element", []*Entry{dirEntry(""), dirEntry("d"), fileEntry("d//x", 0)}, "", false, "d//x", "parent directory"},
		{"nul in name", []*Entry{dirEntry(""), fileEntry("a\x00b", 0)}, "", false, "a\x00b", "NUL"},
		{"absolute", []*Entry{dirEntry(""), fileEntry("/etc", 0)}, "", false, "/etc", "absolute"},
		{"missing parent", []*Entry{dirEntry(""), fileEntry("x/y", 0)}, "", false, "x/y", "parent directory"},
		{"child of a file", []*Entry{dirEntry(""), fileEntry("f", 0), fileEntry("f/y", 0)}, "", false, "f/y", "parent directory"},
		{"back into closed dir", []*Entry{dirEntry(""), dirEntry("a"), dirEntry("b"), fileEntry("a/x", 0)}, "", false, "a/x", "parent directory"},
		{"short payload", []*Entry{dirEntry(""), fileEntry("f", 5), fileEntry("g", 0)}, "", false, "f", "payload short"},
		{"short payload at close", []*Entry{dirEntry(""), fileEntry("f", 5)}, "abc", true, "f", "payload short"},
		{"long payload", []*Entry{dirEntry(""), fileEntry("f", 2)}, "abc", false, "f", "payload longer"},
		{"symlink without feature", []*Entry{dirEntry(""), {Path: "l", Mode: ModeSymlink | 0o777, Target: "x"}}, "", false, "l", "not carried"},
		{"16-bit uid overflow", []*Entry{dirEntry(""), {Path: "u", Mode: ModeRegular | 0o644, UID: 70000}}, "", false, "u", "16-bit"},
		{"bad user name", []*Entry{dirEntry(""), {Path: "u", Mode: ModeRegular | 0o644, UID: 5, User: "no spaces"}}, "", false, "u", "invalid user name"},
		{"no root", nil, "", true, "", "without a root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := WithUnix &^ WithSymlinks
			if strings.Contains(tc.name, "user name") {
				f = WithUserNames | With32BitUIDs
			}
			w := NewWriter(io.Discard, f)
			var err error
			for _, e := range tc.entries {
				if err = w.WriteEntry(e); err != nil {
					break
				}
			}
			if err == nil && tc.payload != "" {
				_, err = w.Write([]byte(tc.payload))
			}
			if err == nil && tc.close {
				err = w.Close()
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FormatError", err)
			}
			if fe.Path != tc.errPath || !strings.Contains(fe.Msg, tc.errMsg) {
				t.Fatalf("got %v (path %q), want path %q and %q", err, fe.Path, tc.errPath, tc.errMsg)
			}
		})
	}
}

// TestWriterGoodbyeLayout checks the goodbye table of directories of 0 to
// 300 children: items are a complete BST of (hash, offset) in array form,
// offsets and sizes point at each child's FILENAME and span it.
func TestWriterGoodbyeLayout(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 4, 7, 8, 100, 300} {
		var buf bytes.Buffer
		w := NewWriter(&buf, WithUnix)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(w.WriteEntry(dirEntry("")))
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("n%03d", i)
		}
		sort.Strings(names)
		for i, name := range names {
			must(w.WriteEntry(fileEntry(name, int64(i%5))))
			_, err := w.Write(bytes.Repeat([]byte{'x'}, i%5))
			must(err)
		}
		must(w.Close())
		b := buf.Bytes()
		size := 16 + 24*(n+1)
		gb := b[len(b)-size:]
		if binary.LittleEndian.Uint64(gb) != uint64(size) || binary.LittleEndian.Uint64(gb[8:]) != typeGoodbye {
			t.Fatalf("n=%d: goodbye header wrong", n)
		}
		gbOff := len(b) - size
		tail := gb[16+24*n:]
		if binary.LittleEndian.Uint64(tail) != uint64(gbOff) || binary.LittleEndian.Uint64(tail[16:]) != goodbyeTailMarker {
			t.Fatalf("n=%d: tail wrong", n)
		}
		type it struct{ off, size, hash uint64 }
		items := make([]it, n)
		for i := range items {
			p := gb[16+24*i:]
			items[i] = it{binary.LittleEndian.Uint64(p), binary.LittleEndian.Uint64(p[8:]), binary.LittleEndian.Uint64(p[16:])}
		}
		// In-order traversal must be sorted by hash.
		var inorder []it
		var walk func(i int)
		walk = func(i int) {
			if i >= n {
				return
			}
			walk(2*i + 1)
			inorder = append(inorder, items[i])
			walk(2*i + 2)
		}
		walk(0)
		for i := 1; i < len(inorder); i++ {
			if inorder[i-1].hash > inorder[i].hash {
				t.Fatalf("n=%d: in-order hashes not sorted at %d", n, i)
			}
		}
		var total uint64
		for _, x := range items {
			start := gbOff - int(x.off)
			name := string(b[start+16 : start+int(binary.LittleEndian.Uint64(b[start:]))-1])
			if binary.LittleEndian.Uint64(b[start+8:]) != typeFilename || nameHash(name) != x.hash {
				t.Fatalf("n=%d: item for %q does not point at its FILENAME", n, name)
			}
			total += x.size
		}
		if int(total) != gbOff-64 {
			t.Fatalf("n=%d: item sizes add up to %d, want %d", n, total, gbOff-64)
		}
	}
}

// TestWriterFeatures checks the ENTRY numbers the Writer derives from raw
// metadata (§5.2).
func TestWriterFeatures(t *testing.T) {
	raw := &Entry{Path: "f", Mode: ModeRegular | 0o4751, UID: 1000, GID: 1001, MTime: 1_600_000_001_999_999_999,
		Flags: uint64(WithFlagNoatime | WithFlagNodump)}
	for _, tc := range []struct {
		f                      Features
		mode                   uint64
		flags, uid, gid, mtime uint64
	}{
		{WithUnix, 0o104751, 0, 1000, 1001, 1_600_000_001_000_000_000},
		{WithReadOnly | With2SecTime, 0o100666, 0, 0, 0, 1_600_000_000_000_000_000},
		{WithUsecTime | With32BitUIDs | WithChattr, 0o100666, uint64(WithFlagNoatime | WithFlagNodump), 1000, 1001, 1_600_000_001_999_999_000},
		{(WithChattr | ExcludeNodump).Normalize(), 0o100666, uint64(WithFlagNoatime), 0, 0, 0},
		{0, 0o100666, 0, 0, 0, 0},
	} {
		var buf bytes.Buffer
		w := NewWriter(&buf, tc.f)
		if err := w.WriteEntry(dirEntry("")); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteEntry(raw); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		e := b[64+16+2:] // root ENTRY, FILENAME "f"
		got := []uint64{}
		for i := 3; i < 8; i++ {
			got = append(got, binary.LittleEndian.Uint64(e[8*i:]))
		}
		want := []uint64{tc.mode, tc.flags, tc.uid, tc.gid, tc.mtime}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("features %v: mode/flags/uid/gid/mtime %o, want %o", tc.f, got, want)
		}
	}
}

func TestExcludePatterns(t *testing.T) {
	ps := parseExclude("", []byte("# c\n*.tmp\n!keep.tmp\ncache/\nsub/*.md\nfoo\n"))
	ps = append(ps, parseExclude("other", []byte("/top\n*.log\n"))...)
	for _, tc := range []struct {
		path  string
		dir   bool
		want  bool
		cause string
	}{
		{"a.tmp", false, true, "glob"},
		{"x/y/a.tmp", false, true, "glob at depth"},
		{"keep.tmp", false, false, "negated"},
		{"cache", true, true, "dir pattern"},
		{"cache", false, false, "dir pattern, file"},
		{"x/cache", true, false, "trailing slash anchors"},
		{"sub/a.md", false, true, "anchored glob"},
		{"sub/d/a.md", false, false, "anchored glob, deeper"},
		{"d/foo", true, true, "bare name at depth"},
		{"other/top", false, true, "anchored to its directory"},
		{"other/x/top", false, false, "anchored, deeper"},
		{"top", false, false, "other directory's pattern"},
		{"other/a.log", false, true, "nested file's glob"},
		{"a.log", false, false, "nested glob above its directory"},
		{"# c", false, false, "comment"},
	} {
		if got := excluded(ps, tc.path, tc.dir); got != tc.want {
			t.Errorf("%s (%s): excluded=%v, want %v", tc.path, tc.cause, got, tc.want)
		}
	}
}
