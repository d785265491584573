package catar

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"reflect"
	"testing"
)

// walkArchive lists every node of a by ReadDir, in archive order, with the
// payload of regular files.
func walkArchive(t *testing.T, a *Archive, dir *Node, visit func(*Node)) {
	t.Helper()
	visit(dir)
	kids, err := a.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir(%q): %v", dir.Path, err)
	}
	for _, k := range kids {
		if k.IsDir() {
			walkArchive(t, a, k, visit)
		} else {
			visit(k)
		}
	}
}

// TestArchiveMatchesReader: random access finds every entry the streaming
// Reader decodes, with the same metadata, offsets and payloads.
func TestArchiveMatchesReader(t *testing.T) {
	for _, name := range []string{"tree.catar", "odd.catar", "desync.catar", "tree.without-all.catar", "odd.sha256.catar", "tree.unix.catar"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			type rec struct {
				e       Entry
				off     int64
				payload []byte
			}
			var want []rec
			r := NewReader(bytes.NewReader(data))
			for {
				e, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				p, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, rec{*e, r.Offset(), p})
			}
			a, err := OpenArchive(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			if a.Features() != r.Features() {
				t.Errorf("features %v, want %v", a.Features(), r.Features())
			}
			var got []rec
			walkArchive(t, a, a.Root(), func(n *Node) {
				p, err := io.ReadAll(a.Payload(n))
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, rec{n.Entry, n.Offset, p})
			})
			if len(got) != len(want) {
				t.Fatalf("%d entries, want %d", len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i].e, want[i].e) || got[i].off != want[i].off || !bytes.Equal(got[i].payload, want[i].payload) {
					t.Errorf("entry %d: got %+v at %d, want %+v at %d", i, got[i].e, got[i].off, want[i].e, want[i].off)
				}
			}
			// Lookup finds every child by name, and nothing else.
			for _, w := range want[1:] {
				dir, name := a.Root(), w.e.Path
				for {
					i := bytes.IndexByte([]byte(name), '/')
					if i < 0 {
						break
					}
					dir, err = a.Lookup(dir, name[:i])
					if err != nil {
						t.Fatalf("Lookup %q: %v", w.e.Path, err)
					}
					name = name[i+1:]
				}
				n, err := a.Lookup(dir, name)
				if err != nil || n.Path != w.e.Path || n.Offset != w.off {
					t.Fatalf("Lookup %q: %v, %v", w.e.Path, n, err)
				}
			}
			if _, err := a.Lookup(a.Root(), "no such name"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Lookup of a missing name: %v, want fs.ErrNotExist", err)
			}
		})
	}
}

// TestArchiveCorrupt: a damaged goodbye tail or item is a *FormatError,
// never a panic.
func TestArchiveCorrupt(t *testing.T) {
	data, err := os.ReadFile("testdata/tree.catar")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenArchive(bytes.NewReader(data[:len(data)-1]), int64(len(data)-1)); err == nil {
		t.Error("a truncated archive opened")
	}
	for i := 1; i <= 200; i++ {
		bad := bytes.Clone(data)
		bad[len(bad)-i] ^= 0x5a
		a, err := OpenArchive(bytes.NewReader(bad), int64(len(bad)))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("byte -%d: %T %v, want *FormatError", i, err, err)
			}
			continue
		}
		var walk func(*Node) error
		walk = func(n *Node) error {
			kids, err := a.ReadDir(n)
			if err != nil {
				return err
			}
			for _, k := range kids {
				if k.IsDir() {
					if err := walk(k); err != nil {
						return err
					}
				}
			}
			return nil
		}
		if err := walk(a.Root()); err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("byte -%d: %T %v, want *FormatError", i, err, err)
			}
		}
	}
}
