package cli

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/folbricht/desync/storage-sftp/sftptest"
)

// runWithin runs the command line with a deadline well under the 30 s a
// failure may take: a hang shows as a deadline error, not as a stuck test.
func runWithin(t *testing.T, d time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out, errb bytes.Buffer
	code := Run(ctx, args, Stdio{In: bytes.NewReader(nil), Out: &out, Err: &errb})
	if ctx.Err() != nil {
		t.Errorf("%v: still running after %v", args, d)
	}
	return result{code, out.String(), errb.String()}
}

// TestSFTP makes into an sftp:// store and index store on a real sshd,
// extracts back from them (with and without a cache), has casync read the
// server's directory as a local store, and checks that a wrong key, a
// missing remote directory and an unreachable host each fail clearly and
// write nothing.
func TestSFTP(t *testing.T) {
	isolate(t)
	srv := sftptest.Start(t)
	t.Setenv("CASYNC_SSH_PATH", srv.SSH)
	for _, d := range []string{"store", "index"} {
		if err := os.Mkdir(srv.Dir(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	store, indexes := srv.Location("store"), srv.Location("index")
	index := indexes + "blob.caibx"
	data := genRandom(t, 6<<20, 14)
	input := writeFile(t, filepath.Join(t.TempDir(), "blob"), data)

	mustRun(t, nil, "make", "-n", "4", "-s", store, index, input)
	ix := readIndex(t, filepath.Join(srv.Dir("index"), "blob.caibx"))
	ids := uniqueIDs(ix)
	assertSameIDs(t, "the server's store directory", storeChunks(t, srv.Dir("store")), ids)
	assertNoTemp(t, srv.Root)

	extractOK(t, data, index, "-s", store, "-n", "4")
	cache := filepath.Join(t.TempDir(), "cache")
	extractOK(t, data, index, "-s", store, "-c", cache)
	assertSameIDs(t, "the cache", storeChunks(t, cache), ids)

	t.Run("casync", func(t *testing.T) {
		casync := casyncPath(t)
		out := filepath.Join(t.TempDir(), "out")
		execOK(t, casync, "extract", "--store="+srv.Dir("store"), filepath.Join(srv.Dir("index"), "blob.caibx"), out)
		if !bytes.Equal(mustRead(t, out), data) {
			t.Error("casync extracted something else from the server's directory")
		}
	})

	// Prune and verify list the remote store: a second file's chunks go,
	// the index's stay, and what stays verifies.
	other := writeFile(t, filepath.Join(t.TempDir(), "other"), genRandom(t, 1<<20, 15))
	mustRun(t, nil, "make", "-s", store, filepath.Join(t.TempDir(), "other.caibx"), other)
	if n := len(storeChunks(t, srv.Dir("store"))); n <= len(ids) {
		t.Fatalf("the store holds %d chunks after a second make, want more than %d", n, len(ids))
	}
	mustRun(t, nil, "prune", "-s", store, "-y", index)
	assertSameIDs(t, "the server's store directory after prune", storeChunks(t, srv.Dir("store")), ids)
	mustRun(t, nil, "verify", "-s", store)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	unreachable := func(loc string) string {
		u, _ := url.Parse(loc)
		u.Host = net.JoinHostPort("127.0.0.1", closed)
		return u.String()
	}
	if err := os.Mkdir(srv.Dir("empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, ssh, store, index string
		want                    []string
	}{
		{"WrongKey", srv.WrongKeySSH, srv.Location("empty"), indexes + "new.caibx", []string{"authentication failed", "Permission denied"}},
		{"MissingDirectory", srv.SSH, srv.Location("missing"), srv.Location("missing") + "new.caibx", []string{"missing", "does not exist"}},
		{"Unreachable", srv.SSH, unreachable(srv.Location("empty")), unreachable(indexes) + "new.caibx", []string{"127.0.0.1:" + closed, "host unreachable", "Connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CASYNC_SSH_PATH", tc.ssh)
			r := runWithin(t, 25*time.Second, "make", "-s", tc.store, tc.index, input)
			check := func(cmd string, r result) {
				t.Helper()
				if r.code == 0 {
					t.Fatalf("%s: succeeded", cmd)
				}
				for _, w := range tc.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("%s: stderr %q does not say %q", cmd, r.stderr, w)
					}
				}
				t.Logf("%s: %s", cmd, strings.TrimSpace(r.stderr))
			}
			check("make", r)
			// Chunks into the failing store, the index into a good one.
			r = runWithin(t, 25*time.Second, "make", "-s", tc.store, filepath.Join(t.TempDir(), "x.caibx"), input)
			check("make with a local index", r)
			r = runWithin(t, 25*time.Second, "extract", "-s", tc.store, index, filepath.Join(t.TempDir(), "out"))
			check("extract", r)
			// The index store fails first, on the same host as the store.
			if u, _ := url.Parse(tc.store); !strings.Contains(r.stderr, "sftp://"+u.User.Username()+"@"+u.Host+"/") {
				t.Errorf("extract: stderr %q does not name the store's host %s", r.stderr, u.Host)
			}
			for _, d := range []string{"empty", "missing"} {
				entries, _ := os.ReadDir(srv.Dir(d))
				if len(entries) != 0 {
					t.Errorf("%s holds %d entries after the failures, want none", d, len(entries))
				}
			}
			if _, err := os.Stat(filepath.Join(srv.Dir("index"), "new.caibx")); err == nil {
				t.Error("an index was written")
			}
		})
	}
}

// TestSFTPHostile: store locations that ssh could read as options run
// nothing, whatever the command.
func TestSFTPHostile(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	pwned := filepath.Join(dir, "pwned")
	input := writeFile(t, filepath.Join(dir, "in"), genRandom(t, 64<<10, 1))
	for _, loc := range []string{
		"sftp://-oProxyCommand=touch%20" + pwned + "@localhost/x/",
		"sftp://-oProxyCommand=touch%20" + pwned + "/x/", // not even a URL
		"sftp://-oProxyCommand=sh/x/",
		"sftp://-lroot@localhost/x/",
	} {
		r := runWithin(t, 25*time.Second, "make", "-s", loc, loc+"x.caibx", input)
		if r.code == 0 || !strings.Contains(r.stderr, "refused") && !strings.Contains(r.stderr, "bad store location") {
			t.Errorf("make into %s: exit %d, stderr %q; want a refusal", loc, r.code, r.stderr)
		}
		r = runWithin(t, 25*time.Second, "extract", "-s", loc, loc+"x.caibx", filepath.Join(dir, "out"))
		if r.code == 0 {
			t.Errorf("extract from %s succeeded", loc)
		}
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Error("a hostile location ran a command")
	}
}
