package assemble

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/folbricht/desync/storage"
)

// checkReplaceable fails unless path is a regular file or does not exist.
func checkReplaceable(path string) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("output %s is not a regular file (use in-place extraction for devices)", path)
	}
	return nil
}

// replaceFile is storage.WriteFileAtomic for an output: synced unless
// o.NoSync, and an existing file keeps its permissions (a new one gets 0644).
func replaceFile(path string, o ExtractOptions, fill func(f *os.File) error) error {
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return storage.WriteFileAtomic(path, 0o600, o.sync(), func(f *os.File) error {
		if err := fill(f); err != nil {
			return err
		}
		if !o.NoSync {
			o.Progress.Phase("Syncing", 0)
		}
		return f.Chmod(mode)
	})
}
