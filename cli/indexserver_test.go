package cli

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestHTTPIndexServer: an index uploaded to a writable index-server (by PUT,
// and by make with an index URL) is read back by URL; a read-only index
// server refuses uploads.
func TestHTTPIndexServer(t *testing.T) {
	f := newFixture(t)
	ixDir := filepath.Join(f.dir, "indexes")
	os.Mkdir(ixDir, 0o755)
	u := startServer(t, "index-server", "-w", "-s", ixDir)
	cu := startServer(t, "chunk-server", "-s", f.store)
	req, _ := http.NewRequest(http.MethodPut, u+"blob1.caibx", bytes.NewReader(mustRead(t, f.index)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT index: %v %v", resp, err)
	}
	resp.Body.Close()
	extractOK(t, f.data, u+"blob1.caibx", "-s", cu)
	// extract streams a remote index from a temporary copy: a truncated
	// one fails, naming it, and leaves the output and no temporary file.
	full := mustRead(t, f.index)
	writeFile(t, filepath.Join(ixDir, "cut.caibx"), full[:len(full)-100])
	extractFails(t, []string{"cut.caibx", "truncated chunk table"}, u+"cut.caibx", "-s", cu)
	extractFails(t, []string{"404"}, u+"gone.caibx", "-s", cu)
	// make writes its index straight to the index server, too.
	mustRun(t, nil, "make", u+"made.caibx", f.input)
	if !bytes.Equal(mustRead(t, filepath.Join(ixDir, "made.caibx")), mustRead(t, f.index)) {
		t.Error("the index made into the index server differs")
	}
	r := expect(t, 1, nil, []string{"404"}, "list-chunks", u+"nothere.caibx")
	_ = r
	// Only index files: another file of the directory is not served.
	writeFile(t, filepath.Join(ixDir, "notes.txt"), []byte("private"))
	if code, _ := httpGet(t, u+"notes.txt"); code != 400 {
		t.Errorf("GET of a file that is not an index: %d, want 400", code)
	}
	resp, err = http.Get(u + "..%2Fblob1.caibx")
	if err != nil || resp.StatusCode != 400 {
		t.Errorf("GET of an encoded traversal: %v %v, want 400", resp, err)
	}
	resp.Body.Close()
	ro := startServer(t, "index-server", "-s", ixDir)
	req, _ = http.NewRequest(http.MethodPut, ro+"other.caibx", bytes.NewReader(mustRead(t, f.index)))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 {
		t.Errorf("PUT to a read-only index server: %v %v, want 405", resp, err)
	}
}
