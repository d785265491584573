package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

// testRepo makes a git repository holding a small monorepo: alpha (no
// sibling), beta (requires alpha, replaced by ../alpha as on main) and
// gamma (on its own), in that release order, with changelog entries for
// v0.1.0 and v0.2.0. The go command runs offline with its own module cache.
func testRepo(t *testing.T) (string, func(args ...string) string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	cache := t.TempDir()
	t.Cleanup(func() { removeAll(cache) }) // read-only module cache: runs before TempDir's removal
	for k, v := range map[string]string{
		"GOMODCACHE": cache, "GOPROXY": "off", "GOFLAGS": "", "GOTOOLCHAIN": "local", "GOWORK": "off",
		"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
		"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
		"GIT_CONFIG_GLOBAL": os.DevNull, "GIT_CONFIG_NOSYSTEM": "1",
	} {
		t.Setenv(k, v)
	}
	git := func(args ...string) string {
		t.Helper()
		out, err := (&repo{dir: dir}).git(args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("modules.txt", "# release order\nalpha\nbeta\ngamma\n")
	write("alpha/go.mod", "module github.com/folbricht/desync/alpha\n\ngo 1.24\n")
	write("alpha/alpha.go", "package alpha\n\nconst A = 1\n")
	write("beta/go.mod", "module github.com/folbricht/desync/beta\n\ngo 1.24\n\n"+
		"require github.com/folbricht/desync/alpha v0.0.0\n\n"+
		"replace github.com/folbricht/desync/alpha => ../alpha\n")
	write("beta/beta.go", "package beta\n\nimport \"github.com/folbricht/desync/alpha\"\n\nconst B = alpha.A + 1\n")
	write("beta/testdata/x.txt", "test data\n")
	write("gamma/go.mod", "module github.com/folbricht/desync/gamma\n\ngo 1.24\n")
	write("gamma/gamma.go", "package gamma\n")
	write("CHANGELOG.md", "## alpha\n### v0.1.0\n### v0.2.0\n## beta\n### v0.1.0\n### v0.2.0\n## gamma\n### v0.1.0\n")
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "initial")
	return dir, git
}

// runTool runs the tool on dir and returns its standard output.
func runTool(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(append([]string{"--repo", dir}, args...), &out, &errb)
	if testing.Verbose() {
		t.Logf("release %s:\n%s%s", strings.Join(args, " "), out.String(), errb.String())
	}
	return out.String(), err
}

func TestDryRunPlansEveryModuleAtFirst(t *testing.T) {
	dir, _ := testRepo(t)
	out, err := runTool(t, dir, "--dry-run", "v0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"alpha          (none) → v0.1.0: never released",
		"beta           (none) → v0.1.0: never released; requires released alpha",
		"requires alpha@v0.1.0",
		"gamma          (none) → v0.1.0: never released",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
}

func TestTagThenReleaseWhatChanged(t *testing.T) {
	dir, git := testRepo(t)
	head := git("rev-parse", "HEAD")
	if _, err := runTool(t, dir, "v0.1.0"); err != nil {
		t.Fatal(err)
	}
	if got := git("rev-parse", "HEAD"); got != head {
		t.Fatalf("HEAD moved from %s to %s", head, got)
	}
	if st := git("status", "--porcelain"); st != "" {
		t.Fatalf("work tree changed:\n%s", st)
	}
	if got := git("tag", "--list"); got != "alpha/v0.1.0\nbeta/v0.1.0\ngamma/v0.1.0" {
		t.Fatalf("tags:\n%s", got)
	}
	// beta's tagged go.mod requires alpha at its release, with no replace.
	f, err := modfile.Parse("go.mod", []byte(git("show", "beta/v0.1.0:beta/go.mod")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Replace) != 0 || len(f.Require) != 1 || f.Require[0].Mod.String() != "github.com/folbricht/desync/alpha@v0.1.0" {
		t.Errorf("beta/v0.1.0's go.mod:\n%s", git("show", "beta/v0.1.0:beta/go.mod"))
	}
	if sum := git("show", "beta/v0.1.0:beta/go.sum"); !strings.Contains(sum, "github.com/folbricht/desync/alpha v0.1.0 h1:") {
		t.Errorf("beta/v0.1.0's go.sum lacks alpha's hash:\n%s", sum)
	}
	// main's go.mod keeps its replace; the release commits are on the side branch.
	if !strings.Contains(git("show", "HEAD:beta/go.mod"), "replace") {
		t.Error("beta/go.mod at HEAD lost its replace")
	}
	if got := git("rev-parse", "release-v0.1.0"); got != git("rev-parse", "gamma/v0.1.0^{commit}") {
		t.Errorf("branch release-v0.1.0 is at %s, not at the last release commit", got)
	}
	if msg := git("show", "-s", "--format=%B", "alpha/v0.1.0^{commit}"); !strings.Contains(msg, sourceTrailer+": "+head) {
		t.Errorf("release commit names no source:\n%s", msg)
	}

	// The same version again is refused.
	if _, err := runTool(t, dir, "--dry-run", "v0.1.0"); err == nil || !strings.Contains(err.Error(), "not above") {
		t.Errorf("releasing v0.1.0 twice: %v, want a refusal", err)
	}

	// alpha changes: alpha and beta (which requires it) are released, gamma is not.
	os.WriteFile(filepath.Join(dir, "alpha/alpha.go"), []byte("package alpha\n\nconst A = 2\n"), 0o644)
	git("commit", "-q", "-am", "alpha: A is 2")
	out, err := runTool(t, dir, "--dry-run", "v0.2.0")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"alpha          v0.1.0 → v0.2.0: files changed since alpha/v0.1.0",
		"beta           v0.1.0 → v0.2.0: requires released alpha",
		"gamma          v0.1.0, unchanged",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}

	// --proxy writes exactly the two released modules; the zip holds the
	// released go.mod and the test data.
	proxy := filepath.Join(t.TempDir(), "proxy")
	if _, err := runTool(t, dir, "--proxy", proxy, "v0.2.0"); err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.Walk(proxy, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			rel, _ := filepath.Rel(proxy, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	want := []string{}
	for _, m := range []string{"alpha", "beta"} {
		for _, f := range []string{"list", "v0.2.0.info", "v0.2.0.mod", "v0.2.0.zip"} {
			want = append(want, "github.com/folbricht/desync/"+m+"/@v/"+f)
		}
	}
	if strings.Join(files, "\n") != strings.Join(want, "\n") {
		t.Errorf("proxy files:\n%s\nwant:\n%s", strings.Join(files, "\n"), strings.Join(want, "\n"))
	}
	zr, err := zip.OpenReader(filepath.Join(proxy, "github.com/folbricht/desync/beta/@v/v0.2.0.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	names := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		names[f.Name] = string(data)
	}
	gomod := names["github.com/folbricht/desync/beta@v0.2.0/go.mod"]
	if !strings.Contains(gomod, "github.com/folbricht/desync/alpha v0.2.0") || strings.Contains(gomod, "replace") {
		t.Errorf("beta@v0.2.0's zipped go.mod:\n%s", gomod)
	}
	if _, ok := names["github.com/folbricht/desync/beta@v0.2.0/testdata/x.txt"]; !ok {
		t.Errorf("beta@v0.2.0's zip lacks testdata: %v", names)
	}
	if list, _ := os.ReadFile(filepath.Join(proxy, "github.com/folbricht/desync/beta/@v/list")); string(list) != "v0.2.0\n" {
		t.Errorf("list: %q", list)
	}

	// A module without a changelog entry: --dry-run warns, tagging refuses,
	// --proxy accepts it only when told to.
	if _, err := runTool(t, dir, "--dry-run", "v0.3.0"); err != nil {
		t.Errorf("--dry-run without changelog entries: %v, want a warning only", err)
	}
	if _, err := runTool(t, dir, "v0.3.0"); err == nil || !strings.Contains(err.Error(), "CHANGELOG.md") {
		t.Errorf("tagging without changelog entries: %v, want a refusal", err)
	}
	if _, err := runTool(t, dir, "--proxy", t.TempDir(), "v0.3.0"); err == nil || !strings.Contains(err.Error(), "CHANGELOG.md") {
		t.Errorf("--proxy without changelog entries: %v, want a refusal", err)
	}
	if _, err := runTool(t, dir, "--proxy", t.TempDir(), "--allow-missing-changelog", "v0.3.0"); err != nil {
		t.Errorf("--proxy --allow-missing-changelog: %v", err)
	}

	// A dirty tree is refused.
	os.WriteFile(filepath.Join(dir, "gamma/new.go"), []byte("package gamma\n"), 0o644)
	if _, err := runTool(t, dir, "--proxy", t.TempDir(), "v0.2.0"); err == nil || !strings.Contains(err.Error(), "not clean") {
		t.Errorf("dirty tree: %v, want a refusal", err)
	}
}
