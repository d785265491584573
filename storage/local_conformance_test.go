package storage_test

import (
	"io/fs"
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

// corruptLocal is storagetest.CorruptLocal for a Harness over a Local.
func corruptLocal(t *testing.T, s chunk.Store, id chunk.ID, stored []byte) {
	storagetest.CorruptLocal(t, s.(*storage.Local), id, stored)
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

// TestLocalIndexConformance runs the index store suite on LocalIndex,
// alone and behind an IndexRetry.
func TestLocalIndexConformance(t *testing.T) {
	storagetest.RunIndex(t, storagetest.IndexHarness{
		New: func(t *testing.T) storage.IndexStore { return storage.NewLocalIndex(t.TempDir()) },
	})
	t.Run("Retry", func(t *testing.T) {
		storagetest.RunIndex(t, storagetest.IndexHarness{
			New: func(t *testing.T) storage.IndexStore {
				return storage.WrapIndexRetry(storage.NewLocalIndex(t.TempDir()), storage.RetryOptions{Attempts: 3})
			},
		})
	})
}

func BenchmarkLocal(b *testing.B) {
	storagetest.RunBenchmarks(b, storagetest.BenchHarness{
		New: func(b *testing.B) chunk.Store {
			s, err := storage.NewLocal(filepath.Join(b.TempDir(), "store"), storage.LocalOptions{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
	})
}
