package sshstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// fillStore writes n random chunks into a local store at dir and returns
// them.
func fillStore(t *testing.T, dir string, n int) []*chunk.Chunk {
	t.Helper()
	l, err := storage.NewLocal(dir, storage.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := rand.New(rand.NewPCG(uint64(n), 7))
	var cs []*chunk.Chunk
	for i := range n {
		b := make([]byte, 1000+i*997)
		for j := range b {
			b[j] = byte(r.IntN(16)) // compressible
		}
		c := chunk.New(chunk.SHA512_256.Sum(b), b)
		if err := l.StoreChunk(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return cs
}

// open opens the store at location with n connections.
func open(t *testing.T, location string, n int) (*Store, error) {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		return nil, err
	}
	return New(context.Background(), u, storage.Options{N: n})
}

func mustOpen(t *testing.T, location string, n int) *Store {
	t.Helper()
	s, err := open(t, location, n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// useFake makes the test binary the ssh command, playing scenario over
// the store in dir.
func useFake(t *testing.T, scenario, dir string) {
	t.Setenv("CASYNC_SSH_PATH", os.Args[0])
	t.Setenv(fakeEnv, scenario)
	t.Setenv("SSHSTORE_DIR", dir)
}

// required: tests that need casync fail instead of skipping in CI.
func required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("DESYNC_REQUIRE_CASYNC") != ""
}

func casyncPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("casync")
	if err != nil {
		if required() {
			t.Fatal("casync is not installed, and CI requires the interop tests (apt-get install casync)")
		}
		t.Skip("casync is not installed; apt-get install casync to run the interop tests")
	}
	return p
}

// useCasync makes the ssh command a stand-in for ssh (a script, like
// testdata/casync/fakessh.sh: it drops the options, "--" and the host and
// hands the rest to sh -c, as sshd does) and the remote program a script
// that records its arguments, one per line, in logdir/remote-argv and
// runs casync with them. The stand-in records its own in logdir/ssh-argv.
func useCasync(t *testing.T, logdir string) {
	t.Helper()
	casync := casyncPath(t)
	ssh := filepath.Join(logdir, "fakessh")
	writeScript(t, ssh, fmt.Sprintf(`#!/bin/sh
printf '%%s\n' "$@" > %s
while [ $# -gt 0 ]; do
	case "$1" in
		--) shift; break ;;
		-[bcDEeFIiJLlmOopQRSWw]) shift 2 ;;
		-*) shift ;;
		*) break ;;
	esac
done
shift
exec sh -c "$*"
`, ShellQuote(filepath.Join(logdir, "ssh-argv"))))
	remote := filepath.Join(logdir, "remote")
	writeScript(t, remote, fmt.Sprintf(`#!/bin/sh
printf '%%s\n' "$@" > %s
exec %s "$@"
`, ShellQuote(filepath.Join(logdir, "remote-argv")), ShellQuote(casync)))
	t.Setenv("CASYNC_SSH_PATH", ssh)
	t.Setenv("CASYNC_REMOTE_PATH", remote)
}

func writeScript(t *testing.T, p, body string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}
