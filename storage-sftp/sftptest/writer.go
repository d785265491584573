package sftptest

import (
	"bytes"
	"sync"
)

// lockedWriter appends to a buffer under a lock (sshd writes its log while
// a test may read it).
type lockedWriter struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
