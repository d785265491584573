package catar

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

type tarItem struct {
	h    tar.Header
	data string
}

func makeTar(t *testing.T, items []tarItem) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, it := range items {
		h := it.h
		h.Size = int64(len(it.data))
		if h.Format == tar.FormatUnknown {
			h.Format = tar.FormatPAX
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, it.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEncodeTarRefusesHostileNames(t *testing.T) {
	for _, name := range []string{"../evil", "a/../../evil", "/etc/passwd", "ok/..", "x\x00y"} {
		items := []tarItem{{h: tar.Header{Name: "fine", Typeflag: tar.TypeReg, Mode: 0o644}, data: "x"},
			{h: tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644}, data: "x"}}
		if strings.Contains(name, "\x00") {
			items[1].h.Format = tar.FormatGNU
		}
		var buf bytes.Buffer
		tr := makeTarOrSkip(t, items)
		if tr == nil {
			continue
		}
		_, err := EncodeTar(context.Background(), &buf, bytes.NewReader(tr), EncodeOptions{})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) {
			t.Errorf("%q: got %v, want an error naming the entry", name, err)
		}
	}
	// An entry below a symlink is refused too.
	tr := makeTar(t, []tarItem{
		{h: tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc", Mode: 0o777}},
		{h: tar.Header{Name: "l/passwd", Typeflag: tar.TypeReg, Mode: 0o644}, data: "x"},
	})
	if _, err := EncodeTar(context.Background(), io.Discard, bytes.NewReader(tr), EncodeOptions{}); err == nil || !strings.Contains(err.Error(), `"l/passwd"`) {
		t.Errorf("entry below a symlink: got %v", err)
	}
}

// makeTarOrSkip returns nil when archive/tar itself refuses the name.
func makeTarOrSkip(t *testing.T, items []tarItem) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, it := range items {
		h := it.h
		h.Size = int64(len(it.data))
		if err := tw.WriteHeader(&h); err != nil {
			return nil
		}
		io.WriteString(tw, it.data)
	}
	tw.Close()
	return buf.Bytes()
}

// TestEncodeTarTree checks implied directories, replacement, hard links and
// the strcmp order against an archive written entry by entry.
func TestEncodeTarTree(t *testing.T) {
	mt := time.Unix(1700000000, 123456789)
	old := time.Unix(1600000000, 0)
	tr := makeTar(t, []tarItem{
		{h: tar.Header{Name: "./b/c/file", Typeflag: tar.TypeReg, Mode: 0o600, Uid: 7, Gid: 8, ModTime: old}, data: "first"},
		{h: tar.Header{Name: "./b/c/file", Typeflag: tar.TypeReg, Mode: 0o640, Uid: 7, Gid: 8, ModTime: old}, data: "second"},
		{h: tar.Header{Name: "./a", Typeflag: tar.TypeLink, Linkname: "b/c/file", ModTime: old}},
		{h: tar.Header{Name: "./B/", Typeflag: tar.TypeDir, Mode: 0o700, ModTime: mt,
			PAXRecords: map[string]string{"SCHILY.xattr.user.k": "v", "SCHILY.xattr.security.ima": "dropped"}}},
		{h: tar.Header{Name: "./dev", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3, ModTime: old}},
	})
	f := mustFeatures(t, FeatureOptions{})
	var got bytes.Buffer
	st, err := EncodeTar(context.Background(), &got, bytes.NewReader(tr), EncodeOptions{Features: f})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	w := NewWriter(&want, f)
	ns := mt.UnixNano()
	for _, e := range []struct {
		e    Entry
		data string
	}{
		{Entry{Path: "", Mode: ModeDir | 0o755, MTime: ns}, ""},
		{Entry{Path: "B", Mode: ModeDir | 0o700, MTime: ns, Xattrs: []Xattr{{"user.k", []byte("v")}}}, ""},
		{Entry{Path: "a", Mode: ModeRegular | 0o640, UID: 7, GID: 8, MTime: old.UnixNano(), Size: 6}, "second"},
		{Entry{Path: "b", Mode: ModeDir | 0o755, MTime: ns}, ""},
		{Entry{Path: "b/c", Mode: ModeDir | 0o755, MTime: ns}, ""},
		{Entry{Path: "b/c/file", Mode: ModeRegular | 0o640, UID: 7, GID: 8, MTime: old.UnixNano(), Size: 6}, "second"},
		{Entry{Path: "dev", Mode: ModeChar | 0o666, DevMajor: 1, DevMinor: 3, MTime: old.UnixNano()}, ""},
	} {
		if err := w.WriteEntry(&e.e); err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("EncodeTar differs from the expected archive: %s", firstDiff(got.Bytes(), want.Bytes()))
	}
	if st.Files != 2 || st.Dirs != 4 || st.Bytes != 12 {
		t.Errorf("stats %+v", st)
	}
}

func TestEncodeTarContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tr := makeTar(t, []tarItem{{h: tar.Header{Name: "x", Typeflag: tar.TypeReg, Mode: 0o644}, data: "x"}})
	if _, err := EncodeTar(ctx, io.Discard, bytes.NewReader(tr), EncodeOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// TestEncodeTarRoot: a tar of one directory (tar -c dir) has that directory
// as the archive root, as the original desync makes it, unless TarAddRoot;
// a tar with a root entry or several top-level entries keeps its layout.
func TestEncodeTarRoot(t *testing.T) {
	dir := func(n string) tarItem { return tarItem{h: tar.Header{Name: n, Typeflag: tar.TypeDir, Mode: 0o755}} }
	file := func(n string) tarItem {
		return tarItem{h: tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644}, data: n}
	}
	for _, tc := range []struct {
		name    string
		items   []tarItem
		addRoot bool
		want    string
	}{
		{"dot", []tarItem{dir("./"), dir("./d/"), file("./d/f"), file("./g")}, false, ",d,d/f,g"},
		{"dot, add root", []tarItem{dir("./"), dir("./d/"), file("./d/f"), file("./g")}, true, ",d,d/f,g"},
		{"one directory", []tarItem{dir("src/"), dir("src/d/"), file("src/d/f"), file("src/g")}, false, ",d,d/f,g"},
		{"one directory, add root", []tarItem{dir("src/"), dir("src/d/"), file("src/d/f"), file("src/g")}, true, ",src,src/d,src/d/f,src/g"},
		{"one implied directory", []tarItem{file("src/g")}, false, ",g"},
		{"several top-level entries", []tarItem{dir("d/"), file("d/f"), file("g")}, false, ",d,d/f,g"},
		{"one file", []tarItem{file("f")}, false, ",f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := EncodeTar(context.Background(), &buf, bytes.NewReader(makeTar(t, tc.items)), EncodeOptions{TarAddRoot: tc.addRoot}); err != nil {
				t.Fatal(err)
			}
			if s := archivePaths(t, &buf); s != tc.want {
				t.Fatalf("entries %q, want %q", s, tc.want)
			}
		})
	}
}
