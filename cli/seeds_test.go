package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
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
	// --regenerate-invalid-seeds uses the seed with an index rebuilt in
	// memory; the stale index on disk stays as it was, so without the flag
	// the seed still fails.
	indexBefore := mustRead(t, stale+".caibx")
	r = mustRun(t, nil, "extract", "-s", f.store, "--regenerate-invalid-seeds", "--seed", stale+".caibx", f.index, out)
	if !bytes.Equal(mustRead(t, out), f.data) {
		t.Fatal("output differs")
	}
	if !strings.Contains(r.stderr, "stale.bin") || !strings.Contains(r.stderr, "memory") {
		t.Errorf("the rebuilt seed is not reported: %q", r.stderr)
	}
	if !bytes.Equal(mustRead(t, stale+".caibx"), indexBefore) {
		t.Error("the seed's index file was rewritten")
	}
	extractFails(t, []string{"seed", "stale.bin", "offset"}, f.index, "-s", f.store, "--seed", stale+".caibx")
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
	// Phases of no known size (syncing) have no parsable lines.
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
	if !regexp.MustCompile(`\rAssembling [0-9.]+ [KM]iB in [0-9.]+m?s \([0-9.]+ [KMG]iB/s\)`).MatchString(r.stderr) {
		t.Errorf("progress bar %q", r.stderr)
	}
}

// seedSetup is an old version of a file, its index and a new version made
// from it, with a store that holds only what the old version lacks: an
// extract of the new version succeeds only if the old data is used as a
// seed.
type seedSetup struct {
	dir                string
	old, new           []byte
	oldIndex, newIndex string
	delta              string
}

func newSeedSetup(t *testing.T) seedSetup {
	t.Helper()
	isolate(t)
	s := seedSetup{dir: t.TempDir()}
	s.old = genRandom(t, 3<<20, 1)
	s.new = bytes.Join([][]byte{s.old[:1<<20], genRandom(t, 70000, 2), s.old[1<<20:]}, nil)
	oldPath := writeFile(t, filepath.Join(s.dir, "make-old"), s.old)
	newPath := writeFile(t, filepath.Join(s.dir, "make-new"), s.new)
	s.oldIndex, s.newIndex = filepath.Join(s.dir, "old.caibx"), filepath.Join(s.dir, "new.caibx")
	s.delta = filepath.Join(s.dir, "delta")
	mustRun(t, nil, "make", "-m", "4:16:64", s.oldIndex, oldPath)
	mustRun(t, nil, "make", "-m", "4:16:64", "-s", filepath.Join(s.dir, "full"), s.newIndex, newPath)
	mustRun(t, nil, "chop", "-s", s.delta, "--ignore", s.oldIndex, s.newIndex, newPath)
	return s
}

// extract runs extract of the new version with args and checks the output
// and that the seed supplied chunks; it returns stderr.
func (s seedSetup) extract(t *testing.T, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	r := mustRun(t, nil, append(append([]string{"extract", "-s", s.delta, "--print-stats"}, args...), s.newIndex, out)...)
	if !bytes.Equal(mustRead(t, out), s.new) {
		t.Fatal("output differs")
	}
	var stats map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &stats); err != nil {
		t.Fatalf("stats %q: %v", r.stdout, err)
	}
	if n, _ := stats["chunks-from-seeds"].(float64); n == 0 {
		t.Errorf("no chunk from the seed: %v", stats)
	}
	return r.stderr
}

// TestSeedDataPath: --seed INDEX:DATA[:OPTIONS] names the seed's data, as
// in desync; paths may hold ':'; a file without an index is still a seed.
func TestSeedDataPath(t *testing.T) {
	s := newSeedSetup(t)
	mkdir := func(p string) string {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	blob := writeFile(t, filepath.Join(mkdir(filepath.Join(s.dir, "elsewhere")), "blob"), s.old)
	colonDir := mkdir(filepath.Join(s.dir, "a:b"))
	colonIndex := writeFile(t, filepath.Join(colonDir, "v1.caibx"), mustRead(t, s.oldIndex))
	colonBlob := writeFile(t, filepath.Join(mkdir(filepath.Join(s.dir, "c:d")), "blob:1"), s.old)
	writeFile(t, filepath.Join(colonDir, "v1.bin"), s.old)
	writeFile(t, filepath.Join(colonDir, "v1.bin.caibx"), mustRead(t, s.oldIndex))

	for _, tc := range []struct {
		name, seed string
		warn       []string // in stderr; nothing else may be
	}{
		{"index:data", s.oldIndex + ":" + blob, nil},
		{"index:data:options", s.oldIndex + ":" + blob + ":future:x", []string{"future", "x"}},
		{"colons in both paths", colonIndex + ":" + colonBlob, nil},
		{"colons in both paths, options", colonIndex + ":" + colonBlob + ":opt", []string{"opt"}},
		{"index with a colon, data next to it", filepath.Join(colonDir, "v1.bin.caibx"), nil},
		{"file without index, colons in its path", colonBlob, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stderr := s.extract(t, "--seed", tc.seed)
			if tc.warn == nil && stderr != "" {
				t.Errorf("stderr %q, want nothing", stderr)
			}
			for _, w := range tc.warn {
				if !strings.Contains(stderr, w) || !strings.Contains(stderr, "ignored") {
					t.Errorf("stderr %q does not warn that option %q is ignored", stderr, w)
				}
			}
		})
	}

	t.Run("info", func(t *testing.T) {
		r := mustRun(t, nil, "info", "--seed", colonIndex+":"+colonBlob, s.newIndex)
		var info map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
			t.Fatal(err)
		}
		if info["in-seed"].(float64) == 0 {
			t.Errorf("info: %v", info)
		}
	})

	// The data named must exist; an empty data path is a usage error.
	extractFails(t, []string{"missing-blob"}, s.newIndex, "-s", s.delta, "--seed", s.oldIndex+":"+filepath.Join(s.dir, "missing-blob"))
	expect(t, 2, nil, []string{"--seed", "data"}, "extract", "-s", s.delta, "--seed", s.oldIndex+":", s.newIndex, filepath.Join(s.dir, "o"))
}

// TestSeedDirSkipsMissingData: --seed-dir takes the indexes of its
// subdirectories too, and skips, with a warning, an index whose data is
// not next to it (as desync does) instead of failing.
func TestSeedDirSkipsMissingData(t *testing.T) {
	s := newSeedSetup(t)
	for _, tc := range []struct {
		name   string
		layout map[string][]byte // file → content, under the seed directory
		warn   string
	}{
		{"orphan index", map[string][]byte{"v1.bin": s.old, "v1.bin.caibx": mustRead(t, s.oldIndex), "gone.bin.caibx": mustRead(t, s.oldIndex)}, "gone.bin.caibx"},
		{"subdirectory", map[string][]byte{"sub/deeper/v1.bin": s.old, "sub/deeper/v1.bin.caibx": mustRead(t, s.oldIndex)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range tc.layout {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				writeFile(t, p, b)
			}
			stderr := s.extract(t, "--seed-dir", dir)
			if tc.warn == "" && stderr != "" {
				t.Errorf("stderr %q, want nothing", stderr)
			}
			if tc.warn != "" && (!strings.Contains(stderr, tc.warn) || !strings.Contains(stderr, "skipped")) {
				t.Errorf("stderr %q does not say %s is skipped", stderr, tc.warn)
			}
		})
	}
}

// TestBadSeedOnlyWhenUsed: a seed whose data does not match its index
// fails the extraction only if a chunk is taken from where it differs.
func TestBadSeedOnlyWhenUsed(t *testing.T) {
	s := newSeedSetup(t)
	seedIndex := writeFile(t, filepath.Join(s.dir, "v1.bin.caibx"), mustRead(t, s.oldIndex))
	seed := filepath.Join(s.dir, "v1.bin")

	// The new version needs none of the old one's last MiB: a seed that
	// lost it, or whose end changed, still serves.
	tail := genRandom(t, 1<<20, 3)
	for name, data := range map[string][]byte{
		"truncated":    s.old[:2<<20],
		"tail changed": bytes.Join([][]byte{s.old[:2<<20], tail}, nil),
	} {
		t.Run(name+" not needed", func(t *testing.T) {
			writeFile(t, seed, data)
			// A new version made of the seed's first 2 MiB only.
			newData := bytes.Join([][]byte{s.old[:1<<20], genRandom(t, 70000, 2), s.old[1<<20 : 3<<19]}, nil)
			newPath := writeFile(t, filepath.Join(t.TempDir(), "new"), newData)
			ix, store := filepath.Join(t.TempDir(), "n.caibx"), filepath.Join(t.TempDir(), "store")
			mustRun(t, nil, "make", "-m", "4:16:64", "-s", store, ix, newPath)
			out := filepath.Join(t.TempDir(), "out")
			r := mustRun(t, nil, "extract", "-s", store, "--print-stats", "--seed", seedIndex, ix, out)
			if !bytes.Equal(mustRead(t, out), newData) {
				t.Fatal("output differs")
			}
			if r.stderr != "" || strings.Contains(r.stdout, "invalid-seeds") || strings.Contains(r.stdout, `"chunks-from-seeds": 0,`) {
				t.Errorf("stats %s, stderr %q: want the seed used and not reported", r.stdout, r.stderr)
			}
		})
	}

	// The whole old version is needed: the truncated seed fails the run,
	// naming the seed and where its data ends, unless skipped.
	t.Run("truncated, needed", func(t *testing.T) {
		writeFile(t, seed, s.old[:2<<20])
		extractFails(t, []string{"v1.bin", "offset", "2097152"}, s.newIndex, "-s", filepath.Join(s.dir, "full"), "--seed", seedIndex)
		out := filepath.Join(t.TempDir(), "out")
		r := mustRun(t, nil, "extract", "-s", filepath.Join(s.dir, "full"), "--skip-invalid-seeds", "--seed", seedIndex, s.newIndex, out)
		if !bytes.Equal(mustRead(t, out), s.new) {
			t.Fatal("output differs")
		}
		if !strings.Contains(r.stderr, "v1.bin") {
			t.Errorf("the invalid seed is not reported: %q", r.stderr)
		}
	})
}

// TestRegenerateKeepsFiles: --regenerate-invalid-seeds rebuilds a stale
// seed index in memory and uses it; the index on disk (here a symlink) is
// never touched.
func TestRegenerateKeepsFiles(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	old := genRandom(t, 3<<20, 1)
	// The seed's data changed since its index was made.
	seedData := bytes.Join([][]byte{old[:3<<19], genRandom(t, 5000, 4), old[3<<19:]}, nil)
	newData := append(append([]byte(nil), seedData...), genRandom(t, 50000, 5)...)
	oldPath := writeFile(t, filepath.Join(dir, "old"), old)
	seedPath := writeFile(t, filepath.Join(dir, "seed.bin"), seedData)
	newPath := writeFile(t, filepath.Join(dir, "new"), newData)

	os.Mkdir(filepath.Join(dir, "real"), 0o755)
	realIndex := filepath.Join(dir, "real", "v1.caibx")
	mustRun(t, nil, "make", "-m", "4:16:64", realIndex, oldPath)
	past := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(realIndex, past, past); err != nil {
		t.Fatal(err)
	}
	indexBytes := mustRead(t, realIndex)
	link := seedPath + ".caibx"
	if err := os.Symlink("real/v1.caibx", link); err != nil {
		t.Fatal(err)
	}

	// The store lacks every chunk the seed's current data holds.
	seedNow := filepath.Join(dir, "seednow.caibx")
	newIndex := filepath.Join(dir, "new.caibx")
	store := filepath.Join(dir, "delta")
	mustRun(t, nil, "make", "-m", "4:16:64", seedNow, seedPath)
	mustRun(t, nil, "make", "-m", "4:16:64", newIndex, newPath)
	mustRun(t, nil, "chop", "-s", store, "--ignore", seedNow, newIndex, newPath)

	entries, _ := os.ReadDir(dir)
	nEntries := len(entries)
	check := func(t *testing.T) {
		t.Helper()
		fi, err := os.Lstat(link)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("the seed index %s is no longer a symlink (%v, %v)", link, fi.Mode(), err)
		}
		if target, _ := os.Readlink(link); target != "real/v1.caibx" {
			t.Errorf("the symlink points to %q", target)
		}
		fi, err = os.Stat(realIndex)
		if err != nil || !fi.ModTime().Equal(past) || !bytes.Equal(mustRead(t, realIndex), indexBytes) {
			t.Errorf("the index file changed: %v, mtime %v", err, fi.ModTime())
		}
		if entries, _ := os.ReadDir(dir); len(entries) != nEntries {
			t.Errorf("files were added next to the seed: %d entries, %d before", len(entries), nEntries)
		}
	}

	for _, tc := range []struct{ name, out string }{
		{"file", filepath.Join(t.TempDir(), "out")},
		{"in place", ""},
		{"stdout", "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"extract", "-s", store, "--regenerate-invalid-seeds", "--seed", link}
			out := tc.out
			if out == "" {
				out = writeFile(t, filepath.Join(t.TempDir(), "out"), old[:1000])
				args = append(args, "-k")
			}
			if out != "-" {
				args = append(args, "--print-stats")
			}
			r := mustRun(t, nil, append(args, newIndex, out)...)
			got := []byte(r.stdout)
			if out != "-" {
				got = mustRead(t, out)
				if strings.Contains(r.stdout, `"chunks-from-seeds": 0,`) {
					t.Errorf("the regenerated seed was not used: %s", r.stdout)
				}
			}
			if !bytes.Equal(got, newData) {
				t.Fatal("output differs")
			}
			if !strings.Contains(r.stderr, link) || !strings.Contains(r.stderr, "memory") {
				t.Errorf("stderr %q does not say the seed's index was rebuilt in memory", r.stderr)
			}
			check(t)
		})
	}
}
