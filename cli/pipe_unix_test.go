//go:build unix

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestExtractIndexFromPipe extracts with the index given as a named pipe,
// which is read whole (not streamed): the output is right.
func TestExtractIndexFromPipe(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	idx := filepath.Join(dir, "x.caibx")
	mustRun(t, nil, "make", "-s", store, idx, "testdata/blob1.bin")
	fifo := filepath.Join(dir, "pipe.caibx")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes: %v", err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			f.Write(mustRead(t, idx))
			f.Close()
		}
	}()
	out := filepath.Join(dir, "out")
	if r := run(t, nil, "extract", "-s", store, fifo, out); r.code != 0 || !bytes.Equal(mustRead(t, out), mustRead(t, "testdata/blob1.bin")) {
		t.Fatalf("extract from a pipe: %d %s", r.code, r.stderr)
	}
}
