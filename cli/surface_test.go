package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// needTool returns the path of a program the test needs; missing, the test
// is skipped, or fails under CI, where .ci/run installs it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (.ci/run installs it)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

func TestVersion(t *testing.T) {
	isolate(t)
	long := mustRun(t, nil, "version").stdout
	if short := mustRun(t, nil, "--version").stdout; short != long {
		t.Errorf("--version printed\n%s\nversion printed\n%s", short, long)
	}
	first, rest, _ := strings.Cut(long, "\n")
	if !strings.HasPrefix(first, "desync ") || len(first) <= len("desync ") {
		t.Errorf("first line %q, want desync and a version", first)
	}
	if !strings.Contains(rest, "go1.") {
		t.Errorf("version output lacks the Go version:\n%s", long)
	}
	// A test binary records no modules but its own: ask the real one.
	out, err := exec.Command(desyncBinary(t), "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"go1.", modulePrefix + "cli ", modulePrefix + "chunk ", modulePrefix + "storage-s3 "} {
		if !strings.Contains(string(out), m) {
			t.Errorf("desync --version lacks %q:\n%s", m, out)
		}
	}
	defer func(v string) { Version = v }(Version)
	Version = "v9.8.7"
	if got := mustRun(t, nil, "version").stdout; !strings.HasPrefix(got, "desync v9.8.7\n") {
		t.Errorf("with Version stamped, version printed %q", got)
	}
	expect(t, 2, nil, []string{"wrong number of arguments"}, "version", "extra")
}

// complete runs the bash completion script for a command line whose last
// word is being typed, and returns the candidates bash would offer.
func complete(t *testing.T, bash, script string, words ...string) []string {
	t.Helper()
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + w + "'"
	}
	prog := fmt.Sprintf("%s\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_desync\nprintf '%%s\\n' \"${COMPREPLY[@]}\"\n",
		script, strings.Join(quoted, " "), len(words)-1)
	out, err := exec.Command(bash, "--norc", "--noprofile", "-c", prog).Output()
	if err != nil {
		t.Fatalf("bash completion of %q: %v", words, err)
	}
	return strings.Fields(string(out))
}

func TestCompletionBash(t *testing.T) {
	isolate(t)
	bash := needTool(t, "bash")
	script := mustRun(t, nil, "completion", "bash").stdout
	if out, err := exec.Command(bash, "-n", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		words []string
		want  string // one candidate, or "" for none
	}{
		{[]string{"desync", "extr"}, "extract"},
		{[]string{"desync", "mount-"}, "mount-index"},
		{[]string{"desync", "--config", "x.json", "untar", "--no-same-o"}, "--no-same-owner"},
		{[]string{"desync", "extract", "--st"}, "--store"},
		{[]string{"desync", "make", "-s"}, "-s"},
		{[]string{"desync", "--config", "extract", "--st"}, ""}, // "extract" is --config's value
		{[]string{"desync", "--digest", "sha5"}, "sha512-256"},
		{[]string{"desync", "help", "chunk-s"}, "chunk-server"},
		{[]string{"desync", "completion", "--verb"}, "--verbose"},
	} {
		got := complete(t, bash, script, tc.words...)
		switch {
		case tc.want == "" && len(got) != 0:
			t.Errorf("%q: offered %q, want nothing (a value)", tc.words, got)
		case tc.want != "" && (len(got) != 1 || got[0] != tc.want):
			t.Errorf("%q: offered %q, want %q", tc.words, got, tc.want)
		}
	}
}

func TestCompletionShells(t *testing.T) {
	isolate(t)
	a := &app{}
	names := []string{}
	for _, c := range commands(a) {
		names = append(names, c.Name)
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out := mustRun(t, nil, "completion", shell).stdout
		for _, n := range append(names, "chunk-size", "cor-state-save", "store-file") {
			if !strings.Contains(out, n) {
				t.Errorf("%s completion does not name %s", shell, n)
			}
		}
		if p, err := exec.LookPath(shell); err == nil {
			if o, err := exec.Command(p, "-n", "-c", out).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, o)
			}
		}
	}
	expect(t, 2, nil, []string{`unknown shell "tcsh"`}, "completion", "tcsh")
	expect(t, 2, nil, []string{"wrong number of arguments"}, "completion")
}

func TestManpage(t *testing.T) {
	isolate(t)
	dir := filepath.Join(t.TempDir(), "man")
	mustRun(t, nil, "manpage", "--section", "1", dir)
	pages, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		t.Fatal(err)
	}
	if want := len(commands(&app{})) + 2; len(pages) != want { // desync.1 and help
		t.Errorf("%d pages, want %d: %v", len(pages), want, pages)
	}
	man := needTool(t, "man")
	for _, tc := range []struct{ page, want string }{
		{"desync.1", "mount-index"},
		{"desync-make.1", "--chunk-size"},
		{"desync-extract.1", "desync extract -s /var/store -c /var/cache image.caibx image.raw"},
		{"desync-mount-index.1", "--cor-state-save"},
	} {
		cmd := exec.Command(man, "--warnings", "-l", filepath.Join(dir, tc.page))
		cmd.Env = append(os.Environ(), "MANWIDTH=200", "MANPAGER=cat", "PAGER=cat")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Errorf("man -l %s: %v; stderr:\n%s", tc.page, err, stderr.String())
			continue
		}
		// man writes dashes as it likes and bold as overstrikes.
		plain := regexp.MustCompile(".\b").ReplaceAllString(string(out), "")
		text := strings.Join(strings.Fields(strings.NewReplacer("‐", "-", "−", "-").Replace(plain)), " ")
		if !strings.Contains(text, tc.want) {
			t.Errorf("man -l %s does not show %q:\n%s", tc.page, tc.want, text)
		}
	}
	mustRun(t, nil, "manpage", dir) // the original's default section, 3
	if _, err := os.Stat(filepath.Join(dir, "desync-tar.3")); err != nil {
		t.Error(err)
	}
	expect(t, 2, nil, []string{"--section"}, "manpage", "--section", "a/b", dir)
}
