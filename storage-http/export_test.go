package httpstore

// SetMaxIndex lowers the largest index s reads.
func (s *IndexStore) SetMaxIndex(n int64) { s.max = n }
