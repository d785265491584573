package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestExtractIndexDashIsStdin: "-" as the index is stdin, even with a file
// named "-" in the working directory.
func TestExtractIndexDashIsStdin(t *testing.T) {
	dir := t.TempDir()
	input, _ := filepath.Abs("testdata/text.bin")
	store, idx, out := filepath.Join(dir, "store"), filepath.Join(dir, "x.caibx"), filepath.Join(dir, "out")
	mustRun(t, nil, "make", "-s", store, idx, input)
	t.Chdir(dir)
	os.WriteFile("-", []byte("not an index"), 0o644)
	if r := run(t, mustRead(t, idx), "extract", "-s", store, "-", out); r.code != 0 || !bytes.Equal(mustRead(t, out), mustRead(t, input)) {
		t.Fatalf("extract with the index from stdin: %d %s", r.code, r.stderr)
	}
}
