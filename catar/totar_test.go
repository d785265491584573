package catar

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"testing"
)

// TestWriteTar converts archives to tar and reads the tar back, comparing
// every header and payload with the entries of the archive.
func TestWriteTar(t *testing.T) {
	for _, name := range []string{"tree.catar", "tree.unix.catar", "odd.catar", "desync.catar"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := WriteTar(context.Background(), &out, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			tr := tar.NewReader(bytes.NewReader(out.Bytes()))
			ar := NewReader(bytes.NewReader(data))
			types := map[uint32]byte{ModeDir: tar.TypeDir, ModeRegular: tar.TypeReg, ModeSymlink: tar.TypeSymlink,
				ModeChar: tar.TypeChar, ModeBlock: tar.TypeBlock, ModeFIFO: tar.TypeFifo}
			for {
				e, err := ar.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if e.Type() == ModeSocket {
					continue
				}
				h, err := tr.Next()
				if err != nil {
					t.Fatalf("tar ends before %q: %v", e.Path, err)
				}
				want := e.Path
				if want == "" {
					want = "."
				}
				if h.Name != want || h.Typeflag != types[e.Type()] || h.Mode != int64(e.Mode&ModePerm) ||
					h.Uid != int(e.UID) || h.Gid != int(e.GID) || h.ModTime.Unix() != e.MTime/1e9 ||
					h.Linkname != e.Target || h.Devmajor != int64(e.DevMajor) || h.Devminor != int64(e.DevMinor) {
					t.Fatalf("header %+v for entry %+v", h, e)
				}
				for _, x := range e.Xattrs {
					if v, ok := h.PAXRecords["SCHILY.xattr."+x.Name]; !ok || v != string(x.Value) {
						t.Fatalf("%q: xattr %q missing from the PAX records %v", e.Path, x.Name, h.PAXRecords)
					}
				}
				if e.IsRegular() {
					a, _ := io.ReadAll(ar)
					b, _ := io.ReadAll(tr)
					if !bytes.Equal(a, b) || h.Size != e.Size {
						t.Fatalf("%q: payload differs", e.Path)
					}
				}
			}
			if h, err := tr.Next(); err != io.EOF {
				t.Fatalf("extra tar entry %v %v", h, err)
			}
			if tarBin, err := exec.LookPath("tar"); err == nil {
				cmd := exec.Command(tarBin, "-tf", "-")
				cmd.Stdin = bytes.NewReader(out.Bytes())
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("GNU tar -t: %v\n%s", err, b)
				}
			}
		})
	}
}
