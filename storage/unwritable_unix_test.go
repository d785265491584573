//go:build unix

package storage

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobody is the uid and gid of the unprivileged run.
const nobody = 65534

// runUnprivileged runs the test named name again, in a copy of this test
// binary started with uid and gid nobody, and fails t when that run fails or
// does not run the test. The copy and the run's temporary directory lie in
// directories that nobody may enter, and the temporary directory is its own.
func runUnprivileged(t *testing.T, name string) {
	t.Helper()
	work := t.TempDir()
	// t.TempDir makes its top directory 0700, and ours follows the umask:
	// open both to other users.
	for _, d := range []string{filepath.Dir(work), work} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(work, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(tmp, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(work, filepath.Base(self))
	if err := copyFile(bin, self); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), unprivilegedEnv+"=1", "TMPDIR="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if _, ran := err.(*exec.ExitError); err != nil && !ran {
		cannotTest(t, "cannot run %s as uid %d: %v", name, nobody, err)
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Errorf("%s as uid %d: %v\n%s", name, nobody, err, out)
	} else {
		t.Logf("%s as uid %d:\n%s", name, nobody, out)
	}
}

// copyFile copies the file src to dst, readable and executable by all.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
