package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestDigestFlag: --digest is accepted by every command, before or after the
// command name. make and chunk cut with it, verify and chunk-server check
// chunks with it, and a command reading an index refuses one of the other
// digest with a usage error naming both digests and the index.
func TestDigestFlag(t *testing.T) {
	f := newFixture(t) // a SHA-512/256 index and store
	dir := t.TempDir()
	store256, idx256 := filepath.Join(dir, "store256"), filepath.Join(dir, "text256.caibx")
	mustRun(t, nil, "make", "--digest", "sha256", "-s", store256, idx256, "testdata/text.bin")
	if got := readIndex(t, idx256).Digest().String(); got != "sha256" {
		t.Fatalf("make --digest sha256 made a %s index", got)
	}
	text := mustRead(t, "testdata/text.bin")
	out := filepath.Join(dir, "out")
	list := writeFile(t, filepath.Join(dir, "ids"), []byte(f.ids[0]+"\n"))

	// Each command that reads an index, with the other digest.
	for _, args := range [][]string{
		{"extract", "-s", f.store, f.index, out},
		{"extract", "-s", f.store, "--seed", f.index, f.index, out}, // the index read whole
		{"cat", "-s", f.store, f.index},
		{"verify-index", f.index, f.input},
		{"info", f.index},
		{"chop", "-s", filepath.Join(dir, "chopped"), f.index, f.input},
		{"cache", "-s", f.store, "-c", filepath.Join(dir, "cache"), f.index},
		{"prune", "-s", f.store, "-y", f.index},
		{"list-chunks", f.index},
		{"inspect-chunks", f.index},
	} {
		for _, pos := range []string{"after", "before"} {
			line := append(append([]string{args[0]}, args[1:]...), "--digest", "sha256")
			if pos == "before" {
				line = append([]string{"--digest", "sha256"}, args...)
			}
			t.Run(args[0]+" "+pos, func(t *testing.T) {
				r := expect(t, 2, nil, []string{f.index, "sha512-256", "--digest sha256", "desync " + args[0] + " --help"}, line...)
				if n := strings.Count(r.stderr, "\n"); n != 2 {
					t.Errorf("stderr has %d lines, want the problem and a hint: %q", n, r.stderr)
				}
			})
		}
	}
	// The index from stdin is named as such.
	expect(t, 2, mustRead(t, f.index), []string{"from stdin", "sha512-256"}, "list-chunks", "--digest", "sha256", "-")
	// Nothing was pruned, chopped or cached by the refused commands.
	assertSameIDs(t, "store after the refused prune", storeChunks(t, f.store), f.ids)

	// The index's own digest, given or not, is accepted.
	extractOK(t, f.data, f.index, "-s", f.store, "--digest", "sha512-256")
	extractOK(t, text, idx256, "-s", store256, "--digest", "sha256")
	extractOK(t, text, idx256, "-s", store256)
	mustRun(t, nil, "verify-index", "--digest", "sha256", idx256, "testdata/text.bin")
	mustRun(t, nil, "--digest", "sha512-256", "list-chunks", f.index)
	mustRun(t, nil, "prune", "-s", store256, "--yes", "--keep-chunks", list, idx256, "--digest", "sha256")
	assertSameIDs(t, "store256 after prune", storeChunks(t, store256), uniqueIDs(readIndex(t, idx256)))
	// Commands without chunks accept it, as desync's global flag.
	mustRun(t, nil, "config", "--digest", "sha256")

	// chunk: the IDs are the SHA-256 of the chunks.
	r := mustRun(t, nil, "chunk", "--digest", "sha256", "testdata/text.bin")
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		fields := strings.Split(line, "\t")
		start, _ := strconv.Atoi(fields[0])
		size, _ := strconv.Atoi(fields[1])
		sum := sha256.Sum256(text[start : start+size])
		if fields[2] != hex.EncodeToString(sum[:]) {
			t.Errorf("chunk --digest sha256: %q is not the SHA-256 of its chunk", line)
		}
	}

	// verify: a SHA-256 store checks out only with --digest sha256.
	expect(t, 1, nil, []string{"invalid"}, "verify", "-s", store256)
	mustRun(t, nil, "verify", "-s", store256, "--digest", "sha256")

	// chunk-server checks uploads with its --digest.
	u := startServer(t, "chunk-server", "-w", "-s", filepath.Join(dir, "up256"), "--digest", "sha256")
	mustRun(t, nil, "make", "--digest", "sha256", "-s", u, filepath.Join(dir, "up.caibx"), "testdata/text.bin")
	extractOK(t, text, idx256, "-s", u)
	wrong := startServer(t, "chunk-server", "-w", "-s", filepath.Join(dir, "up512"))
	expect(t, 1, nil, []string{"422"}, "make", "--digest", "sha256", "-s", wrong, "-e", "0", filepath.Join(dir, "up.caibx"), "testdata/text.bin")

	expect(t, 2, nil, []string{"md5"}, "extract", "--digest", "md5", "-s", f.store, f.index, out)
}

// TestListFlagsSplitCommas: as with the original desync's list flags, one
// value of -s (and --seed, --seed-dir, -l, --ignore …) may hold several,
// separated by commas, with CSV quoting for a comma inside one.
func TestListFlagsSplitCommas(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
	}{
		{[]string{"/a"}, []string{"/a"}},
		{[]string{"/a,/b"}, []string{"/a", "/b"}},
		{[]string{"/a", "/b,http://h/s|http://g/s"}, []string{"/a", "/b", "http://h/s|http://g/s"}},
		{[]string{`"/srv/a,b",/c`}, []string{"/srv/a,b", "/c"}},
	} {
		var m multiFlag
		for _, v := range tc.in {
			if err := m.Set(v); err != nil {
				t.Fatalf("Set(%q): %v", v, err)
			}
		}
		if !slices.Equal(m, tc.want) {
			t.Errorf("%q gave %q, want %q", tc.in, m, tc.want)
		}
	}
	var m multiFlag
	if err := m.Set(`"/a,/b`); err == nil {
		t.Errorf("an unterminated quote was accepted: %q", m)
	}

	// Through the command line: the chunks are in the second store only,
	// which is read because -s named both in one value.
	f := newFixture(t)
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	extractOK(t, f.data, f.index, "-s", empty+","+f.store)
}

// TestVerbose: --verbose, the original's global flag, is accepted before
// and after the command, and turns on debug messages.
func TestVerbose(t *testing.T) {
	f := newFixture(t)
	quiet := mustRun(t, nil, "list-chunks", f.index)
	for _, args := range [][]string{
		{"--verbose", "list-chunks", f.index},
		{"list-chunks", f.index, "--verbose"},
		{"list-chunks", "--verbose=true", f.index},
	} {
		r := mustRun(t, nil, args...)
		if r.stdout != quiet.stdout {
			t.Errorf("%q: stdout differs from the run without --verbose", args)
		}
	}
	var lv slog.LevelVar
	v := verboseFlag{&lv}
	if err := v.Set("true"); err != nil || lv.Level() != slog.LevelDebug {
		t.Errorf("--verbose: level %v, err %v", lv.Level(), err)
	}
	if err := v.Set("false"); err != nil || lv.Level() != slog.LevelWarn {
		t.Errorf("--verbose=false: level %v, err %v", lv.Level(), err)
	}
	expect(t, 2, nil, []string{"--verbose"}, "list-chunks", "--verbose=maybe", f.index)
}
