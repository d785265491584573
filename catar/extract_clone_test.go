package catar

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExtractCloneFallback: where the file system cannot clone (the test's
// temporary directory), a file CloneFrom names is written from the payload
// instead, CloneFrom is not asked again, and nothing is counted as cloned.
func TestExtractCloneFallback(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 8<<10) // 128 KiB, above cloneMin
	arch := buildArchive(DefaultArchive, dirNode(fileNode("a", big), fileNode("b", big), fileNode("small", "x")))
	src := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(src, []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	var asked []string
	out := filepath.Join(t.TempDir(), "out")
	stats, err := Extract(context.Background(), bytes.NewReader(arch), out, ExtractOptions{
		CloneFrom: func(e *Entry, off int64) string {
			if off <= 0 || off >= int64(len(arch)) {
				t.Errorf("payload offset %d of %s outside the archive", off, e.Path)
			}
			asked = append(asked, e.Path)
			return src
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if got, _ := os.ReadFile(filepath.Join(out, name)); string(got) != big {
			t.Fatalf("%s differs", name)
		}
	}
	if stats.Cloned != 0 {
		t.Skipf("the temporary directory clones (%d bytes cloned): no fallback to see", stats.Cloned)
	}
	if len(asked) != 1 || asked[0] != "a" {
		t.Errorf("CloneFrom asked about %q, want only a (then never again)", asked)
	}
}
