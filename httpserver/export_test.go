package httpserver

// MaxBody is the largest upload cs reads.
func (cs *ChunkServer) MaxBody() int64 { return cs.maxBody }
