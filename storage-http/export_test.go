package httpstore

import "github.com/folbricht/desync/storage"

// SetMaxIndex lowers the largest index s reads.
func (s *IndexStore) SetMaxIndex(n int64) { s.ObjectIndexStore = storage.NewObjectIndexStore(s.d, n) }

// MaxBody is the largest upload cs reads.
func (cs *ChunkServer) MaxBody() int64 { return cs.maxBody }

// MaxStoredSize is storage.MaxStoredSize, for tests.
var MaxStoredSize = storage.MaxStoredSize
