package sftpstore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	sftpstore "github.com/folbricht/desync/storage-sftp"
	"github.com/folbricht/desync/storage/storagetest"
)

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func withPort(loc, port string) string {
	u, _ := url.Parse(loc)
	u.Host = net.JoinHostPort(u.Hostname(), port)
	return u.String()
}

func openStore(t *testing.T, loc string, o storage.Options) *storage.ObjectStore {
	t.Helper()
	s, err := sftpstore.NewStore(mustParse(t, loc), o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestUnreachable runs the suite for stores that cannot work: a missing
// remote directory and a port nobody listens on fail at once, permanently.
func TestUnreachable(t *testing.T) {
	srv := start(t)
	t.Run("MissingDirectory", func(t *testing.T) {
		storagetest.RunUnreachable(t, openStore(t, srv.Location("no such dir"), storage.Options{}))
		if _, err := os.Stat(srv.Dir("no such dir")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the missing store directory was created: %v", err)
		}
	})
	t.Run("ClosedPort", func(t *testing.T) {
		storagetest.RunUnreachable(t, openStore(t, withPort(srv.Location(""), closedPort(t)), storage.Options{}))
	})
	t.Run("SilentHost", func(t *testing.T) {
		// A port that takes connections and never answers, as a host
		// behind a firewall that drops packets: the session's start is
		// bounded by the store's timeout.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		s := openStore(t, withPort(srv.Location(""), port), storage.Options{Timeout: 500 * time.Millisecond})
		_, err = s.GetChunk(context.Background(), chunk.SHA512_256.Sum(nil))
		if err == nil || !strings.Contains(err.Error(), "host unreachable") {
			t.Errorf("GetChunk from a silent host: %v, want host unreachable", err)
		}
		storagetest.RunUnreachable(t, s)
	})
}

// TestFailures checks that each way a store cannot work says which it is,
// with ssh's own explanation, is permanent, and writes nothing.
func TestFailures(t *testing.T) {
	srv := start(t)
	loc, dir := newDir(t, srv)
	c := chunk.New(chunk.SHA512_256.Sum([]byte("x")), []byte("x"))
	for _, tc := range []struct {
		name, loc, ssh string
		want           []string
	}{
		{"WrongKey", loc, srv.WrongKeySSH, []string{"authentication failed", "Permission denied"}},
		{"WrongHostKey", loc, srv.WrongHostKeySSH, []string{"host key verification failed", "Host key verification failed"}},
		{"MissingDirectory", srv.Location("missing"), srv.SSH, []string{`remote directory "` + srv.Dir("missing") + `" does not exist`}},
		{"ClosedPort", withPort(loc, closedPort(t)), srv.SSH, []string{"host unreachable", "Connection refused"}},
		{"NoSSH", loc, filepath.Join(t.TempDir(), "no-ssh"), []string{"CASYNC_SSH_PATH"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(sftpstore.SSHPathEnv, tc.ssh)
			s, err := storage.Open(context.Background(), tc.loc, storage.DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = s.GetChunk(context.Background(), c.ID())
			check := func(op string, err error) {
				t.Logf("%s: %v", op, err)
				switch {
				case err == nil:
					t.Fatalf("%s: no error", op)
				case errors.Is(err, chunk.ErrMissing):
					t.Errorf("%s: %v is a missing chunk", op, err)
				case !storage.IsPermanent(err):
					t.Errorf("%s: %v is not permanent", op, err)
				case !strings.Contains(err.Error(), s.String()):
					t.Errorf("%s: %v does not name the store", op, err)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: %v does not say %q", op, err, w)
					}
				}
			}
			check("GetChunk", err)
			check("StoreChunk", s.(chunk.WriteStore).StoreChunk(context.Background(), c))
			entries, _ := os.ReadDir(dir)
			if len(entries) != 0 {
				t.Errorf("the store directory holds %d entries, want none", len(entries))
			}
		})
	}
}

// TestHostileLocations executes nothing: neither the ssh program nor
// anything the location names.
func TestHostileExecutesNothing(t *testing.T) {
	srv := start(t)
	tmp := t.TempDir()
	marker := filepath.Join(tmp, "ran")
	pwned := filepath.Join(tmp, "pwned")
	spy := filepath.Join(tmp, "ssh")
	if err := os.WriteFile(spy, []byte("#!/bin/sh\ntouch '"+marker+"'\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(srv.Port)
	hostile := []string{
		"sftp://-oProxyCommand=touch%20" + pwned + "@127.0.0.1:" + port + "/x",
		"sftp://-oProxyCommand=touch%20" + pwned + "/path",
		"sftp://-oProxyCommand=touch%20" + pwned + ":" + port + "/path",
		"sftp://-l@127.0.0.1:" + port + "/x",
	}
	for _, ssh := range []string{spy, srv.SSH} {
		t.Setenv(sftpstore.SSHPathEnv, ssh)
		for _, loc := range hostile {
			ctx := context.Background()
			s, err := storage.Open(ctx, loc, storage.DefaultOptions())
			if err == nil {
				s.GetChunk(ctx, chunk.SHA512_256.Sum(nil))
				s.Close()
				t.Errorf("%s: opened", loc)
			}
			if _, err := storage.OpenIndexStore(ctx, loc, storage.DefaultOptions()); err == nil {
				t.Errorf("%s: opened as an index store", loc)
			}
		}
	}
	for _, f := range []string{marker, pwned} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s exists: something ran", f)
		}
	}
}

// TestQuotedPath: a path with spaces, quotes and shell metacharacters
// reaches the server as it is.
func TestQuotedPath(t *testing.T) {
	srv := start(t)
	name := `a "b" 'c' $(touch x); d`
	if err := os.Mkdir(srv.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, srv.Location(name), storage.Options{})
	defer s.Close()
	c := chunk.New(chunk.SHA512_256.Sum([]byte("q")), []byte("q"))
	if err := s.StoreChunk(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(srv.Dir(name), s.Name(c.ID()))); err != nil {
		t.Errorf("chunk not in the directory named %q: %v", name, err)
	}
	if _, err := os.Stat(filepath.Join(srv.Root, "x")); err == nil {
		t.Error("a shell ran the path")
	}
}

// TestLayout: the server's directory is a casync store: exactly
// <4 hex>/<id>.cacnk, and nothing else once uploads are done.
func TestLayout(t *testing.T) {
	srv := start(t)
	loc, dir := newDir(t, srv)
	s := openStore(t, loc, storage.Options{N: 4})
	ctx := context.Background()
	want := map[string]bool{}
	for i := range 20 {
		b := []byte(strings.Repeat("layout", i+1))
		c := chunk.New(chunk.SHA512_256.Sum(b), b)
		if err := s.StoreChunk(ctx, c); err != nil {
			t.Fatal(err)
		}
		id := c.ID().String()
		want[id[:4]+"/"+id+".cacnk"] = true
	}
	s.Close()
	got := map[string]bool{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			got[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	for n := range want {
		if !got[n] {
			t.Errorf("%s missing on the server", n)
		}
	}
	for n := range got {
		if !want[n] {
			t.Errorf("unexpected file on the server: %s", n)
		}
	}
	// The server's directory reads back as a local store.
	l := local(t, dir, storage.Options{})
	defer l.Close()
	n := 0
	for _, err := range l.ListChunks(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != len(want) {
		t.Errorf("local store over the server's directory lists %d chunks, want %d", n, len(want))
	}
}

// TestRenameFallback: on a server without posix-rename, uploads still
// replace what is there, and leave no temporary file.
func TestRenameFallback(t *testing.T) {
	srv := start(t)
	loc, dir := newDir(t, srv)
	d, err := sftpstore.NewDriver(mustParse(t, loc), storage.Options{N: 1})
	if err != nil {
		t.Fatal(err)
	}
	sftpstore.SetNoPosixRename(d)
	defer d.Close()
	ctx := context.Background()
	for _, v := range []string{"one", "two", "three"} {
		if err := d.Put(ctx, "sub/x.caibx", []byte(v)); err != nil {
			t.Fatal(err)
		}
		b, err := d.Get(ctx, "sub/x.caibx", 100)
		if err != nil || string(b) != v {
			t.Fatalf("after Put(%q): %q, %v", v, b, err)
		}
	}
	t.Cleanup(func() { noTemp(t, dir) })
}

// TestConnectionLost: a connection that drops during a call fails it as
// transient, and the pool replaces the session.
func TestConnectionLost(t *testing.T) {
	srv := start(t)
	loc, _ := newDir(t, srv)
	d, err := sftpstore.NewDriver(mustParse(t, loc), storage.Options{N: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	big := make([]byte, 4<<20)
	if err := d.Put(ctx, "big", big); err != nil {
		t.Fatal(err)
	}
	rc, err := d.Open(ctx, "big", 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	sftpstore.KillStream(rc)
	_, err = io.Copy(io.Discard, rc)
	rc.Close()
	if err == nil || d.Classify(err) != storage.KindTransient {
		t.Errorf("read after the connection dropped: %v (%v), want a transient error", err, d.Classify(err))
	}
	// Idle sessions that died are replaced too.
	if _, err := d.Exists(ctx, "big"); err != nil {
		t.Fatalf("call after a lost connection: %v", err)
	}
	if n := sftpstore.KillIdle(d); n != 1 {
		t.Fatalf("%d idle sessions, want 1", n)
	}
	if ok, err := d.Exists(ctx, "big"); !ok || err != nil {
		t.Fatalf("call after the idle session died: %v, %v", ok, err)
	}
}

// TestOpen runs the registration and no-secrets suite.
func TestOpen(t *testing.T) {
	srv := start(t)
	loc, _ := newDir(t, srv)
	r := storage.NewRegistry()
	sftpstore.Register(r)
	storagetest.RunOpen(t, storagetest.OpenHarness{
		Registry: r,
		Location: loc,
		Fail:     "sftp://someone:s3cr3t-pw@127.0.0.1:" + strconv.Itoa(srv.Port) + "/missing",
		Secret:   "s3cr3t-pw",
	})
}
