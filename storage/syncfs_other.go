//go:build !linux

package storage

import (
	"os"
	"sync/atomic"
)

// batchedSync is false where there is no syncfs: each chunk file is synced
// before it is renamed into place.
const batchedSync = false

func syncFS(string) error { return nil }

// renameNoReplace is not used without batched syncing.
func renameNoReplace(tmp, path string, _ *atomic.Bool) error { return os.Rename(tmp, path) }
