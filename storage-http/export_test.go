package httpstore

import "github.com/folbricht/desync/storage"

// SetMaxIndex lowers the largest index s reads.
func (s *IndexStore) SetMaxIndex(n int64) { s.ObjectIndexStore = storage.NewObjectIndexStore(s.d, n) }
