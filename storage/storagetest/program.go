package storagetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// GoProgram returns the path of a test server installed with go install
// (install is the command, for the message): found in PATH, else in
// $GOBIN, else in $(go env GOPATH)/bin. Missing, it skips t, or fails t
// when the environment has CI=true (CI installs the servers, and a test
// that needs one must not pass by skipping).
func GoProgram(t testing.TB, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	dirs := []string{os.Getenv("GOBIN")}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, p := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found in PATH, $GOBIN or $(go env GOPATH)/bin, and CI requires it (%s)", name, install)
	}
	t.Skipf("%s not found in PATH, $GOBIN or $(go env GOPATH)/bin (%s)", name, install)
	return ""
}
