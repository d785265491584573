package cli

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage-sftp/sftptest"
	"github.com/folbricht/desync/storage/sshstore"
	"github.com/folbricht/desync/storage/storagetest"
)

// TestSSHStoreConformance runs the conformance suite on the ssh:// store,
// served by desync pull (through the ssh stand-in) from a local store the
// suite writes into.
func TestSSHStoreConformance(t *testing.T) {
	isolate(t)
	fakeSSH(t, t.TempDir())
	t.Setenv("CASYNC_REMOTE_PATH", desyncBinary(t))
	sshConformance(t, func(dir string) *url.URL { return &url.URL{Scheme: "ssh", Host: "localhost", Path: dir} })
}

// TestSSHDStoreConformance: the same through a real key-only sshd.
func TestSSHDStoreConformance(t *testing.T) {
	bin := desyncBinary(t)
	isolate(t)
	srv := sftptest.Start(t)
	t.Setenv("CASYNC_SSH_PATH", sharedLogin(t, srv))
	t.Setenv("CASYNC_REMOTE_PATH", bin)
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port))
	sshConformance(t, func(dir string) *url.URL {
		return &url.URL{Scheme: "ssh", User: url.User(srv.User), Host: host, Path: dir}
	})
}

// sshConformance runs the suite on ssh:// stores at loc(dir) for local
// stores in fresh directories, the remote end set up by the caller.
func sshConformance(t *testing.T, loc func(dir string) *url.URL) {
	zstd, err := chunk.NewZstd(chunk.ZstdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	locals := map[chunk.Store]*storage.Local{}
	local := func(s chunk.Store) *storage.Local {
		mu.Lock()
		defer mu.Unlock()
		return locals[s]
	}
	storagetest.Run(t, storagetest.Harness{
		New: func(t *testing.T) chunk.Store {
			dir := t.TempDir()
			l, err := storage.NewLocal(dir, storage.LocalOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s, err := sshstore.New(context.Background(), loc(dir), storage.Options{N: 2})
			if err != nil {
				t.Fatal(err)
			}
			w := &sshWithLocal{Store: s, local: l}
			mu.Lock()
			locals[w] = l
			mu.Unlock()
			return w
		},
		Writer:    func(s chunk.Store) chunk.WriteStore { return flushEach{local(s)} },
		Converter: zstd,
		// No Corrupt: every damaged chunk but one reaches the client and
		// is reported invalid (WrongID covers that path), but an empty
		// chunk file cannot be sent (a CHUNK carries at least one byte),
		// so pull ABORTs naming the chunk: a permanent error, not the
		// *chunk.InvalidError the suite wants.
	})
}

// sshWithLocal is the store under test; closing it closes the local store
// behind it too.
type sshWithLocal struct {
	*sshstore.Store
	local *storage.Local
}

func (s *sshWithLocal) Close() error {
	s.Store.Close()
	return s.local.Close()
}

// flushEach flushes the local store after each write: a Local holds chunks
// back until a flush, and the pull server, another process, sees only
// what is in place.
type flushEach struct{ *storage.Local }

func (f flushEach) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	if err := f.Local.StoreChunk(ctx, c); err != nil {
		return err
	}
	return f.Local.Flush(ctx)
}

// sharedLogin returns an ssh wrapper for srv whose sessions share one
// login (an ssh control master, ended with the test): the suite opens a
// store, so a connection, per case, and a login costs most of a second
// on a busy machine. Each store still runs its own ssh process and
// remote pull per connection.
func sharedLogin(t *testing.T, srv *sftptest.Server) string {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "cm")
	p := filepath.Join(dir, "ssh-shared")
	writeFile(t, p, fmt.Appendf(nil, "#!/bin/sh\nexec %s -o ControlMaster=auto -o ControlPath=%s -o ControlPersist=yes \"$@\"\n",
		sshstore.ShellQuote(srv.SSH), sshstore.ShellQuote(sock)))
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command(srv.SSH, "-o", "ControlPath="+sock, "-O", "exit", "-p", strconv.Itoa(srv.Port), "--", srv.User+"@127.0.0.1").Run()
	})
	return p
}
