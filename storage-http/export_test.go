package httpstore

// SetMaxIndex lowers the largest index s reads.
func (s *IndexStore) SetMaxIndex(n int64) { s.max = n }

// MaxBody is the largest upload cs reads.
func (cs *ChunkServer) MaxBody() int64 { return cs.maxBody }

// MaxStoredSize is maxStoredSize, for tests.
var MaxStoredSize = maxStoredSize
