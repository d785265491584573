package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestCacheCommand(t *testing.T) {
	f := newFixture(t)
	text := filepath.Join(f.dir, "text.caibx")
	mustRun(t, nil, "make", "-s", f.store, text, "testdata/text.bin")
	textIDs := uniqueIDs(readIndex(t, text))

	t.Run("fills the cache", func(t *testing.T) {
		c := filepath.Join(f.dir, "c1")
		r := mustRun(t, nil, "cache", "-s", f.store, "-c", c, "--print-stats", f.index, text)
		assertSameIDs(t, "cache", storeChunks(t, c), append(slices.Clone(f.ids), textIDs...))
		assertNoTemp(t, c)
		var stats map[string]int
		if err := json.Unmarshal([]byte(r.stdout), &stats); err != nil || stats["chunks-total"] != len(f.ids)+len(textIDs) {
			t.Errorf("stats %q: %v", r.stdout, err)
		}
		nowhere := filepath.Join(f.dir, "nowhere") // an empty store: every chunk comes from the cache
		os.Mkdir(nowhere, 0o755)
		extractOK(t, f.data, f.index, "-s", nowhere, "-c", c)
	})
	t.Run("ignore", func(t *testing.T) {
		c := filepath.Join(f.dir, "c2")
		mustRun(t, nil, "cache", "-s", f.store, "-c", c, "--ignore", text, f.index, text)
		assertSameIDs(t, "cache", storeChunks(t, c), f.ids)
	})
	t.Run("no cache", func(t *testing.T) {
		expect(t, 2, nil, []string{"-c"}, "cache", "-s", f.store, f.index)
	})
	t.Run("no store", func(t *testing.T) {
		expect(t, 2, nil, []string{"no store"}, "cache", "-c", filepath.Join(f.dir, "c3"), f.index)
	})
	t.Run("missing chunk", func(t *testing.T) {
		s := filepath.Join(f.dir, "partial")
		copyChunks(t, f.store, s, f.ids[1:])
		c := filepath.Join(f.dir, "c4")
		expect(t, 1, nil, []string{f.ids[0], "missing", s, c}, "cache", "-s", s, "-c", c, f.index)
		if _, ok := storeChunks(t, c)[f.ids[0]]; ok {
			t.Error("the missing chunk is in the cache")
		}
		assertNoTemp(t, c)
	})
}
