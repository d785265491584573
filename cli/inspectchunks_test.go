package cli

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

func TestInspectChunks(t *testing.T) {
	f := newFixture(t)
	files := storeChunks(t, f.store)
	for _, withStore := range []bool{true, false} {
		args := []string{"inspect-chunks", f.index}
		if withStore {
			args = []string{"inspect-chunks", "-s", f.store, f.index}
		}
		r := mustRun(t, nil, args...)
		var list []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
			t.Fatalf("%v: %q: %v", args, r.stdout, err)
		}
		if len(list) != len(f.ix.Chunks) {
			t.Fatalf("%v: %d entries, want %d", args, len(list), len(f.ix.Chunks))
		}
		for i, e := range list {
			c := f.ix.Chunks[i]
			if e["id"] != c.ID.String() || e["uncompressed_size"] != float64(c.Size) {
				t.Errorf("%v: entry %d = %v, want %s %d", args, i, e, c.ID, c.Size)
			}
			cs, has := e["compressed_size"]
			switch {
			case withStore && cs != float64(files[c.ID.String()]):
				t.Errorf("%v: entry %d compressed_size %v, chunk file has %d bytes", args, i, cs, files[c.ID.String()])
			case !withStore && has:
				t.Errorf("%v: entry %d has a compressed_size without a store", args, i)
			}
		}
	}
	// To a file, and a chunk missing from the store has no compressed size.
	s := filepath.Join(f.dir, "partial")
	copyChunks(t, f.store, s, f.ids[1:])
	out := filepath.Join(f.dir, "chunks.json")
	mustRun(t, nil, "inspect-chunks", "-s", s, f.index, out)
	var list []chunkInfo
	if err := json.Unmarshal(mustRead(t, out), &list); err != nil {
		t.Fatal(err)
	}
	if list[0].CompressedSize != 0 || list[1].CompressedSize != files[f.ids[1]] {
		t.Errorf("compressed sizes %d %d", list[0].CompressedSize, list[1].CompressedSize)
	}
	expect(t, 2, nil, nil, "inspect-chunks", "-s", s, "-s", f.store, f.index)
}
