package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folbricht/desync/caindex"
)

func TestRoundTripAndStdio(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store.castr")
	idx := filepath.Join(dir, "text.caibx")
	input := mustRead(t, "testdata/text.bin")

	// make from stdin, index to a file, with stats.
	r := run(t, input, "make", "-s", store, "--print-stats", idx, "-")
	if r.code != 0 {
		t.Fatalf("make: %s", r.stderr)
	}
	var stats map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &stats); err != nil || stats["chunks"].(float64) != 6 || stats["stored-chunks"].(float64) != 6 {
		t.Fatalf("make stats %q: %v", r.stdout, err)
	}
	// A higher level gives the same index and a smaller store.
	store19 := filepath.Join(dir, "store19.castr")
	if r := run(t, nil, "make", "-s", store19, "--compression-level", "19", filepath.Join(dir, "19.caibx"), "testdata/text.bin"); r.code != 0 {
		t.Fatalf("make level 19: %s", r.stderr)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(dir, "19.caibx")), mustRead(t, idx)) || dirSize(t, store19) >= dirSize(t, store) {
		t.Errorf("level 19: index differs or store not smaller (%d vs %d bytes)", dirSize(t, store19), dirSize(t, store))
	}
	// make with the index to stdout: stats go to stderr.
	r = run(t, nil, "make", "--print-stats", "-", "testdata/text.bin")
	if r.code != 0 || !bytes.Equal([]byte(r.stdout), mustRead(t, idx)) || !strings.Contains(r.stderr, `"chunks": 6`) || !strings.Contains(r.stderr, fmt.Sprintf(`"unique-chunks": %d`, len(uniqueIDs(readIndex(t, idx))))) {
		t.Fatalf("make to stdout: %d %s", r.code, r.stderr)
	}

	out := filepath.Join(dir, "text.out")
	if r := run(t, nil, "extract", idx, out, "-s", store); r.code != 0 || !bytes.Equal(mustRead(t, out), input) {
		t.Fatalf("extract: %d %s", r.code, r.stderr)
	}
	// index from stdin, data to a file.
	os.Remove(out)
	if r := run(t, mustRead(t, idx), "extract", "-s", store, "-", out); r.code != 0 || !bytes.Equal(mustRead(t, out), input) {
		t.Fatalf("extract with the index from stdin: %d %s", r.code, r.stderr)
	}
	// index from stdin, data to stdout.
	if r := run(t, mustRead(t, idx), "extract", "-s", store, "-", "-"); r.code != 0 || r.stdout != string(input) {
		t.Fatalf("extract to stdout: %d %s", r.code, r.stderr)
	}
	if r := run(t, nil, "verify-index", idx, out); r.code != 0 {
		t.Fatalf("verify-index: %s", r.stderr)
	}
	r = run(t, nil, "list-chunks", idx)
	ix, _ := caindex.ReadFile(idx)
	lines := strings.Fields(r.stdout)
	if r.code != 0 || len(lines) != len(ix.Chunks) || lines[2] != ix.Chunks[2].ID.String() {
		t.Fatalf("list-chunks: %q", r.stdout)
	}
	r = run(t, nil, "chunk", "testdata/text.bin")
	if first := strings.Split(r.stdout, "\n")[0]; r.code != 0 || first != "0\t49172\t958c2c2d4aa0fe35bd4e873ccf3797f77654af22a0396f2511ea69d366f58cfa" {
		t.Fatalf("chunk: %q %s", first, r.stderr)
	}
	r = run(t, nil, "info", "-s", store, idx)
	var info indexInfo
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil || info.Total != 6 || info.Unique != 6 || info.InStore != 6 || info.SizeNotInSeedNorCache != 300000 || info.Size != 300000 || info.Max != 262144 {
		t.Fatalf("info: %s %v", r.stdout, err)
	}
}

// TestBadInput checks exit status, message and that nothing is left behind
// or changed for each kind of bad input.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store.castr")
	idx := filepath.Join(dir, "blob1.caibx")
	if r := run(t, nil, "make", "-s", store, idx, "testdata/blob1.bin"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	ix, _ := caindex.ReadFile(idx)
	victim := ix.Chunks[4].ID.String()
	os.Remove(filepath.Join(store, victim[:4], victim+".cacnk"))

	corrupt := filepath.Join(dir, "corrupt.caibx")
	b := mustRead(t, idx)
	b[36] ^= 0xff // the avg chunk size
	os.WriteFile(corrupt, b, 0o644)
	truncated := filepath.Join(dir, "truncated.caibx")
	os.WriteFile(truncated, mustRead(t, idx)[:500], 0o644)

	precious := filepath.Join(dir, "precious")
	// A store where the directory of one chunk is a file: make fails
	// halfway, after it has begun to write the index.
	broken := filepath.Join(dir, "broken.castr")
	blocked := readIndex(t, idx).Chunks[3]
	os.MkdirAll(broken, 0o755)
	os.WriteFile(filepath.Join(broken, blocked.ID.String()[:4]), nil, 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no arguments", []string{"make"}, 2, []string{"wrong number of arguments"}},
		{"unknown flag", []string{"make", "--frobnicate", "a", "b"}, 2, []string{"frobnicate"}},
		{"unknown command", []string{"frobnicate"}, 2, nil},
		{"bad chunk size", []string{"make", "-m", "64:16:256", "x.caibx", "testdata/blob1.bin"}, 2, []string{"min ≤ avg"}},
		{"two-field chunk size", []string{"make", "-m", "16:64", "x.caibx", "testdata/blob1.bin"}, 2, []string{"MIN:AVG:MAX"}},
		{"bad compression level", []string{"make", "--compression-level", "30", "x.caibx", "testdata/blob1.bin"}, 2, []string{"compression-level 30"}},
		{"bad digest", []string{"make", "--digest", "md5", "x.caibx", "testdata/blob1.bin"}, 2, []string{"md5"}},
		{"unreadable input", []string{"make", filepath.Join(dir, "x.caibx"), filepath.Join(dir, "nope.bin")}, 1, []string{"nope.bin"}},
		{"input is a directory", []string{"make", filepath.Join(dir, "x.caibx"), dir}, 1, []string{dir}},
		{"index is the input", []string{"make", "testdata/blob1.bin", "testdata/blob1.bin"}, 2, []string{"is the input"}},
		{"store fails during make", []string{"make", "-s", broken, precious, "testdata/blob1.bin"}, 1, []string{blocked.ID.String(), fmt.Sprintf("offset %d", blocked.Start)}},
		{"extract without store", []string{"extract", idx, precious}, 2, []string{"no store"}},
		{"remote store of an unknown scheme", []string{"extract", "-s", "nosuch+http://x/y", idx, precious}, 1, []string{`unknown scheme "nosuch+http"`, "known schemes", "s3+http"}},
		{"output is the index", []string{"extract", "-s", store, idx, idx}, 2, []string{"is the index"}},
		{"missing chunk", []string{"extract", "-s", store, idx, precious}, 1, []string{victim, "missing", store}},
		{"corrupt index", []string{"extract", "-s", store, corrupt, precious}, 1, []string{corrupt, "offset 32"}},
		{"truncated index", []string{"extract", "-s", store, truncated, precious}, 1, []string{truncated, "truncated chunk table"}},
		{"missing index", []string{"extract", "-s", store, filepath.Join(dir, "nope.caibx"), precious}, 1, []string{"nope.caibx"}},
		{"index of the other digest", []string{"extract", "-s", store, "testdata/text.sha256.caibx", precious}, 1, []string{"missing"}},
		{"verify mismatch", []string{"verify-index", idx, "testdata/text.bin"}, 1, []string{"does not match"}},
		{"corrupt index for info", []string{"info", corrupt}, 1, []string{"offset 32"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(precious, []byte("keep me"), 0o644)
			r := run(t, nil, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", r.code, tc.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not mention %q", r.stderr, w)
				}
			}
			if string(mustRead(t, precious)) != "keep me" {
				t.Error("existing output changed")
			}
			matches, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
			if len(matches) > 0 {
				t.Errorf("temporary files left: %v", matches)
			}
			if _, err := os.Stat(filepath.Join(dir, "x.caibx")); err == nil {
				t.Error("an index was written by a failed make")
			}
		})
	}
}

// TestHelp: --help, -h and "desync help [command]" print the same help to
// stdout, and exit 0.
func TestHelp(t *testing.T) {
	helpOf := func(args ...string) string {
		t.Helper()
		r := run(t, nil, args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("%v: exit %d, stderr %q; want 0 and nothing", args, r.code, r.stderr)
		}
		return r.stdout
	}
	for _, c := range commands(&app{}) {
		cmd := c.Name
		out := helpOf(cmd, "--help")
		if !strings.Contains(out, "Example:") || !strings.Contains(out, "desync "+cmd) || !strings.Contains(out, "FLAGS") {
			t.Errorf("%s --help: stdout %q", cmd, out)
		}
		for _, args := range [][]string{{cmd, "-h"}, {"help", cmd}, {cmd, "x", "--help"}} {
			if got := helpOf(args...); got != out {
				t.Errorf("%v printed %q, want what %s --help prints", args, got, cmd)
			}
		}
	}
	out := helpOf("--help")
	if !strings.Contains(out, "verify-index") || !strings.Contains(out, "help") {
		t.Errorf("desync --help: %q", out)
	}
	for _, args := range [][]string{{"-h"}, {"help"}, {}} {
		if got := helpOf(args...); got != out {
			t.Errorf("desync %v printed %q, want what desync --help prints", args, got)
		}
	}
	if got := helpOf("help", "help"); !strings.Contains(got, "desync help [<command>]") {
		t.Errorf("desync help help: %q", got)
	}
}

// TestUsageErrors: a usage error is one line naming the problem (a flag as
// it was typed) and one pointing to --help, on stderr, with exit status 2 and
// nothing on stdout.
func TestUsageErrors(t *testing.T) {
	isolate(t)
	for _, tc := range []struct {
		args          []string
		problem, help string
	}{
		{[]string{"extract", "--frobnicate", "a", "b"}, "unknown flag --frobnicate", "desync extract --help"},
		{[]string{"extract", "a", "b", "--frobnicate=3"}, "unknown flag --frobnicate", "desync extract --help"},
		{[]string{"extract", "-x", "a", "b"}, "unknown flag -x", "desync extract --help"},
		{[]string{"make", "-frobnicate", "a", "b"}, "unknown flag -frobnicate", "desync make --help"},
		{[]string{"extract", "-n", "abc", "a", "b"}, `invalid value "abc" for -n: parse error`, "desync extract --help"},
		{[]string{"extract", "--concurrency=abc", "a", "b"}, `invalid value "abc" for --concurrency: parse error`, "desync extract --help"},
		{[]string{"extract", "-n", "4", "--n", "abc", "a", "b"}, `invalid value "abc" for --n: parse error`, "desync extract --help"},
		{[]string{"extract", "--error-retry=-1", "a", "b"}, `invalid value "-1" for --error-retry: must not be negative`, "desync extract --help"},
		{[]string{"cat", "-e", "-1", "a"}, `invalid value "-1" for -e: must not be negative`, "desync cat --help"},
		{[]string{"extract", "-t=maybe", "a", "b"}, `invalid value "maybe" for -t: parse error`, "desync extract --help"},
		{[]string{"make", "--digest", "md5", "a", "b"}, `invalid value "md5" for --digest: unknown digest "md5": want sha512-256 or sha256`, "desync make --help"},
		{[]string{"cat", "a", "-s"}, "flag -s needs a value", "desync cat --help"},
		{[]string{"chunk-server", "-s", "a", "--listen"}, "flag --listen needs a value", "desync chunk-server --help"},
		{[]string{"extract", "a"}, "extract: wrong number of arguments (1); usage: desync extract -s <store> [flags] <index> <output>", "desync extract --help"},
		{[]string{"--frobnicate", "extract"}, "unknown flag --frobnicate", "desync --help"},
		{[]string{"--config"}, "flag --config needs a value", "desync --help"},
		{[]string{"nosuch"}, `unknown command "nosuch"`, "desync --help"},
		{[]string{"help", "nosuch"}, `help: unknown command "nosuch"`, "desync --help"},
	} {
		r := run(t, nil, tc.args...)
		want := "desync: " + tc.problem + "\nrun '" + tc.help + "' for usage\n"
		if r.code != 2 || r.stderr != want || r.stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want 2, %q and nothing", tc.args, r.code, r.stderr, r.stdout, want)
		}
	}
}
