package storage_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

// TestLocalConformance runs the chunk store conformance suite on Local in
// its four configurations.
func TestLocalConformance(t *testing.T) {
	zstd, err := chunk.NewZstd(chunk.ZstdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    storage.LocalOptions
		conv chunk.Converter
	}{
		{"Zstd", storage.LocalOptions{Converter: zstd}, zstd},
		{"Uncompressed", storage.LocalOptions{Uncompressed: true}, chunk.Uncompressed{}},
		{"SHA256", storage.LocalOptions{Digest: chunk.SHA256, Converter: zstd}, zstd},
		{"SkipVerify", storage.LocalOptions{SkipVerify: true, Converter: zstd}, zstd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Run(t, storagetest.Harness{
				New: func(t *testing.T) chunk.Store {
					// The directory does not exist yet: Local creates it
					// on the first write.
					s, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"), tc.o)
					if err != nil {
						t.Fatal(err)
					}
					return s
				},
				Digest:     tc.o.Digest,
				SkipVerify: tc.o.SkipVerify,
				Converter:  tc.conv,
				Corrupt:    corruptLocal,
				Check:      checkNoTemp,
			})
		})
	}
}

// corruptLocal replaces the file of chunk id with stored. The chunk may be
// pending (in a temporary file), so the store is flushed first, and its file
// is read-only, so it is removed rather than overwritten.
func corruptLocal(t *testing.T, s chunk.Store, id chunk.ID, stored []byte) {
	t.Helper()
	l := s.(*storage.Local)
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := l.Path(id)
	if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, stored, 0o444); err != nil {
		t.Fatal(err)
	}
}

// checkNoTemp checks that a closed store holds no temporary files.
func checkNoTemp(t *testing.T, s chunk.Store) {
	t.Helper()
	var leaked []string
	filepath.WalkDir(s.String(), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".tmp") {
			leaked = append(leaked, p)
		}
		return nil
	})
	if len(leaked) == 0 {
		return
	}
	t.Errorf("%d temporary files left in store, want none: %s", len(leaked), strings.Join(leaked, ", "))
}
