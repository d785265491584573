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
	// The writer reports over written; the test goroutine alone fails the test.
	data := mustRead(t, idx)
	written := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			written <- err
			return
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		written <- err
	}()
	out := filepath.Join(dir, "out")
	r := run(t, nil, "extract", "-s", store, fifo, out)
	// Should extract not have opened the pipe, this open lets the writer's
	// open return, so that it finishes (with a broken pipe).
	if f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
		f.Close()
	}
	if err := <-written; err != nil {
		t.Errorf("writing the index into the pipe: %v", err)
	}
	if r.code != 0 || !bytes.Equal(mustRead(t, out), mustRead(t, "testdata/blob1.bin")) {
		t.Fatalf("extract from a pipe: %d %s", r.code, r.stderr)
	}
}
