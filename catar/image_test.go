//go:build linux

package catar

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/folbricht/desync/catar/catartest"
)

// TestTreeImage: the image of a tree reads, at any offset, exactly the
// archive EncodeTree writes; a file changed later reads as it is now, a
// vanished one as zeros, and the image never fails a read.
func TestTreeImage(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "tree")
	if os.Geteuid() == 0 {
		catartest.Build(t, dir)
	} else {
		for i, name := range []string{"a", "b/c", "b/d/e", "f"} {
			p := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, bytes.Repeat([]byte{byte('a' + i)}, 1000*(i+1)), 0o644)
		}
	}
	for _, f := range []Features{DefaultArchive, 0xb000000000001f09} {
		var want bytes.Buffer
		if _, err := EncodeTree(ctx, &want, dir, EncodeOptions{Features: f}); err != nil {
			t.Fatal(err)
		}
		img, err := NewTreeImage(ctx, dir, f)
		if err != nil {
			t.Fatal(err)
		}
		if img.Size() != int64(want.Len()) {
			t.Fatalf("features %#x: image size %d, archive %d", uint64(f), img.Size(), want.Len())
		}
		got := make([]byte, want.Len())
		if n, err := img.ReadAt(got, 0); n != len(got) || err != nil || !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("features %#x: whole image: %d bytes, %v, equal %v", uint64(f), n, err, bytes.Equal(got, want.Bytes()))
		}
		rng := rand.New(rand.NewPCG(1, uint64(f)))
		for range 500 {
			off := rng.Int64N(int64(want.Len()))
			n := rng.IntN(70000)
			b := make([]byte, n)
			k, err := img.ReadAt(b, off)
			end := min(off+int64(n), int64(want.Len()))
			if int64(k) != end-off || !bytes.Equal(b[:k], want.Bytes()[off:end]) {
				t.Fatalf("ReadAt(%d bytes at %d): %d bytes, %v, differ", n, off, k, err)
			}
			if (err == io.EOF) != (end-off < int64(n)) || (err != nil && err != io.EOF) {
				t.Fatalf("ReadAt(%d bytes at %d): error %v", n, off, err)
			}
		}
		for _, pl := range img.pay {
			if file, size, ok := img.FileAt(pl.off); !ok || file != pl.file || size != pl.size {
				t.Fatalf("FileAt(%d) = %q, %d, %v; want %q, %d", pl.off, file, size, ok, pl.file, pl.size)
			}
			if pl.size > 0 {
				if _, _, ok := img.FileAt(pl.off + 1); ok {
					t.Fatalf("FileAt(%d), inside a payload, found a file", pl.off+1)
				}
			}
		}
		if _, err := img.ReadAt(make([]byte, 1), img.Size()); err != io.EOF {
			t.Fatalf("read at the end: %v", err)
		}
	}

	// Changes after the image was made show in what it reads.
	img, err := NewTreeImage(ctx, dir, DefaultArchive)
	if err != nil {
		t.Fatal(err)
	}
	var before bytes.Buffer
	EncodeTree(ctx, &before, dir, EncodeOptions{})
	victim := img.pay[len(img.pay)-1]
	if err := os.Remove(victim.file); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, img.Size())
	if _, err := img.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	wantZero := before.Bytes()[victim.off : victim.off+victim.size]
	if !bytes.Equal(got[victim.off:victim.off+victim.size], make([]byte, victim.size)) || (victim.size > 0 && bytes.Equal(wantZero, make([]byte, victim.size))) {
		t.Fatal("a vanished file does not read as zeros")
	}
	if !bytes.Equal(got[:victim.off], before.Bytes()[:victim.off]) {
		t.Fatal("bytes before the vanished file changed")
	}
}
