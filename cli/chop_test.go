package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestChop(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	data := genRandom(t, 3<<20, 1)
	input := writeFile(t, filepath.Join(dir, "input"), data)
	prefix := writeFile(t, filepath.Join(dir, "prefix"), data[:3<<19])
	idx, other := filepath.Join(dir, "input.caibx"), filepath.Join(dir, "prefix.caibx")

	// make without -s writes only the index.
	mustRun(t, nil, "make", idx, input)
	mustRun(t, nil, "make", other, prefix)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Fatalf("make without a store wrote more than its index: %v", entries)
	}
	ix, ox := readIndex(t, idx), readIndex(t, other)
	ids := uniqueIDs(ix)
	inOther := map[string]bool{}
	for _, id := range uniqueIDs(ox) {
		inOther[id] = true
	}
	var notInOther []string
	for _, id := range ids {
		if !inOther[id] {
			notInOther = append(notInOther, id)
		}
	}
	if len(notInOther) == 0 || len(notInOther) == len(ids) {
		t.Fatalf("bad test data: %d of %d chunks shared", len(ids)-len(notInOther), len(ids))
	}

	t.Run("chop then extract", func(t *testing.T) {
		s := filepath.Join(dir, "s1")
		mustRun(t, nil, "chop", "-s", s, idx, input)
		assertSameIDs(t, "store", storeChunks(t, s), ids)
		extractOK(t, data, idx, "-s", s)
		assertNoTemp(t, s)
		// Again: nothing to store, still exit 0.
		mustRun(t, nil, "chop", "-s", s, idx, input)
	})
	t.Run("ignore index", func(t *testing.T) {
		s := filepath.Join(dir, "s2")
		mustRun(t, nil, "chop", "-s", s, "--ignore", other, idx, input)
		assertSameIDs(t, "store", storeChunks(t, s), notInOther)
	})
	t.Run("ignore chunk list", func(t *testing.T) {
		s := filepath.Join(dir, "s3")
		r := mustRun(t, nil, "list-chunks", idx)
		listed := strings.Fields(r.stdout)
		skip := listed[:3]
		list := writeFile(t, filepath.Join(dir, "list.txt"), []byte("# skipped\n\n"+strings.Join(skip, "\n")+"\n"))
		mustRun(t, nil, "chop", "-s", s, "--ignore-chunks", list, idx, input)
		var want []string
		for _, id := range ids {
			if !slices.Contains(skip, id) {
				want = append(want, id)
			}
		}
		assertSameIDs(t, "store", storeChunks(t, s), want)
	})
	t.Run("bad chunk list", func(t *testing.T) {
		list := writeFile(t, filepath.Join(dir, "bad.txt"), []byte(ids[0]+"\nnot-an-id\n"))
		s := filepath.Join(dir, "s4")
		expect(t, 1, nil, []string{list + ":2"}, "chop", "-s", s, "--ignore-chunks", list, idx, input)
		if n := len(storeChunks(t, s)); n != 0 {
			t.Errorf("%d chunks stored despite the bad list", n)
		}
	})
	t.Run("modified file", func(t *testing.T) {
		k := len(ix.Chunks) / 2
		c := ix.Chunks[k]
		bad := slices.Clone(data)
		bad[c.Start+c.Size/2] ^= 0xff
		badInput := writeFile(t, filepath.Join(dir, "modified"), bad)
		s := filepath.Join(dir, "s5")
		expect(t, 1, nil, []string{badInput, fmt.Sprintf("offset %d", c.Start), c.ID.String(), "does not match"},
			"chop", "-s", s, "-n", "1", idx, badInput)
		got := storeChunks(t, s)
		if _, ok := got[c.ID.String()]; ok {
			t.Error("the damaged chunk was stored")
		}
		for _, later := range ix.Chunks[k+1:] {
			if _, ok := got[later.ID.String()]; ok {
				t.Errorf("chunk %s after the damage was stored with -n 1", later.ID)
			}
		}
		assertNoTemp(t, s)
		if len(got) > 0 {
			mustRun(t, nil, "verify", "-s", s) // what was stored is sound
		}
	})
	t.Run("file too short", func(t *testing.T) {
		short := writeFile(t, filepath.Join(dir, "short"), data[:len(data)-100])
		s := filepath.Join(dir, "s6")
		expect(t, 1, nil, []string{short}, "chop", "-s", s, idx, short)
		assertNoTemp(t, s)
	})
	t.Run("usage", func(t *testing.T) {
		expect(t, 2, nil, []string{"no store"}, "chop", idx, input)
		expect(t, 2, nil, []string{"2 stores"}, "chop", "-s", "a", "-s", "b", idx, input)
	})
}
