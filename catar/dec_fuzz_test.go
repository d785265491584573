package catar

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds are the vectors, variants of them cut short or with a byte
// flipped in a record header, and the hostile archives.
func fuzzSeeds(f *testing.F) {
	for _, name := range []string{"tree.catar", "tree.unix.catar", "tree.without-all.catar", "odd.catar", "desync.catar"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 4096 {
			// Keep the seeds small: drop big payloads' middles by cutting.
			f.Add(data[:4096])
		} else {
			f.Add(data)
			f.Add(data[:len(data)/2])
			flipped := append([]byte{}, data...)
			flipped[len(flipped)/3] ^= 0x40
			f.Add(flipped)
		}
	}
	for _, h := range hostileArchives() {
		f.Add(h.data)
	}
	f.Add(buildArchive(testFeat, dirNode(fileNode("a", "x"), dirNode(), linkNode("l", "a"))))
}

// FuzzReader decodes arbitrary bytes: it must never panic, and every error
// but io.EOF must be a *FormatError.
func FuzzReader(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		var payload int64
		for {
			e, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("error %v is not a *FormatError", err)
				}
				return
			}
			n, err := io.Copy(io.Discard, r)
			if payload += n; payload > int64(len(data)) || n > e.Size {
				t.Fatalf("%d payload bytes read from a %d-byte stream", payload, len(data))
			}
			if err != nil {
				return
			}
		}
	})
}

// FuzzExtract extracts arbitrary bytes into base/out: nothing may appear
// next to out, whatever the archive holds.
func FuzzExtract(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= 24 && Features(binary.LittleEndian.Uint64(data[16:]))&(WithFlagImmutable|WithFlagAppend) != 0 {
			// chattr +i/+a files would outlive the test's cleanup.
			data = append([]byte{}, data...)
			v := binary.LittleEndian.Uint64(data[16:]) &^ uint64(WithFlagImmutable|WithFlagAppend)
			binary.LittleEndian.PutUint64(data[16:], v)
		}
		base := t.TempDir()
		if err := os.WriteFile(filepath.Join(base, "sentinel"), []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
		Extract(context.Background(), bytes.NewReader(data), filepath.Join(base, "out"), ExtractOptions{Workers: 2})
		checkConfined(t, base)
	})
}
