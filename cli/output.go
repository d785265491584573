package cli

import (
	"io"
	"os"
	"path/filepath"
)

// writeFileAtomic writes a file with permissions mode through write into a
// temporary file next to path and renames it over path only when write and
// the sync succeed; on failure path is left as it was and the temporary file
// is removed.
func writeFileAtomic(path string, mode os.FileMode, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close() // unless the Close below ran; a second one only returns an error
			os.Remove(f.Name())
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Chmod(mode); err != nil {
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
