package catar

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// needRoot skips a test that must run as root, except under CI=true.
func needCasync(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("casync")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: casync not installed")
		}
		t.Skip("casync not installed")
	}
	return p
}

// TestExtractRoundTrip extracts casync's archives as root and has the real
// casync archive the result again: the bytes must be the same.
func TestExtractRoundTrip(t *testing.T) {
	needRoot(t)
	casync := needCasync(t)
	for _, tc := range []struct {
		archive string
		args    []string
		workers int
	}{
		{"tree.catar", nil, 4},
		{"tree.catar", nil, 1},
		{"tree.unix.catar", []string{"--with=unix"}, 3},
		{"odd.catar", nil, 2},
		{"desync.catar", []string{"--with=32bit-uids", "--with=nsec-time", "--with=permissions", "--with=symlinks", "--with=device-nodes", "--with=fifos", "--with=sockets", "--with=xattrs"}, 4},
	} {
		t.Run(tc.archive, func(t *testing.T) {
			want, err := os.ReadFile("testdata/" + tc.archive)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "out")
			st, err := Extract(context.Background(), bytes.NewReader(want), dir, ExtractOptions{Workers: tc.workers})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { exec.Command("chattr", "-R", "-ia", dir).Run() })
			if st.Files == 0 || st.Dirs == 0 || st.Entries != st.Files+st.Dirs+st.Symlinks+st.Devices+st.FIFOs+st.Sockets {
				t.Fatalf("stats %+v", st)
			}
			casyncRemakes(t, casync, dir, want, tc.args...)
		})
	}
}

func TestExtractIntoExisting(t *testing.T) {
	data, err := os.ReadFile("testdata/desync.catar")
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	dir := filepath.Join(base, "out")
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(filepath.Join(dir, "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(outside, []byte("precious"), 0o644)
	os.Mkdir(filepath.Join(base, "outdir"), 0o755)
	// Planted: hello.txt a symlink to a file outside; sub a symlink to a
	// directory outside. Both must be replaced, not written through.
	os.Symlink(outside, filepath.Join(dir, "hello.txt"))
	os.Symlink(filepath.Join(base, "outdir"), filepath.Join(dir, "sub"))
	if _, err := Extract(context.Background(), bytes.NewReader(data), dir, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "precious" {
		t.Fatalf("file outside the target changed: %q", b)
	}
	if ents, _ := os.ReadDir(filepath.Join(base, "outdir")); len(ents) != 0 {
		t.Fatalf("directory outside the target got %d entries", len(ents))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "hello.txt")); string(b) != "hello\n" {
		t.Fatalf("hello.txt %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "sub")); err != nil || !fi.IsDir() {
		t.Fatalf("sub: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keep")); err != nil {
		t.Fatalf("entry the archive does not name was removed: %v", err)
	}
}

// casyncRemakes checks that casync make (with args) of dir gives want
// again, byte for byte; on a difference it shows both archives' records
// and mtree lines.
func casyncRemakes(t *testing.T, casync, dir string, want []byte, args ...string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "again.catar")
	args = append(append([]string{"make"}, args...), out, dir)
	if b, err := exec.Command(casync, args...).CombinedOutput(); err != nil {
		t.Fatalf("casync make: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, want) {
		return
	}
	var a, b bytes.Buffer
	WriteMtree(&a, bytes.NewReader(want))
	WriteMtree(&b, bytes.NewReader(got))
	dump := func(d []byte) string {
		var s bytes.Buffer
		for off := 0; off+16 <= len(d); {
			size := int(binary.LittleEndian.Uint64(d[off:]))
			s.WriteString(typeName(binary.LittleEndian.Uint64(d[off+8:])) + " ")
			if size < 16 {
				break
			}
			off += size
		}
		return s.String()
	}
	t.Fatalf("casync make of the extracted tree differs (%d vs %d bytes)\nwant %s\ngot  %s\n%s\n%s", len(want), len(got), dump(want), dump(got), a.String(), b.String())
}
