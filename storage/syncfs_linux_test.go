package storage

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// TestRenameNoReplace: an existing chunk file is never replaced, with
// RENAME_NOREPLACE and in the look-then-rename fallback of file systems
// without it.
func TestRenameNoReplace(t *testing.T) {
	for _, fallback := range []bool{false, true} {
		var unsupported atomic.Bool
		unsupported.Store(fallback)
		dir := t.TempDir()
		path, tmp := filepath.Join(dir, "c"), filepath.Join(dir, ".c.1.tmp")
		if err := os.WriteFile(tmp, []byte("first"), 0o444); err != nil {
			t.Fatal(err)
		}
		if err := renameNoReplace(tmp, path, &unsupported); err != nil {
			t.Fatalf("fallback %v: %v", fallback, err)
		}
		if err := os.WriteFile(tmp, []byte("second"), 0o444); err != nil {
			t.Fatal(err)
		}
		if err := renameNoReplace(tmp, path, &unsupported); err != nil {
			t.Fatalf("fallback %v, name taken: %v", fallback, err)
		}
		if b, _ := os.ReadFile(path); string(b) != "first" {
			t.Errorf("fallback %v: the file holds %q, want the first", fallback, b)
		}
		if _, err := os.Stat(tmp); !os.IsNotExist(err) {
			t.Errorf("fallback %v: the temporary file is left: %v", fallback, err)
		}
	}
}
