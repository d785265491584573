package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/folbricht/desync/storage"
)

// TestMisplaced: chunk files outside the directory of their first 4 hex
// digits are listed, and only they can be removed by name.
func TestMisplaced(t *testing.T) {
	ctx := context.Background()
	cs := testChunks(3)
	l := newLocal(t, cs...)
	dir := l.String()
	move := func(c int, to string) string {
		from := l.Path(cs[c].ID())
		name := filepath.Base(from)
		if to != "" {
			if err := os.MkdirAll(filepath.Join(dir, to), 0o755); err != nil {
				t.Fatal(err)
			}
			name = to + "/" + name
		}
		if err := os.Rename(from, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		return name
	}
	wrongDir := "abcd"
	if cs[0].ID().String()[:4] == wrongDir {
		wrongDir = "abce"
	}
	want := []string{move(0, wrongDir), move(1, "")}
	// Not chunk files: left alone.
	os.WriteFile(filepath.Join(dir, wrongDir, "notes.txt"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "."+filepath.Base(l.Path(cs[2].ID()))+".x.tmp"), nil, 0o644)

	var got []string
	for name, err := range l.ListMisplaced(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("ListMisplaced = %q, want %q", got, want)
	}
	var ids int
	for _, err := range l.ListChunks(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		ids++
	}
	if ids != 1 {
		t.Errorf("ListChunks: %d chunks, want the 1 in place", ids)
	}

	// Only a misplaced chunk file can be removed this way.
	h := cs[2].ID().String()
	for _, name := range []string{h[:4] + "/" + filepath.Base(l.Path(cs[2].ID())), wrongDir + "/notes.txt", "../" + want[0], wrongDir + "/../" + want[1]} {
		if err := l.RemoveMisplaced(ctx, name); err == nil {
			t.Errorf("RemoveMisplaced(%q) succeeded", name)
		}
	}
	if ok, _ := l.HasChunk(ctx, cs[2].ID()); !ok {
		t.Error("the chunk in place was removed")
	}
	for _, name := range want {
		if err := l.RemoveMisplaced(ctx, name); err != nil {
			t.Errorf("RemoveMisplaced(%q): %v", name, err)
		}
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", name, err)
		}
	}
	for name, err := range l.ListMisplaced(ctx) {
		t.Errorf("after removal: %q, %v", name, err)
	}
	var _ storage.MisplacedLister = l
}
