package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// desyncInfoKeys are the keys of desync info's JSON output.
var desyncInfoKeys = []string{
	"total", "unique", "in-store", "in-seed", "in-cache", "not-in-seed-nor-cache", "size",
	"dedup-size-not-in-seed", "dedup-size-not-in-seed-nor-cache", "dedup-size-not-in-seed-nor-cache-compressed",
	"chunk-size-min", "chunk-size-avg", "chunk-size-max",
}

func TestInfo(t *testing.T) {
	f := newFixture(t)
	part, cache := filepath.Join(f.dir, "part"), filepath.Join(f.dir, "cache")
	sizes := map[string]uint64{}
	for _, c := range f.ix.Chunks {
		sizes[c.ID.String()] = c.Size
	}
	var inPart, inCache []string
	var total, notCached uint64
	for i, id := range f.ids {
		total += sizes[id]
		if i < len(f.ids)/3 {
			inPart = append(inPart, id)
		}
		if i%2 == 0 {
			inCache = append(inCache, id)
		} else {
			notCached += sizes[id]
		}
	}
	copyChunks(t, f.store, part, inPart)
	copyChunks(t, f.store, cache, inCache)

	r := mustRun(t, nil, "info", "-s", part, "-c", cache, f.index)
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("info output %q: %v", r.stdout, err)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// desync's keys, and our two additions.
	wantKeys := append(slices.Clone(desyncInfoKeys), "digest", "feature-flags")
	slices.Sort(wantKeys)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("info keys %v, want %v", keys, wantKeys)
	}
	want := map[string]uint64{
		"total":                            uint64(len(f.ix.Chunks)),
		"unique":                           uint64(len(f.ids)),
		"in-store":                         uint64(len(inPart)),
		"in-seed":                          0,
		"in-cache":                         uint64(len(inCache)),
		"not-in-seed-nor-cache":            uint64(len(f.ids) - len(inCache)),
		"size":                             uint64(len(f.data)),
		"dedup-size-not-in-seed":           total,
		"dedup-size-not-in-seed-nor-cache": notCached,
		"dedup-size-not-in-seed-nor-cache-compressed": 0, // no --chunks-info
		"chunk-size-min": f.ix.Min,
		"chunk-size-avg": f.ix.Avg,
		"chunk-size-max": f.ix.Max,
	}
	for k, v := range want {
		if n, ok := got[k].(float64); !ok || uint64(n) != v {
			t.Errorf("info %s = %v, want %d", k, got[k], v)
		}
	}
	if got["digest"] != "sha512-256" {
		t.Errorf("info digest = %v", got["digest"])
	}

	t.Run("plain", func(t *testing.T) {
		r := mustRun(t, nil, "info", "-s", part, "-c", cache, "-f", "plain", f.index)
		for _, line := range []string{
			fmt.Sprintf("Blob size: %d\n", len(f.data)),
			fmt.Sprintf("Chunks in store: %d\n", len(inPart)),
			fmt.Sprintf("Chunks in cache: %d\n", len(inCache)),
			fmt.Sprintf("Unique chunks: %d\n", len(f.ids)),
			fmt.Sprintf("Size of deduplicated chunks not in seed nor cache: %d\n", notCached),
		} {
			if !strings.Contains(r.stdout, line) {
				t.Errorf("plain output %q lacks %q", r.stdout, line)
			}
		}
	})
	t.Run("chunks-info", func(t *testing.T) {
		infoFile := filepath.Join(f.dir, "chunks.json")
		mustRun(t, nil, "inspect-chunks", "-s", f.store, f.index, infoFile)
		var compressed uint64
		files := storeChunks(t, f.store)
		for i, id := range f.ids {
			if i%2 == 1 {
				compressed += uint64(files[id])
			}
		}
		r := mustRun(t, nil, "info", "-c", cache, "--chunks-info", infoFile, f.index)
		var info indexInfo
		if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
			t.Fatal(err)
		}
		if compressed == 0 || info.SizeNotInSeedNorCacheCompressed != compressed {
			t.Errorf("compressed estimate %d, want %d", info.SizeNotInSeedNorCacheCompressed, compressed)
		}
		// Without compressed sizes (inspect-chunks without -s) there is no estimate.
		plainInfo := filepath.Join(f.dir, "plain.json")
		mustRun(t, nil, "inspect-chunks", f.index, plainInfo)
		r = mustRun(t, nil, "info", "-c", cache, "--chunks-info", plainInfo, f.index)
		if err := json.Unmarshal([]byte(r.stdout), &info); err != nil || info.SizeNotInSeedNorCacheCompressed != 0 {
			t.Errorf("estimate from sizes that are not there: %d (%v)", info.SizeNotInSeedNorCacheCompressed, err)
		}
		// A chunks-info file of another index is refused.
		other := filepath.Join(f.dir, "other.json")
		b := bytes.Replace(mustRead(t, infoFile), []byte(fmt.Sprintf(`"uncompressed_size": %d`, f.ix.Chunks[1].Size)), []byte(`"uncompressed_size": 1`), 1)
		writeFile(t, other, b)
		expect(t, 1, nil, []string{other, f.ix.Chunks[1].ID.String()}, "info", "--chunks-info", other, f.index)
		expect(t, 1, nil, []string{"nope.json"}, "info", "--chunks-info", filepath.Join(f.dir, "nope.json"), f.index)
	})
	t.Run("bad format", func(t *testing.T) {
		expect(t, 2, nil, []string{"xml"}, "info", "-f", "xml", f.index)
	})
	t.Run("broken store", func(t *testing.T) {
		broken := filepath.Join(f.dir, "broken")
		copyChunks(t, f.store, broken, f.ids)
		breakStore(t, broken)
		expect(t, 1, nil, []string{broken}, "info", "-s", broken, f.index)
	})
}
