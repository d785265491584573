package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPrune(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	base := genRandom(t, 2<<20, 1)
	data1 := base
	data2 := append(slices.Clone(base[:1<<20]), genRandom(t, 1<<20, 2)...)
	in1 := writeFile(t, filepath.Join(dir, "in1"), data1)
	in2 := writeFile(t, filepath.Join(dir, "in2"), data2)
	idx1, idx2 := filepath.Join(dir, "1.caibx"), filepath.Join(dir, "2.caibx")
	mustRun(t, nil, "make", idx1, in1)
	mustRun(t, nil, "make", idx2, in2)
	ids1, ids2 := uniqueIDs(readIndex(t, idx1)), uniqueIDs(readIndex(t, idx2))
	both := append(slices.Clone(ids1), ids2...)
	shared := 0
	for _, id := range ids2 {
		if slices.Contains(ids1, id) {
			shared++
		}
	}
	if shared == 0 || shared == len(ids2) {
		t.Fatalf("bad test data: %d of %d chunks shared", shared, len(ids2))
	}
	n := 0
	newStore := func(t *testing.T) string {
		n++
		s := filepath.Join(dir, fmt.Sprintf("s%d", n))
		mustRun(t, nil, "chop", "-s", s, idx1, in1)
		mustRun(t, nil, "chop", "-s", s, idx2, in2)
		assertSameIDs(t, "new store", storeChunks(t, s), both)
		return s
	}

	for _, yes := range []string{"-y", "--yes"} {
		t.Run(yes, func(t *testing.T) {
			s := newStore(t)
			before := dirSize(t, s)
			r := mustRun(t, nil, "prune", "-s", s, yes, idx1)
			assertSameIDs(t, "pruned store", storeChunks(t, s), ids1)
			// It says what it did: counts, and the bytes the deleted
			// chunk files held.
			freed := humanBytes(before - dirSize(t, s))
			want := fmt.Sprintf("%d chunks kept, %d deleted, %s freed\n", len(ids1), len(ids2)-shared, freed)
			if r.stderr != want {
				t.Errorf("prune said %q, want %q", r.stderr, want)
			}
			extractOK(t, data1, idx1, "-s", s)
		})
	}
	t.Run("not confirmed", func(t *testing.T) {
		s := newStore(t)
		for _, answer := range []string{"n\n", "", "yes please\n"} {
			expect(t, 1, []byte(answer), []string{"not confirmed"}, "prune", "-s", s, idx1)
			assertSameIDs(t, "store", storeChunks(t, s), both)
		}
	})
	t.Run("confirmed", func(t *testing.T) {
		s := newStore(t)
		r := mustRun(t, []byte("y\n"), "prune", "-s", s, idx1)
		if !strings.Contains(r.stderr, fmt.Sprintf("%d distinct chunks", len(ids1))) || !strings.Contains(r.stderr, s) {
			t.Errorf("prompt %q", r.stderr)
		}
		assertSameIDs(t, "pruned store", storeChunks(t, s), ids1)
	})
	t.Run("keep-chunks", func(t *testing.T) {
		s := newStore(t)
		keep := writeFile(t, filepath.Join(dir, "keep.txt"), []byte(mustRun(t, nil, "list-chunks", idx2).stdout))
		mustRun(t, nil, "prune", "-s", s, "-y", "--keep-chunks", keep)
		assertSameIDs(t, "pruned store", storeChunks(t, s), ids2)
		extractOK(t, data2, idx2, "-s", s)
		// With an index as well, both are kept.
		s = newStore(t)
		mustRun(t, nil, "prune", "-s", s, "-y", "--keep-chunks", keep, idx1)
		assertSameIDs(t, "pruned store", storeChunks(t, s), both)
	})
	t.Run("nothing to keep", func(t *testing.T) {
		s := newStore(t)
		expect(t, 2, nil, []string{"no index"}, "prune", "-s", s, "-y")
		assertSameIDs(t, "store", storeChunks(t, s), both)
	})
	t.Run("missing index", func(t *testing.T) {
		s := newStore(t)
		expect(t, 1, nil, []string{"nope.caibx"}, "prune", "-s", s, "-y", filepath.Join(dir, "nope.caibx"))
		assertSameIDs(t, "store", storeChunks(t, s), both)
	})
	t.Run("stale temporary files", func(t *testing.T) {
		s := newStore(t)
		sub := filepath.Join(s, ids1[0][:4])
		old := writeFile(t, filepath.Join(sub, "."+ids1[0]+".123.tmp"), []byte("old"))
		fresh := writeFile(t, filepath.Join(sub, "."+ids1[0]+".456.tmp"), []byte("fresh"))
		then := time.Now().Add(-2 * time.Hour)
		if err := os.Chtimes(old, then, then); err != nil {
			t.Fatal(err)
		}
		mustRun(t, nil, "prune", "-s", s, "-y", idx1, idx2)
		if _, err := os.Stat(old); !os.IsNotExist(err) {
			t.Error("a temporary file two hours old was not pruned")
		}
		if _, err := os.Stat(fresh); err != nil {
			t.Errorf("a fresh temporary file was pruned: %v", err)
		}
		assertSameIDs(t, "store", storeChunks(t, s), both)
	})
}
