package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
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
