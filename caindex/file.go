package caindex

import (
	"os"
	"path/filepath"
)

// WriteFile writes ix to path atomically: into a temporary file in the same
// directory, synced, then renamed over path. A failure leaves path as it was
// and no temporary file behind.
func (ix *Index) WriteFile(path string) (err error) {
	if err := ix.Validate(); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = ix.WriteTo(f); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
