package cli

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// The tests of crash hygiene: what a killed process leaves behind is
// removed by the next command that can tell it is stale, and what a live
// writer has in progress is not. Linux only: elsewhere temporary files are
// judged by age.

// asDesync returns a desync process with args, to be started (and killed):
// the test binary, run as desync.
func asDesync(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asDesyncEnv+"=1")
	return cmd
}

// temps returns the temporary files under dir.
func temps(dir string) []string {
	var found []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(d.Name(), ".tmp") {
			found = append(found, p)
		}
		return nil
	})
	return found
}

// ownerFiles returns the owner lock files (and dead marks) in a store.
func ownerFiles(store string) []string {
	m, _ := filepath.Glob(filepath.Join(store, ".desync-*"))
	return m
}

// waitFor polls cond until it holds; the deadline only stops a test that
// would otherwise hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// TestKilledMakeCleanedUp: a make killed with SIGKILL halfway leaves its
// chunks' temporary files in the store and the index's next to it; the
// next make into that store, of that index, removes them all, and the
// store verifies.
func TestKilledMakeCleanedUp(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	store, index := filepath.Join(dir, "store"), filepath.Join(dir, "x.caibx")
	data := genRandom(t, 8<<20, 12)
	input := writeFile(t, filepath.Join(dir, "in"), data)

	cmd := asDesync("make", "-s", store, index, "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	// Half the input, and the pipe left open: make stores what it has
	// cut (too few chunks for a batch to be flushed) and waits for more.
	if _, err := stdin.Write(data[:4<<20]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "make to store chunks", func() bool { return len(temps(store)) >= 20 })
	cmd.Process.Kill()
	cmd.Wait()
	killed = true
	left := temps(dir)
	indexTemps := 0
	for _, p := range left {
		if strings.HasPrefix(filepath.Base(p), ".x.caibx.desync-") {
			indexTemps++
		}
	}
	if len(left) < 21 || indexTemps != 1 || len(ownerFiles(store)) != 1 {
		t.Fatalf("the killed make left %d temporary files (%d of the index) and owner files %v; want 20 chunks' and the index's, and one owner lock", len(left), indexTemps, ownerFiles(store))
	}

	mustRun(t, nil, "make", "-s", store, index, input)
	if left := temps(dir); len(left) != 0 {
		t.Errorf("after the next make, %d temporary files are left: %v", len(left), left)
	}
	if m := ownerFiles(store); len(m) != 0 {
		t.Errorf("after the next make, owner files are left: %v", m)
	}
	mustRun(t, nil, "verify", "-s", store)
	extractOK(t, data, index, "-s", store)
}

// TestKilledExtractCleanedUp: an extract killed with SIGKILL halfway leaves
// its output's temporary file; the next extract of that output removes it.
func TestKilledExtractCleanedUp(t *testing.T) {
	f := newFixture(t)
	// A chunk store that answers no request: the extract waits with its
	// temporary output created.
	asked := make(chan struct{}, 1)
	release := make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "gone", http.StatusServiceUnavailable)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	defer close(release)

	out := filepath.Join(t.TempDir(), "out")
	cmd := asDesync("extract", "-s", "http://"+ln.Addr().String()+"/", f.index, out)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	select {
	case <-asked:
	case <-time.After(2 * time.Minute):
		t.Fatal("the extract asked the store for nothing")
	}
	cmd.Process.Kill()
	cmd.Wait()
	killed = true
	left := temps(filepath.Dir(out))
	if len(left) != 1 || !strings.HasPrefix(filepath.Base(left[0]), ".out.desync-") {
		t.Fatalf("the killed extract left %v, want its output's temporary file", left)
	}
	mustRun(t, nil, "extract", "-s", f.store, f.index, out)
	if !bytes.Equal(mustRead(t, out), f.data) {
		t.Error("the next extract's output differs")
	}
	if left := temps(filepath.Dir(out)); len(left) != 0 {
		t.Errorf("after the next extract, temporary files are left: %v", left)
	}
}

// TestStaleTempsRemoved: verify -r, prune and a writable chunk-server's
// start remove the temporary files of a store's writer that died, and
// leave those of a live writer (holding its owner lock, as a running make
// in another process does), which it can still complete.
func TestStaleTempsRemoved(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name    string
		run     func(t *testing.T, store string)
		removes bool
	}{
		{"verify -r", func(t *testing.T, s string) { mustRun(t, nil, "verify", "-s", s, "-r") }, true},
		{"verify", func(t *testing.T, s string) { mustRun(t, nil, "verify", "-s", s) }, false},
		{"prune", func(t *testing.T, s string) { mustRun(t, nil, "prune", "-s", s, "-y", f.index) }, true},
		{"chunk-server -w", func(t *testing.T, s string) { startServer(t, "chunk-server", "-w", "-s", s) }, true},
		{"chunk-server", func(t *testing.T, s string) { startServer(t, "chunk-server", "-s", s) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := filepath.Join(t.TempDir(), "store")
			mustRun(t, nil, "make", "-s", store, filepath.Join(t.TempDir(), "x.caibx"), f.input)
			// A writer that died: its owner lock file, no longer locked,
			// a chunk's temporary file it owned, and a temporary file that
			// was its own lock.
			sub := filepath.Join(store, f.ids[0][:4])
			dead := []string{
				writeFile(t, filepath.Join(store, ".desync-dead1.lock"), nil),
				writeFile(t, filepath.Join(sub, "."+f.ids[0]+".cacnk.desync-dead1-1.tmp"), []byte("partial")),
				writeFile(t, filepath.Join(sub, ".x.desync-2.tmp"), nil),
			}
			// A live writer with a chunk pending in a temporary file.
			live, err := storage.NewLocal(store, storage.LocalOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer live.Close()
			plain := []byte("a chunk being written")
			id := chunk.SHA512_256.Sum(plain)
			if err := live.StoreChunk(context.Background(), chunk.New(id, plain)); err != nil {
				t.Fatal(err)
			}
			liveFiles := temps(filepath.Join(store, id.String()[:4]))
			for _, p := range ownerFiles(store) {
				if p != dead[0] {
					liveFiles = append(liveFiles, p)
				}
			}
			if len(liveFiles) != 2 {
				t.Fatalf("live writer's files %v, owner files %v", liveFiles, ownerFiles(store))
			}

			tc.run(t, store)

			for _, p := range dead {
				if _, err := os.Stat(p); tc.removes != os.IsNotExist(err) {
					t.Errorf("%s of a dead writer: removed %v, want %v", filepath.Base(p), !tc.removes, tc.removes)
				}
			}
			if tc.removes {
				if _, err := os.Stat(filepath.Join(store, ".desync-dead1.dead")); !os.IsNotExist(err) {
					t.Errorf("the dead writer's mark is left: %v", err)
				}
			}
			for _, p := range liveFiles {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("%s of the live writer removed: %v", filepath.Base(p), err)
				}
			}
			if err := live.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(live.Path(id)); err != nil {
				t.Errorf("the live writer's chunk is not in the store: %v", err)
			}
		})
	}
}
