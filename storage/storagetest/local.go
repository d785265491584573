package storagetest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// CorruptLocal replaces the file of chunk id in l with stored, for a
// [Harness] Corrupt function. The chunk may be pending (in a temporary
// file), so l is flushed first, and chunk files are read-only, so the file
// is removed rather than overwritten.
func CorruptLocal(t *testing.T, l *storage.Local, id chunk.ID, stored []byte) {
	t.Helper()
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
