package sshstore

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

func TestParseLocation(t *testing.T) {
	good := []struct {
		loc  string
		args []string
	}{
		{"ssh://host/srv/store", []string{"--", "host", "casync pull - - - '/srv/store'"}},
		{"ssh://me@host:2222/srv/store", []string{"-p", "2222", "--", "me@host", "casync pull - - - '/srv/store'"}},
		{"ssh://[::1]:22/a%20b", []string{"-p", "22", "--", "::1", "casync pull - - - '/a b'"}},
		{"ssh://host/it's", []string{"--", "host", `casync pull - - - '/it'\''s'`}},
	}
	for _, c := range good {
		u, err := url.Parse(c.loc)
		if err != nil {
			t.Fatal(err)
		}
		l, err := ParseLocation(u)
		if err != nil {
			t.Errorf("%s: %v", c.loc, err)
			continue
		}
		if got := l.Args("casync"); strings.Join(got, "\x00") != strings.Join(c.args, "\x00") {
			t.Errorf("%s: args %q, want %q", c.loc, got, c.args)
		}
	}
	bad := []struct{ loc, want string }{
		{"ssh://-oProxyCommand=touch/path", "starts with '-'"},
		{"ssh://-oFoo@host/path", `user "-oFoo" starts with '-'`},
		{"ssh://host", "no store path"},
		{"ssh://host/", "no store path"},
		{"ssh:///path", "no host"},
		{"ssh://u:hunter2@host/path", "password"},
		{"ssh://host:99999/path", "bad port"},
		{"ssh://host/path?x=1", "no query"},
		{"ssh://a%20b/path", ""}, // url.Parse refuses it already
	}
	for _, c := range bad {
		u, err := url.Parse(c.loc)
		if err == nil {
			_, err = ParseLocation(u)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.loc, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the password: %v", c.loc, err)
		}
	}
}

// TestShellQuote: what the remote shell makes of a quoted path is the path.
func TestShellQuote(t *testing.T) {
	for _, s := range []string{"/plain", "/a b", `/it's`, `/"q"`, "/$(touch X)", "/a;b|c&d", "/`x`", `/back\slash`, "/'", "/''", "/new\nline", "/*"} {
		out, err := exec.Command("sh", "-c", "printf %s "+ShellQuote(s)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != s {
			t.Errorf("%q came back as %q", s, out)
		}
	}
}

// TestHostileLocations: a location that would smuggle an ssh option or a
// shell command runs nothing: the ssh command is never started.
func TestHostileLocations(t *testing.T) {
	dir := t.TempDir()
	argv := filepath.Join(dir, "argv")
	useFake(t, "serve", dir)
	t.Setenv("SSHSTORE_ARGV", argv)
	t.Chdir(dir)
	for _, loc := range []string{
		"ssh://-oProxyCommand=touch%20X/path",
		"ssh://-oProxyCommand=touch/path",
		"ssh://-oFoo@host/path",
		"ssh://-oFoo@-oBar/path",
	} {
		if s, err := open(t, loc, 1); err == nil {
			s.Close()
			t.Errorf("%s: opened", loc)
		}
	}
	if _, err := os.Stat(argv); err == nil {
		t.Error("the ssh command was run for a refused location")
	}
	for _, f := range []string{"X", "touch"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s was created", f)
		}
	}
}

// TestFakeServer: chunks come back verified, compressed or not; a MISSING
// is chunk.ErrMissing naming chunk and store; StoreChunk is refused.
func TestFakeServer(t *testing.T) {
	for _, scenario := range []string{"serve", "plain"} {
		t.Run(scenario, func(t *testing.T) {
			dir := t.TempDir()
			cs := fillStore(t, dir, 5)
			useFake(t, scenario, dir)
			s := mustOpen(t, "ssh://host/srv/store", 2)
			for _, c := range cs {
				got, err := s.GetChunk(context.Background(), c.ID())
				if err != nil {
					t.Fatal(err)
				}
				want, _ := c.Plain()
				if b, _ := got.Plain(); !bytes.Equal(b, want) {
					t.Fatalf("chunk %s differs", c.ID())
				}
				if ok, err := s.HasChunk(context.Background(), c.ID()); !ok || err != nil {
					t.Fatalf("HasChunk = %v, %v", ok, err)
				}
			}
			var absent chunk.ID
			absent[5] = 1
			_, err := s.GetChunk(context.Background(), absent)
			if !errors.Is(err, chunk.ErrMissing) || !strings.Contains(err.Error(), absent.String()) || !strings.Contains(err.Error(), "ssh://host/srv/store") {
				t.Errorf("absent chunk: %v", err)
			}
			if ok, err := s.HasChunk(context.Background(), absent); ok || err != nil {
				t.Errorf("HasChunk(absent) = %v, %v", ok, err)
			}
			err = s.StoreChunk(context.Background(), cs[0])
			if !errors.Is(err, ErrReadOnly) || !errors.Is(err, errors.ErrUnsupported) || !storage.IsPermanent(err) || !strings.Contains(err.Error(), "read-only") {
				t.Errorf("StoreChunk: %v", err)
			}
		})
	}
}

// TestManyConcurrent: 64 goroutines over 2 connections each fetch every
// chunk; all arrive intact (the multiplexing and batching keep answers
// with their callers).
func TestManyConcurrent(t *testing.T) {
	dir := t.TempDir()
	cs := fillStore(t, dir, 40)
	useFake(t, "serve", dir)
	s := mustOpen(t, "ssh://host/srv/store", 2)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Go(func() {
			for i := range cs {
				c := cs[(i+g)%len(cs)]
				got, err := s.GetChunk(context.Background(), c.ID())
				if err != nil {
					errs <- err
					return
				}
				got.Release()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestBrokenServers: each misbehaviour is a clear error of the right kind.
func TestBrokenServers(t *testing.T) {
	cases := []struct {
		scenario  string
		openFails bool
		want      string
		check     func(error) bool
	}{
		{"abort", false, "the pull server aborted: Failed to open store /srv/x: No such file or directory (errno 2)", storage.IsPermanent},
		{"wrongdata", false, "invalid chunk", func(err error) bool { var inv *chunk.InvalidError; return errors.As(err, &inv) }},
		{"unrequested", false, "which was not requested", storage.IsPermanent},
		{"badframe", false, "size 0 is outside", storage.IsPermanent},
		{"badhello", true, "pulling chunks needs a readable store", storage.IsPermanent},
		{"denied", true, "Permission denied (publickey)", storage.IsPermanent},
	}
	for _, c := range cases {
		t.Run(c.scenario, func(t *testing.T) {
			dir := t.TempDir()
			cs := fillStore(t, dir, 2)
			useFake(t, c.scenario, dir)
			s, err := open(t, "ssh://host/srv/store", 1)
			if err == nil {
				defer s.Close()
				_, err = s.GetChunk(context.Background(), cs[1].ID())
			} else if !c.openFails {
				t.Fatalf("open: %v", err)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "ssh://host/srv/store") || !c.check(err) {
				t.Errorf("error %q (permanent %v), want %q naming the store", err, storage.IsPermanent(err), c.want)
			}
			if !c.openFails {
				if _, err := s.GetChunk(context.Background(), cs[1].ID()); err == nil {
					t.Error("the second call worked")
				}
			}
		})
	}
}

// TestCanceled: a call waiting for a server that never answers returns
// when its context ends.
func TestCanceled(t *testing.T) {
	dir := t.TempDir()
	useFake(t, "silent", dir)
	u, _ := url.Parse("ssh://host/srv/store")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := New(ctx, u, storage.Options{})
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("New with a silent server: %v", err)
	}
}

// TestCasyncPull: the real `casync pull` serves a store whose path holds
// spaces, quotes, $(…) and ; through an ssh stand-in: the remote program
// gets the path as one intact argument, nothing is executed, the chunks
// come back, and a missing chunk is an error naming chunk and store.
func TestCasyncPull(t *testing.T) {
	logdir := t.TempDir()
	useCasync(t, logdir)
	base := t.TempDir()
	t.Chdir(base)
	storeDir := filepath.Join(base, `my "store" it's $(touch pwned); touch pwned2`)
	cs := fillStore(t, storeDir, 30)
	loc := (&url.URL{Scheme: "ssh", Host: "localhost", Path: storeDir}).String()
	s := mustOpen(t, loc, 3)
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() {
			got, err := s.GetChunk(context.Background(), c.ID())
			if err != nil {
				t.Error(err)
				return
			}
			want, _ := c.Plain()
			if b, _ := got.Plain(); !bytes.Equal(b, want) {
				t.Errorf("chunk %s differs", c.ID())
			}
		})
	}
	wg.Wait()
	var absent chunk.ID
	absent[0] = 0xab
	_, err := s.GetChunk(context.Background(), absent)
	if !errors.Is(err, chunk.ErrMissing) || !strings.Contains(err.Error(), absent.String()) || !strings.Contains(err.Error(), s.String()) {
		t.Errorf("missing chunk: %v", err)
	}
	s.Close()
	remote, err := os.ReadFile(filepath.Join(logdir, "remote-argv"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "pull\n-\n-\n-\n" + storeDir + "\n"; string(remote) != want {
		t.Errorf("the remote program got %q, want %q", remote, want)
	}
	sshArgv, _ := os.ReadFile(filepath.Join(logdir, "ssh-argv"))
	if !strings.HasPrefix(string(sshArgv), "--\nlocalhost\n") {
		t.Errorf("ssh argv %q", sshArgv)
	}
	for _, f := range []string{"pwned", "pwned2"} {
		if _, err := os.Stat(filepath.Join(base, f)); err == nil {
			t.Errorf("%s was created: the path was executed", f)
		}
	}
}

// TestCasyncRepeat: casync pull answers each ID once per connection; the
// store asks again on a fresh connection, so a chunk read twice (or read
// after it was reported missing and then stored) still comes back.
func TestCasyncRepeat(t *testing.T) {
	useCasync(t, t.TempDir())
	dir := t.TempDir()
	cs := fillStore(t, dir, 3)
	s := mustOpen(t, (&url.URL{Scheme: "ssh", Host: "localhost", Path: dir}).String(), 1)
	var absent chunk.ID
	absent[1] = 7
	for _, id := range []chunk.ID{cs[0].ID(), absent, cs[0].ID(), absent, cs[1].ID(), cs[0].ID()} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err := s.GetChunk(ctx, id)
		cancel()
		if id == absent {
			if !errors.Is(err, chunk.ErrMissing) {
				t.Errorf("absent chunk: %v", err)
			}
		} else if err != nil {
			t.Errorf("chunk %s: %v", id, err)
		}
	}
}

// TestRetiredUnderCall: a connection retired while a call sits between the
// queue and its REQUEST (the store retires connections to ask casync for
// an ID again) must not fail the call: it is asked on the slot's next
// connection. The hook holds the writer at that point until the
// connection is closing.
func TestRetiredUnderCall(t *testing.T) {
	dir := t.TempDir()
	cs := fillStore(t, dir, 2)
	useFake(t, "serve", dir)
	s := mustOpen(t, "ssh://host/srv/store", 1)
	// A first call dials the slot's connection.
	if _, err := s.GetChunk(context.Background(), cs[0].ID()); err != nil {
		t.Fatal(err)
	}
	c := s.slots[0].c
	reached, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	testHookDequeued = func(hc *conn) {
		if hc == c {
			once.Do(func() { close(reached); <-release })
		}
	}
	t.Cleanup(func() { testHookDequeued = nil })

	got := make(chan error, 1)
	go func() {
		_, err := s.GetChunk(context.Background(), cs[1].ID())
		got <- err
	}()
	<-reached
	s.replace(0, c) // nothing pending yet: retire closes at once
	for {
		c.mu.Lock()
		closing := c.closing
		c.mu.Unlock()
		if closing != nil {
			break
		}
		runtime.Gosched()
	}
	close(release)
	if err := <-got; err != nil {
		t.Fatalf("call on a retired connection: %v", err)
	}
}

// TestEncryptionRefused: an ssh:// store with encryption on fails at once,
// without starting ssh, instead of serving casync's chunks unencrypted.
func TestEncryptionRefused(t *testing.T) {
	t.Setenv("CASYNC_SSH_PATH", "/nonexistent/ssh")
	u, _ := url.Parse("ssh://host/store")
	_, err := New(context.Background(), u, storage.Options{Encryption: true, EncryptionKey: strings.Repeat("00", 32)})
	if err == nil || !strings.Contains(err.Error(), "encryption is not supported") {
		t.Fatalf("New: %v, want encryption refused", err)
	}
}
