package catar

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestExtractAsUser runs an extraction of tree.catar as uid/gid 65534 (in
// a copy of the test binary): what a user may not do (chown to others,
// device nodes) is skipped and counted, the rest is restored.
func TestExtractAsUser(t *testing.T) {
	if dir := os.Getenv("CATAR_EXTRACT_AS_USER"); dir != "" {
		f, err := os.Open("testdata/tree.catar")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, err := Extract(context.Background(), f, filepath.Join(dir, "out"), ExtractOptions{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("STATS skipped=%d devices=%d files=%d\n", st.Skipped, st.Devices, st.Files)
		return
	}
	needRoot(t)
	base := t.TempDir()
	if err := os.Chmod(base, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(base), 0o711); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "catar.test")
	if err := copyFile(self, bin); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	cmd := exec.Command(bin, "-test.run=^TestExtractAsUser$", "-test.v")
	cmd.Dir = wd
	cmd.Env = append(os.Environ(), "CATAR_EXTRACT_AS_USER="+base)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "permission denied") && strings.Contains(string(out), "testdata") {
			t.Skipf("testdata not readable by uid 65534: %s", out)
		}
		t.Fatalf("extract as uid 65534: %v\n%s", err, out)
	}
	var skipped, devices, files int
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "STATS ") {
			fmt.Sscanf(l, "STATS skipped=%d devices=%d files=%d", &skipped, &devices, &files)
		}
	}
	if skipped == 0 || files != 15 {
		t.Fatalf("skipped %d files %d\n%s", skipped, files, out)
	}
	fi, err := os.Stat(filepath.Join(base, "out", "setuid-bin"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || fi.Mode()&os.ModeSetuid == 0 || fi.ModTime().UnixNano() != 1600013000604938257 {
		t.Fatalf("setuid-bin: uid %d mode %v mtime %d", st.Uid, fi.Mode(), fi.ModTime().UnixNano())
	}
	if _, err := os.Lstat(filepath.Join(base, "out", "null-dev")); err == nil {
		t.Fatal("a user made a device node")
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
