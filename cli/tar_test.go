//go:build linux

package cli

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folbricht/desync/assemble/reflinktest"
	"github.com/folbricht/desync/catar/catartest"
	"github.com/folbricht/desync/cli/internal/gendata"
)

// The archive vectors casync made of the tree catartest builds.
const archiveVectors = "../catar/testdata"

func vector(name string) string { return filepath.Join(archiveVectors, name) }

// vectorTree builds casync's vector tree (as root; skipped, or failed in
// CI, otherwise) and returns its path.
func vectorTree(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tree")
	catartest.Build(t, dir)
	return dir
}

// TestTarVectors: tar and tar -i of casync's vector tree are byte-identical
// to what casync made of it, for the default features, --with unix,
// --without all and other chunk sizes; mtree prints casync's lines for the
// directory, the catar and the caidx.
func TestTarVectors(t *testing.T) {
	isolate(t)
	tree := vectorTree(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		vector string
		args   []string
	}{
		{"tree.catar", nil},
		{"tree.unix.catar", []string{"--with", "unix"}},
		{"tree.without-all.catar", []string{"--without", "all"}},
	} {
		out := filepath.Join(dir, tc.vector)
		mustRun(t, nil, append(append([]string{"tar"}, tc.args...), out, tree)...)
		if !bytes.Equal(mustRead(t, out), mustRead(t, vector(tc.vector))) {
			t.Errorf("tar %v differs from casync's %s", tc.args, tc.vector)
		}
	}
	if r := mustRun(t, nil, "tar", "-", tree); r.stdout != string(mustRead(t, vector("tree.catar"))) {
		t.Error("tar to stdout differs from casync's tree.catar")
	}
	store := filepath.Join(dir, "store")
	for _, tc := range []struct{ vector, sizes string }{{"tree.caidx", "16:64:256"}, {"tree.cs4k.caidx", "1:4:16"}} {
		out := filepath.Join(dir, tc.vector)
		mustRun(t, nil, "tar", "-i", "-s", store, "-m", tc.sizes, out, tree)
		if !bytes.Equal(mustRead(t, out), mustRead(t, vector(tc.vector))) {
			t.Errorf("tar -i -m %s differs from casync's %s", tc.sizes, tc.vector)
		}
		for _, id := range uniqueIDs(readIndex(t, out)) {
			if _, ok := storeChunks(t, store)[id]; !ok {
				t.Fatalf("tar -i: chunk %s of %s is not in the store", id, tc.vector)
			}
		}
	}
	want := string(mustRead(t, vector("tree.mtree.txt")))
	for name, args := range map[string][]string{
		"directory": {"mtree", tree},
		"catar":     {"mtree", vector("tree.catar")},
		"caidx":     {"mtree", "-i", "-s", vector("tree.castr"), vector("tree.caidx")},
		"stdin":     {"mtree", "-"},
	} {
		var stdin []byte
		if name == "stdin" {
			stdin = mustRead(t, vector("tree.catar"))
		}
		if got := mustRun(t, stdin, args...).stdout; got != want {
			t.Errorf("mtree of the %s differs from casync's:\n%s", name, got)
		}
	}
}

// TestUntarRoundTrip: untar of casync's archive, from a catar, a caidx and
// stdin, gives a tree that tar makes into casync's archive again; the
// gnu-tar output lists the same entries.
func TestUntarRoundTrip(t *testing.T) {
	isolate(t)
	needRootCLI(t)
	dir := t.TempDir()
	catarBytes := mustRead(t, vector("tree.catar"))
	for name, tc := range map[string]struct {
		stdin []byte
		args  []string
	}{
		"catar": {nil, []string{vector("tree.catar")}},
		"caidx": {nil, []string{"-i", "-s", vector("tree.castr"), vector("tree.caidx")}},
		"stdin": {catarBytes, []string{"-"}},
	} {
		out := filepath.Join(dir, name)
		mustRun(t, tc.stdin, append(append([]string{"untar"}, tc.args...), out)...)
		again := filepath.Join(dir, name+".catar")
		mustRun(t, nil, "tar", again, out)
		if !bytes.Equal(mustRead(t, again), catarBytes) {
			t.Errorf("untar of the %s then tar differs from casync's tree.catar", name)
		}
	}

	r := mustRun(t, nil, "untar", "--output-format", "gnu-tar", vector("tree.catar"), "-")
	tr := tar.NewReader(strings.NewReader(r.stdout))
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	// Every entry of casync's list but the socket-free tree's root, which
	// tar names "." too.
	list := strings.Split(strings.TrimSpace(string(mustRead(t, vector("tree.list.txt")))), "\n")
	if len(names) != len(list) {
		t.Errorf("gnu-tar output has %d entries, the archive %d: %q", len(names), len(list), names)
	}
}

// needRootCLI skips a test that restores owners and devices unless it runs
// as root (fails instead in CI, which runs as root).
func needRootCLI(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: this test needs root")
		}
		t.Skip("needs root")
	}
}

// writeTree writes a tree of n files of random sizes under dir.
func writeTree(t *testing.T, dir string, n int, seed uint64) {
	t.Helper()
	for i := range n {
		p := filepath.Join(dir, string(rune('a'+i%7)), string(rune('a'+i%5)), "f"+string(rune('0'+i%10))+string(rune('a'+i/10)))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := gendata.Random(&b, int64(1000+(i*7919)%200000), seed+uint64(i)); err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, b.Bytes())
	}
}

// TestUntarSeed: untar -i with an earlier archive index and the tree
// extracted from it takes the shared chunks from that tree; the result is
// exact even where the seed tree changed since, and the stats say how much
// came from the seed.
func TestUntarSeed(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	v1, v2 := filepath.Join(dir, "v1"), filepath.Join(dir, "v2")
	writeTree(t, v1, 60, 1)
	// v2 is v1 with its times (archived too), one file changed and a new
	// directory.
	if out, err := exec.Command("cp", "-a", v1, v2).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v: %s", err, out)
	}
	writeFile(t, filepath.Join(v2, "a", "a", "f0a"), []byte("changed"))
	writeTree(t, filepath.Join(v2, "new"), 5, 99)
	store := filepath.Join(dir, "store")
	mustRun(t, nil, "tar", "--no-sync", "-i", "-s", store, filepath.Join(dir, "v1.caidx"), v1)
	mustRun(t, nil, "tar", "-i", "-s", store, filepath.Join(dir, "v2.caidx"), v2)
	old := filepath.Join(dir, "old")
	mustRun(t, nil, "untar", "-i", "-s", store, filepath.Join(dir, "v1.caidx"), old)
	wantTree := mustRun(t, nil, "mtree", v2).stdout

	type stats struct {
		FromSeeds      int    `json:"chunks-from-seeds"`
		FromStore      int    `json:"chunks-from-store"`
		BytesFromSeeds uint64 `json:"bytes-copied-from-seeds"`
		Total          int    `json:"chunks-total"`
	}
	untar := func(name string, seedArgs ...string) stats {
		t.Helper()
		out := filepath.Join(dir, name)
		args := append([]string{"untar", "--print-stats", "-i", "-s", store}, seedArgs...)
		r := mustRun(t, nil, append(args, filepath.Join(dir, "v2.caidx"), out)...)
		var s stats
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
			t.Fatalf("stats %q: %v", r.stdout, err)
		}
		if got := mustRun(t, nil, "mtree", out).stdout; got != wantTree {
			t.Fatalf("%s: the extracted tree differs from v2", name)
		}
		return s
	}
	none := untar("none")
	if none.FromSeeds != 0 || none.FromStore == 0 {
		t.Fatalf("without a seed: %+v", none)
	}
	seeded := untar("seeded", "--seed", filepath.Join(dir, "v1.caidx")+":"+old)
	if seeded.FromSeeds < seeded.Total*3/4 || seeded.FromStore > none.FromStore/4 {
		t.Fatalf("with the seed: %+v (without: %+v)", seeded, none)
	}
	// --seed-dir finds v1.caidx with its tree next to it (named v1).
	seedDir := filepath.Join(dir, "seeds")
	os.MkdirAll(seedDir, 0o755)
	writeFile(t, filepath.Join(seedDir, "v1.caidx"), mustRead(t, filepath.Join(dir, "v1.caidx")))
	if err := os.Rename(old, filepath.Join(seedDir, "v1")); err != nil {
		t.Fatal(err)
	}
	if s := untar("seed-dir", "--seed-dir", seedDir); s.FromSeeds != seeded.FromSeeds {
		t.Fatalf("--seed-dir: %+v, --seed: %+v", s, seeded)
	}
	// A seed tree changed since it was extracted: the changed chunks come
	// from the store, the output is still exact.
	for _, f := range []string{"b/b/f1b", "c/c/f2c"} {
		writeFile(t, filepath.Join(seedDir, "v1", f), []byte("edited after extraction"))
	}
	changed := untar("changed", "--seed", filepath.Join(seedDir, "v1.caidx"))
	if changed.FromSeeds == 0 || changed.FromSeeds >= seeded.FromSeeds {
		t.Fatalf("with a changed seed tree: %+v (unchanged: %+v)", changed, seeded)
	}
}

// TestArchiveBadInput: usage mistakes exit 2; corrupt, truncated and
// missing data exit 1 naming what and where, leaving no output behind.
func TestArchiveBadInput(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeTree(t, src, 10, 3)
	good := filepath.Join(dir, "good.catar")
	mustRun(t, nil, "tar", good, src)
	store := filepath.Join(dir, "store")
	idx := filepath.Join(dir, "good.caidx")
	mustRun(t, nil, "tar", "-i", "-s", store, "-m", "1:4:16", idx, src)
	blobIdx := filepath.Join(dir, "blob.caibx")
	mustRun(t, nil, "make", "-s", store, blobIdx, filepath.Join(src, "a", "a", "f0a"))

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"input format", []string{"tar", "--input-format", "zip", filepath.Join(dir, "x.catar"), src}, []string{"--input-format"}},
		{"output format", []string{"untar", "--output-format", "zip", good, filepath.Join(dir, "x")}, []string{"--output-format"}},
		{"unknown feature", []string{"tar", "--with", "colour", filepath.Join(dir, "x.catar"), src}, []string{"colour"}},
		{"store without -i", []string{"untar", "-s", store, good, filepath.Join(dir, "x")}, []string{"-i"}},
		{"-i without store", []string{"untar", "-i", idx, filepath.Join(dir, "x")}, []string{"-s"}},
		{"add root without tar input", []string{"tar", "--tar-add-root", filepath.Join(dir, "x.catar"), src}, []string{"--tar-add-root"}},
		{"source is a file", []string{"tar", filepath.Join(dir, "x.catar"), good}, []string{"not a directory"}},
		{"disk output to stdout", []string{"untar", good, "-"}, []string{"target directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, 2, nil, tc.want, tc.args...)
			if _, err := os.Stat(filepath.Join(dir, "x.catar")); err == nil {
				t.Fatal("an output was written")
			}
		})
	}

	data := mustRead(t, good)
	corrupt := append([]byte(nil), data...)
	corrupt[100] ^= 0xff // inside the first FILENAME or ENTRY
	truncated := data[:len(data)/2]
	for _, tc := range []struct {
		name  string
		stdin []byte
		args  []string
		want  []string
	}{
		{"corrupt catar", corrupt, []string{"untar", "-"}, []string{"offset"}},
		{"truncated catar", truncated, []string{"untar", "-"}, []string{"offset"}},
		{"mtree of a truncated catar", truncated, []string{"mtree", "-"}, []string{"offset"}},
		{"blob index as an archive", nil, []string{"untar", "-i", "-s", store, blobIdx}, []string{"offset 0"}},
		{"missing tree", nil, []string{"tar", filepath.Join(dir, "x.catar"), filepath.Join(dir, "nonexistent")}, []string{"nonexistent"}},
		{"garbage tar input", []byte("this is not a tar stream, not at all; it is long enough to be read as a header? no."), []string{"tar", "--input-format", "tar", filepath.Join(dir, "x.catar"), "-"}, []string{"tar"}},
		{"missing seed tree", nil, []string{"untar", "-i", "-s", store, "--seed", idx + ":" + filepath.Join(dir, "gone"), idx}, []string{"gone"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(tc.name, " ", "-"))
			args := tc.args
			if args[0] == "untar" {
				args = append(args, out)
			}
			expect(t, 1, tc.stdin, tc.want, args...)
			if _, err := os.Stat(filepath.Join(dir, "x.catar")); err == nil {
				t.Fatal("a catar was left behind")
			}
			if left, _ := filepath.Glob(out + "*"); len(left) > 0 {
				t.Fatalf("a failed untar left %q", left)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".out-*")); len(left) > 0 {
				t.Fatalf("a failed untar left %q", left)
			}
		})
	}

	// A chunk missing from the store fails untar -i, naming it.
	ix := readIndex(t, idx)
	victim := ix.Chunks[len(ix.Chunks)/2].ID.String()
	if err := os.Remove(filepath.Join(store, victim[:4], victim+".cacnk")); err != nil {
		t.Fatal(err)
	}
	expect(t, 1, nil, []string{victim}, "untar", "-i", "-s", store, idx, filepath.Join(dir, "out-missing"))

}

// TestTarInputFormat: a tar stream (GNU tar's own, from stdin) archives to
// the same files and modes as the directory it was made of.
func TestTarInputFormat(t *testing.T) {
	isolate(t)
	gnuTar, err := exec.LookPath("tar")
	if err != nil {
		t.Skip("no tar binary")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeTree(t, src, 20, 5)
	os.Symlink("a/a", filepath.Join(src, "link"))
	stream, err := exec.Command(gnuTar, "--format=posix", "-C", dir, "-cf", "-", "src").Output()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "fromtar.catar")
	mustRun(t, stream, "tar", "--input-format", "tar", out, "-")
	// Files, types, modes, sizes and digests; tar has no chattr flags, so
	// the flags= field is left out of the comparison.
	fields := func(mtree string) string {
		var b strings.Builder
		for _, line := range strings.Split(mtree, "\n") {
			for _, f := range strings.Fields(line) {
				if strings.HasPrefix(f, "flags=") {
					continue
				}
				b.WriteString(f + " ")
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	if got, want := fields(mustRun(t, nil, "mtree", out).stdout), fields(mustRun(t, nil, "mtree", src).stdout); got != want {
		t.Errorf("tar input archive differs from the directory's:\n%s\nwant:\n%s", got, want)
	}
	// With --tar-add-root, src is a directory inside the archive.
	mustRun(t, stream, "tar", "--input-format", "tar", "--tar-add-root", out, "-")
	if got := mustRun(t, nil, "mtree", out).stdout; !strings.Contains(got, "\nsrc type=dir") {
		t.Errorf("--tar-add-root: no src directory:\n%s", got)
	}
}

// TestCasyncReadsOurArchives: the real casync lists our catar and extracts
// our caidx from our store.
func TestCasyncReadsOurArchives(t *testing.T) {
	isolate(t)
	casync := casyncPath(t)
	needRootCLI(t)
	tree := vectorTree(t)
	dir := t.TempDir()
	catarPath, idx, store := filepath.Join(dir, "t.catar"), filepath.Join(dir, "t.caidx"), filepath.Join(dir, "store")
	mustRun(t, nil, "tar", catarPath, tree)
	mustRun(t, nil, "tar", "-i", "-s", store, idx, tree)
	list, err := exec.Command(casync, "list", catarPath).Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(list) != string(mustRead(t, vector("tree.list.txt"))) {
		t.Errorf("casync list of our catar:\n%s", list)
	}
	out := filepath.Join(dir, "out")
	execOK(t, casync, "extract", "--store="+store, idx, out)
	if got := mustRun(t, nil, "mtree", out).stdout; got != string(mustRead(t, vector("tree.mtree.txt"))) {
		t.Errorf("casync extract of our caidx, mtree:\n%s", got)
	}
}

// TestUntarSeedReflink: on XFS, files of the new archive that a seed tree
// holds whole are cloned from it (shared extents), verified, and counted.
func TestUntarSeedReflink(t *testing.T) {
	isolate(t)
	mnt := reflinktest.XFSMount(t)
	v1, v2 := filepath.Join(mnt, "v1"), filepath.Join(mnt, "v2")
	writeTree(t, v1, 12, 7) // files of 1 KB to 200 KB
	big := filepath.Join(v1, "big.bin")
	writeFile(t, big, genRandom(t, 3<<20, 8))
	if out, err := exec.Command("cp", "-a", v1, v2).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v: %s", err, out)
	}
	writeFile(t, filepath.Join(v2, "a", "a", "f0a"), []byte("changed"))
	store := filepath.Join(mnt, "store")
	mustRun(t, nil, "tar", "-i", "-s", store, filepath.Join(mnt, "v1.caidx"), v1)
	mustRun(t, nil, "tar", "-i", "-s", store, filepath.Join(mnt, "v2.caidx"), v2)
	old := filepath.Join(mnt, "old")
	mustRun(t, nil, "untar", "-i", "-s", store, filepath.Join(mnt, "v1.caidx"), old)
	out := filepath.Join(mnt, "new")
	r := mustRun(t, nil, "untar", "--print-stats", "-i", "-s", store, "--seed", filepath.Join(mnt, "v1.caidx")+":"+old, filepath.Join(mnt, "v2.caidx"), out)
	var stats struct {
		Archive struct {
			Cloned int64 `json:"cloned"`
		} `json:"archive"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &stats); err != nil {
		t.Fatal(err)
	}
	if stats.Archive.Cloned < 3<<20 {
		t.Errorf("%d bytes cloned, want at least big.bin's %d:\n%s", stats.Archive.Cloned, 3<<20, r.stdout)
	}
	if shared := reflinktest.SharedExtentBytes(t, filepath.Join(out, "big.bin")); shared < 3<<20 {
		t.Errorf("big.bin shares %d bytes with the seed, want all %d", shared, 3<<20)
	}
	if got, want := mustRun(t, nil, "mtree", out).stdout, mustRun(t, nil, "mtree", v2).stdout; got != want {
		t.Fatal("the extracted tree differs from v2")
	}
	// A seed file changed in place after extraction (same size): cloned,
	// found different, corrected.
	f, err := os.OpenFile(filepath.Join(old, "big.bin"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("scribbled over the seed"), 1<<20)
	f.Close()
	out2 := filepath.Join(mnt, "new2")
	mustRun(t, nil, "untar", "-i", "-s", store, "--seed", filepath.Join(mnt, "v1.caidx")+":"+old, filepath.Join(mnt, "v2.caidx"), out2)
	if !bytes.Equal(mustRead(t, filepath.Join(out2, "big.bin")), mustRead(t, filepath.Join(v2, "big.bin"))) {
		t.Fatal("a clone of a changed seed file was not corrected")
	}
}
