package catar

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestWriteMtree compares WriteMtree with what `casync mtree` printed for
// the same archives (casync's vectors, odd names, a SHA-256 archive with
// 16-bit uids and user names, an archive of the original desync).
func TestWriteMtree(t *testing.T) {
	for _, tc := range []struct{ archive, want string }{
		{"tree.catar", "tree.mtree.txt"},
		{"tree.unix.catar", "tree.unix.mtree.txt"},
		{"tree.without-all.catar", "tree.without-all.mtree.txt"},
		{"odd.catar", "odd.mtree.txt"},
		{"odd.sha256.catar", "odd.sha256.mtree.txt"},
		{"desync.catar", "desync.mtree.txt"},
	} {
		t.Run(tc.archive, func(t *testing.T) {
			f, err := os.Open("testdata/" + tc.archive)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			want, err := os.ReadFile("testdata/" + tc.want)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := WriteMtree(&got, f); err != nil {
				t.Fatal(err)
			}
			gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
			for i := range max(len(gl), len(wl)) {
				var g, w string
				if i < len(gl) {
					g = gl[i]
				}
				if i < len(wl) {
					w = wl[i]
				}
				if g != w {
					t.Fatalf("line %d:\n got %s\nwant %s", i+1, g, w)
				}
			}
		})
	}
}

func TestWriteMtreeBadArchive(t *testing.T) {
	data, err := os.ReadFile("testdata/tree.catar")
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteMtree(&bytes.Buffer{}, bytes.NewReader(data[:len(data)-1])); err == nil {
		t.Fatal("truncated archive: no error")
	}
}
