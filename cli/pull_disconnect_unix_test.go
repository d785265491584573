//go:build unix

package cli

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage/casyncproto"
)

// TestPullClientGone: a client that goes away while desync pull is
// answering (its stdout pipe closed, as when ssh drops) makes pull end
// quietly with status 0, as when the client closes the connection: not
// killed by SIGPIPE, nothing on stderr.
func TestPullClientGone(t *testing.T) {
	isolate(t)
	bin := desyncBinary(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	index := filepath.Join(dir, "x.caibx")
	mustRun(t, nil, "make", "-s", store, index, writeFile(t, filepath.Join(dir, "in"), genRandom(t, 4<<20, 49)))
	var ids []chunk.ID
	for _, c := range readIndex(t, index).Chunks {
		ids = append(ids, c.ID)
	}

	cmd := exec.Command(bin, "pull", "-", "-", "-", store)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Read the server's HELLO, then hang up its output before it answers.
	if _, err := casyncproto.NewReader(stdout).ReadMessage(); err != nil {
		t.Fatal(err)
	}
	stdout.Close()
	w := casyncproto.NewWriter(stdin)
	w.Hello(casyncproto.PullChunks)
	w.Request(0, ids)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// The input stays open: pull must notice the gone client by its
	// failing writes, not by an end of input.
	err = cmd.Wait()
	stdin.Close()
	if err != nil {
		t.Errorf("pull with the client gone: %v (%v), want status 0", err, cmd.ProcessState)
	}
	if stderr.Len() > 0 {
		t.Errorf("pull with the client gone wrote to stderr: %s", stderr.String())
	}
}
