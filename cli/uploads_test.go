package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMakeRemoteUploads: make and chop into a remote store write through
// the upload queue. Into a writable chunk server every chunk arrives and
// make's stats count them; into a read-only one (every PUT refused) the
// command fails, naming the store and the upload, and writes no index.
func TestMakeRemoteUploads(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	data := genRandom(t, 6<<20, 41)
	input := writeFile(t, filepath.Join(dir, "input.bin"), data)

	t.Run("Writable", func(t *testing.T) {
		backing := filepath.Join(t.TempDir(), "store")
		url := startServer(t, "chunk-server", "-w", "-s", backing)
		index := filepath.Join(t.TempDir(), "input.caibx")
		r := mustRun(t, nil, "make", "-n", "2", "--print-stats", "-s", url, index, input)
		ids := uniqueIDs(readIndex(t, index))
		assertSameIDs(t, "the chunk server's store", storeChunks(t, backing), ids)
		var stats struct {
			Stored  int `json:"stored-chunks"`
			InStore int `json:"chunks-in-store"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &stats); err != nil {
			t.Fatalf("stats %q: %v", r.stdout, err)
		}
		if stats.Stored != len(ids) || stats.InStore != 0 {
			t.Errorf("first make: stored %d, in store %d; want %d, 0", stats.Stored, stats.InStore, len(ids))
		}
		r = mustRun(t, nil, "make", "--print-stats", "-s", url, index, input)
		if err := json.Unmarshal([]byte(r.stdout), &stats); err != nil {
			t.Fatalf("stats %q: %v", r.stdout, err)
		}
		if stats.Stored != 0 || stats.InStore != len(ids) {
			t.Errorf("second make: stored %d, in store %d; want 0, %d", stats.Stored, stats.InStore, len(ids))
		}
		extractOK(t, data, index, "-s", url)
	})

	readOnly := startServer(t, "chunk-server", "-s", t.TempDir())
	local := t.TempDir()
	mustRun(t, nil, "make", filepath.Join(local, "ix.caibx"), input) // chop's index
	for _, tc := range []struct {
		name  string
		args  func(index string) []string
		index bool // the command writes an index, which must not appear
	}{
		{"Make", func(index string) []string { return []string{"make", "-s", readOnly, index, input} }, true},
		{"MakeOneWorker", func(index string) []string { return []string{"make", "-n", "1", "-s", readOnly, index, input} }, true},
		{"Chop", func(string) []string {
			return []string{"chop", "-s", readOnly, filepath.Join(local, "ix.caibx"), input}
		}, false},
	} {
		t.Run("ReadOnly"+tc.name, func(t *testing.T) {
			index := filepath.Join(t.TempDir(), "out.caibx")
			r := runWithin(t, 30*time.Second, tc.args(index)...)
			if r.code == 0 {
				t.Fatalf("%v: exit 0 with every upload refused", tc.args(index))
			}
			for _, want := range []string{"upload failed", readOnly, "writing chunk", "405"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr %q does not mention %q", r.stderr, want)
				}
			}
			if _, err := os.Stat(index); tc.index && !os.IsNotExist(err) {
				t.Errorf("the index %s exists after a failed upload (%v)", index, err)
			}
		})
	}
}
