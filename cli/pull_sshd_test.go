package cli

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/folbricht/desync/storage-sftp/sftptest"
	"github.com/folbricht/desync/storage/sshstore"
)

// The ssh:// store and the pull command through a real sshd (key-only
// login on 127.0.0.1, started by sftptest), with the real casync on
// either end. Missing sshd or casync: skipped locally, a failure with
// CI=true.

// sshdStore starts sshd, points CASYNC_SSH_PATH at its ssh wrapper (key
// and known_hosts) and makes a local store at a path under the server's
// root holding a space, a quote, $(…) and ; whose commands would create
// pwned files (in dir, the test's working directory, or the remote
// user's home) if the path ever reached a shell unquoted. It returns the
// server, the store path, the index and the data it was made from.
func sshdStore(t *testing.T, dir string) (srv *sftptest.Server, store, index string, data []byte) {
	t.Helper()
	srv = sftptest.Start(t)
	t.Setenv("CASYNC_SSH_PATH", srv.SSH)
	store = srv.Dir(`st it's $(touch desync-pwned-1); touch desync-pwned-2`)
	data = genRandom(t, 3<<20, 47)
	in := writeFile(t, filepath.Join(dir, "in"), data)
	index = filepath.Join(dir, "x.caibx")
	mustRun(t, nil, "make", "-s", store, index, in)
	return srv, store, index, data
}

// sshLocation is ssh://user@127.0.0.1:port/<path>, the path escaped.
func sshLocation(srv *sftptest.Server, path string) string {
	return (&url.URL{Scheme: "ssh", User: url.User(srv.User), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port)), Path: path}).String()
}

// assertNothingRan fails if a pwned file exists in dir or in the home
// directory of the remote (current) user.
func assertNothingRan(t *testing.T, dir string) {
	t.Helper()
	dirs := []string{dir}
	if u, err := user.Current(); err == nil && u.HomeDir != "" {
		dirs = append(dirs, u.HomeDir)
	}
	for _, d := range dirs {
		for _, f := range []string{"desync-pwned-1", "desync-pwned-2", "X", "touch"} {
			if _, err := os.Stat(filepath.Join(d, f)); err == nil {
				t.Errorf("%s was created in %s: a location was executed", f, d)
			}
		}
	}
}

// TestSSHDStoreCasyncPull: desync extract from an ssh:// store over real
// sshd, served by the real casync pull; the path with a space and a quote
// reaches it intact, nothing in it runs.
func TestSSHDStoreCasyncPull(t *testing.T) {
	isolate(t)
	casyncPath(t)
	dir := t.TempDir()
	t.Chdir(dir)
	srv, store, index, data := sshdStore(t, dir)
	t.Setenv("CASYNC_REMOTE_PATH", "casync")
	out := filepath.Join(dir, "out")
	mustRun(t, nil, "extract", "-s", sshLocation(srv, store), index, out)
	if !bytes.Equal(mustRead(t, out), data) {
		t.Fatal("extract through casync pull over sshd differs from the input")
	}
	assertNothingRan(t, dir)
}

// TestSSHDStoreDesyncPull: the same with our desync as the remote
// program (CASYNC_REMOTE_PATH), with several connections; a missing
// remote directory fails naming the store, and writes nothing.
func TestSSHDStoreDesyncPull(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	bin := desyncBinary(t) // built from the package directory, before Chdir
	t.Chdir(dir)
	srv, store, index, data := sshdStore(t, dir)
	t.Setenv("CASYNC_REMOTE_PATH", bin)
	out := filepath.Join(dir, "out")
	mustRun(t, nil, "extract", "-n", "4", "-s", sshLocation(srv, store), index, out)
	if !bytes.Equal(mustRead(t, out), data) {
		t.Fatal("extract through desync pull over sshd differs from the input")
	}
	assertNothingRan(t, dir)

	missing := sshLocation(srv, srv.Dir("no such dir"))
	out2 := filepath.Join(dir, "out2")
	expect(t, 1, nil, []string{missing, "no such directory"}, "extract", "-s", missing, index, out2)
	if _, err := os.Stat(out2); err == nil {
		t.Errorf("extract from a missing remote directory wrote %s", out2)
	}
}

// TestSSHDCasyncExtractFromDesyncPull: the real casync extract, with its
// own host:path store syntax, fetches chunks (and the index) through
// real sshd from our desync pull.
func TestSSHDCasyncExtractFromDesyncPull(t *testing.T) {
	isolate(t)
	casync := casyncPath(t)
	dir := t.TempDir()
	bin := desyncBinary(t) // built from the package directory, before Chdir
	t.Chdir(dir)
	srv, store, index, data := sshdStore(t, dir)
	t.Setenv("CASYNC_REMOTE_PATH", bin)
	// casync's host:path has no port: a wrapper adds it.
	withPort := filepath.Join(dir, "ssh-port")
	writeFile(t, withPort, fmt.Appendf(nil, "#!/bin/sh\nexec %s -p %d \"$@\"\n", sshstore.ShellQuote(srv.SSH), srv.Port))
	if err := os.Chmod(withPort, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CASYNC_SSH_PATH", withPort)
	host := srv.User + "@127.0.0.1"

	// A store path casync passes on unquoted would not survive its remote
	// shell, so casync gets a plain one: a link to the store.
	plain := srv.Dir("plain")
	if err := os.Symlink(store, plain); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if b, err := exec.Command(casync, "extract", "--store="+host+":"+plain, index, out).CombinedOutput(); err != nil {
		t.Fatalf("casync extract through desync pull over sshd: %v\n%s", err, b)
	}
	if !bytes.Equal(mustRead(t, out), data) {
		t.Fatal("casync's extract through desync pull over sshd differs from the input")
	}
	remoteIndex := srv.Dir("x.caibx")
	writeFile(t, remoteIndex, mustRead(t, index))
	out2 := filepath.Join(dir, "out2")
	if b, err := exec.Command(casync, "extract", "--store="+host+":"+plain, host+":"+remoteIndex, out2).CombinedOutput(); err != nil {
		t.Fatalf("casync extract of a remote index through desync pull over sshd: %v\n%s", err, b)
	}
	if !bytes.Equal(mustRead(t, out2), data) {
		t.Fatal("casync's extract of a remote index differs from the input")
	}
	assertNothingRan(t, dir)
}

// TestSSHDHostileLocations: locations that would smuggle an ssh option
// (as host or as user) are refused before ssh runs, with a real ssh
// behind CASYNC_SSH_PATH.
func TestSSHDHostileLocations(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	bin := desyncBinary(t) // built from the package directory, before Chdir
	t.Chdir(dir)
	srv, _, index, _ := sshdStore(t, dir)
	t.Setenv("CASYNC_REMOTE_PATH", bin)
	port := strconv.Itoa(srv.Port)
	for _, loc := range []string{
		"ssh://-oProxyCommand=touch%20X/" + srv.Root,
		"ssh://-oProxyCommand=touch:" + port + "/" + srv.Root,
		"ssh://-oProxyCommand=touch%20X@127.0.0.1:" + port + "/" + srv.Root,
		"ssh://127.0.0.1:" + port + "/" + srv.Root + "/$(touch%20X)",
	} {
		out := filepath.Join(dir, "out")
		r := run(t, nil, "extract", "-s", loc, index, out)
		if r.code == 0 {
			t.Errorf("%s: extract worked", loc)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: extract wrote %s", loc, out)
			os.Remove(out)
		}
	}
	assertNothingRan(t, dir)
}
