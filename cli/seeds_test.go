package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestExtractWithSeeds(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	old := filepath.Join(dir, "old.bin")
	oldIndex := old + ".caibx"
	newIndex := filepath.Join(dir, "new.caibx")
	full, delta := filepath.Join(dir, "full"), filepath.Join(dir, "delta")
	oldData := genRandom(t, 3<<20, 1)
	newData := bytes.Join([][]byte{oldData[:1<<20], genRandom(t, 70000, 2), oldData[1<<20:]}, nil)
	writeFile(t, old, oldData)
	newPath := writeFile(t, filepath.Join(dir, "new.bin"), newData)
	mustRun(t, nil, "make", "-m", "4:16:64", oldIndex, old)
	mustRun(t, nil, "make", "-m", "4:16:64", "-s", full, newIndex, newPath)
	// The delta store holds only what the old version lacks: an extract
	// that needs any other chunk fails.
	mustRun(t, nil, "chop", "-s", delta, "--ignore", oldIndex, newIndex, newPath)

	seedDir := filepath.Join(dir, "seeds")
	os.Mkdir(seedDir, 0o755)
	writeFile(t, filepath.Join(seedDir, "v1.bin"), oldData)
	writeFile(t, filepath.Join(seedDir, "v1.bin.caibx"), mustRead(t, oldIndex))

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"index seed", []string{"--seed", oldIndex}},
		{"plain file seed", []string{"--seed", old}},
		{"seed dir", []string{"--seed-dir", seedDir}},
		{"two seeds", []string{"--seed", old, "--seed", oldIndex}},
		{"no reflink", []string{"--seed", oldIndex, "--no-reflink"}},
		{"no sync", []string{"--seed", old, "--no-sync"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append(append([]string{"extract", "-s", delta, "--print-stats"}, tc.args...), newIndex, out)
			r := mustRun(t, nil, args...)
			if !bytes.Equal(mustRead(t, out), newData) {
				t.Fatal("output differs")
			}
			var stats map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &stats); err != nil {
				t.Fatalf("stats %q: %v", r.stdout, err)
			}
			for _, k := range []string{"chunks-from-seeds", "chunks-from-store", "chunks-in-place", "bytes-copied-from-seeds",
				"bytes-cloned-from-seeds", "blocksize", "bytes-total", "chunks-total", "seeds"} {
				if _, ok := stats[k]; !ok {
					t.Errorf("stats lack desync's key %q", k)
				}
			}
			if stats["chunks-from-seeds"].(float64) == 0 || stats["bytes-total"].(float64) != float64(len(newData)) {
				t.Errorf("stats %v", stats)
			}
		})
	}

	t.Run("to stdout", func(t *testing.T) {
		r := mustRun(t, nil, "extract", "-s", delta, "--seed", oldIndex, newIndex, "-")
		if r.stdout != string(newData) {
			t.Fatal("stdout differs")
		}
	})

	t.Run("without a seed the delta store is not enough", func(t *testing.T) {
		extractFails(t, []string{"chunk", "missing"}, newIndex, "-s", delta)
	})

	t.Run("in place", func(t *testing.T) {
		out := writeFile(t, filepath.Join(t.TempDir(), "out"), oldData)
		r := mustRun(t, nil, "extract", "-k", "-s", full, "--print-stats", newIndex, out)
		if !bytes.Equal(mustRead(t, out), newData) {
			t.Fatal("output differs")
		}
		if !strings.Contains(r.stdout, `"chunks-in-place"`) || strings.Contains(r.stdout, `"chunks-in-place": 0,`) {
			t.Errorf("no chunk in place: %s", r.stdout)
		}
	})

	t.Run("info --seed", func(t *testing.T) {
		for _, seed := range []string{oldIndex, old} {
			r := mustRun(t, nil, "info", "--seed", seed, newIndex)
			var info map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
				t.Fatal(err)
			}
			unique, inSeed := info["unique"].(float64), info["in-seed"].(float64)
			if inSeed == 0 || inSeed >= unique || info["dedup-size-not-in-seed"].(float64) >= float64(len(newData))/2 {
				t.Errorf("--seed %s: %v", seed, info)
			}
		}
	})
}

// TestSeedBadInput: seeds and flags that cannot work.
func TestSeedBadInput(t *testing.T) {
	f := newFixture(t)
	stale := filepath.Join(f.dir, "stale.bin")
	staleData := append([]byte(nil), f.data...)
	copy(staleData[len(staleData)/2:], "changed since the index was made")
	writeFile(t, stale, staleData)
	writeFile(t, stale+".caibx", mustRead(t, f.index))
	notIndex := writeFile(t, filepath.Join(f.dir, "junk.caibx"), []byte("not an index"))

	extractFails(t, []string{"seed", "stale.bin", "offset", "--skip-invalid-seeds"}, f.index, "-s", f.store, "--seed", stale+".caibx")
	extractFails(t, []string{"seed", "nope"}, f.index, "-s", f.store, "--seed", filepath.Join(f.dir, "nope"))
	extractFails(t, []string{"junk.caibx"}, f.index, "-s", f.store, "--seed", notIndex)
	expect(t, 2, nil, []string{"exclude each other"}, "extract", "-s", f.store, "--skip-invalid-seeds", "--regenerate-invalid-seeds", f.index, filepath.Join(f.dir, "o"))
	expect(t, 2, nil, []string{"stdout"}, "extract", "-s", f.store, "-k", f.index, "-")

	// With --skip-invalid-seeds the stale seed is reported and the output
	// is exact.
	out := filepath.Join(t.TempDir(), "out")
	r := mustRun(t, nil, "extract", "-s", f.store, "--skip-invalid-seeds", "--seed", stale+".caibx", f.index, out)
	if !bytes.Equal(mustRead(t, out), f.data) {
		t.Fatal("output differs")
	}
	if !strings.Contains(r.stderr, "stale.bin") {
		t.Errorf("the invalid seed is not reported: %q", r.stderr)
	}
	// --regenerate-invalid-seeds rewrites the stale index; afterwards the
	// seed is valid.
	mustRun(t, nil, "extract", "-s", f.store, "--regenerate-invalid-seeds", "--seed", stale+".caibx", f.index, out)
	mustRun(t, nil, "make", filepath.Join(f.dir, "want.caibx"), stale)
	if !bytes.Equal(mustRead(t, stale+".caibx"), mustRead(t, filepath.Join(f.dir, "want.caibx"))) {
		t.Error("the regenerated index differs from the seed's")
	}
	mustRun(t, nil, "extract", "-s", f.store, "--seed", stale+".caibx", f.index, out)
}

// TestProgress: desync's environment switches for progress output.
func TestProgress(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(t.TempDir(), "out")

	r := mustRun(t, nil, "extract", "-s", f.store, f.index, out)
	if r.stderr != "" {
		t.Errorf("progress on a non-terminal without the switches: %q", r.stderr)
	}

	t.Setenv("DESYNC_ENABLE_PARSABLE_PROGRESS", "1")
	r = mustRun(t, nil, "extract", "-s", f.store, f.index, out)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := strings.Fields(lines[len(lines)-1])
	if len(last) != 3 || last[0] != "Assembling" || last[1] != "100.00%" || !regexp.MustCompile(`^\d\dm\d\ds$`).MatchString(last[2]) {
		t.Errorf("parsable progress %q, want lines like \"Assembling 100.00%% 00m01s\"", r.stderr)
	}

	// A seed without an index is chunked first, in a phase of its own.
	r = mustRun(t, nil, "extract", "-s", f.store, "--seed", f.input, f.index, out)
	if !regexp.MustCompile(`(?m)^Chunking seed 1 +100\.00% \d\dm\d\ds\nAssembling +100\.00% `).MatchString(r.stderr) {
		t.Errorf("parsable progress with a seed to chunk: %q", r.stderr)
	}

	t.Setenv("DESYNC_ENABLE_PARSABLE_PROGRESS", "")
	t.Setenv("DESYNC_PROGRESSBAR_ENABLED", "1")
	r = mustRun(t, nil, "extract", "-s", f.store, f.index, out)
	if !strings.Contains(r.stderr, "Assembling") || !strings.Contains(r.stderr, "100%") {
		t.Errorf("progress bar %q", r.stderr)
	}
}
