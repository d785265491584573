package cli

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/folbricht/desync/fuse/fusetest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountProc is a desync mount-index process.
type mountProc struct {
	cmd    *exec.Cmd
	dir    string
	conn   uint64 // the FUSE connection: the mount's device minor
	stderr *serverOutput
	exited chan error
}

// abortFUSE aborts FUSE connection conn (/sys/fs/fuse/connections), which
// ends every request waiting on it: the last resort of a test whose mount
// process hangs, so that neither it nor the test waits forever.
func abortFUSE(conn uint64) {
	const ctl = "/sys/fs/fuse/connections"
	if _, err := os.Stat(filepath.Join(ctl, fmt.Sprint(conn))); err != nil {
		exec.Command("mount", "-t", "fusectl", "none", ctl).Run()
	}
	os.WriteFile(filepath.Join(ctl, fmt.Sprint(conn), "abort"), []byte("1"), 0)
}

// startMount runs "desync mount-index args... <dir>" as a process of its
// own and waits (a minute at most) until dir is mounted. The process is
// stopped when the test ends.
func startMount(t *testing.T, stdin []byte, args ...string) *mountProc {
	t.Helper()
	fusetest.Require(t)
	dir := t.TempDir()
	cmd := asDesync(append(append([]string{"mount-index"}, args...), dir)...)
	cmd.Env = append(cmd.Env, asDesyncEnv+"="+asDesyncSignals)
	cmd.Stdin = bytes.NewReader(stdin)
	p := &mountProc{cmd: cmd, dir: dir, stderr: &serverOutput{url: make(chan string, 1)}, exited: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case err := <-p.exited:
			p.exited <- err
		default:
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-p.exited:
				p.exited <- err
			case <-time.After(30 * time.Second):
				t.Errorf("mount-index still running 30s after SIGTERM; stderr: %s", p.stderr)
				cmd.Process.Kill()
			}
		}
		if fusetest.Mounted(t, dir) {
			exec.Command("fusermount3", "-u", "-z", dir).Run()
			t.Errorf("%s still mounted after the test", dir)
		}
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			// Stuck in the kernel on its own mount: abort the connection.
			abortFUSE(p.conn)
			select {
			case <-p.exited:
			case <-time.After(10 * time.Second):
				t.Errorf("mount-index process %d does not exit", cmd.Process.Pid)
			}
		}
	})
	for deadline := time.Now().Add(time.Minute); !fusetest.Mounted(t, dir); {
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("mount-index exited before mounting (%v); stderr: %s", err, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not mounted after a minute; stderr: %s", dir, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err == nil {
		p.conn = st.Dev&0xff | (st.Dev>>12)&^0xff
	}
	return p
}

// stop sends SIGTERM and waits (a minute at most) for exit 0 with the
// mount gone.
func (p *mountProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		p.exited <- err
		if err != nil {
			t.Errorf("mount-index after SIGTERM: %v; stderr: %s", err, p.stderr)
		}
	case <-time.After(time.Minute):
		t.Fatalf("mount-index still running a minute after SIGTERM; stderr: %s", p.stderr)
	}
	if fusetest.Mounted(t, p.dir) {
		t.Errorf("%s still mounted after SIGTERM", p.dir)
	}
}

// readWithin reads the file p, failing the test after d.
func readWithin(t *testing.T, p string, d time.Duration) ([]byte, error) {
	t.Helper()
	type res struct {
		b   []byte
		err error
	}
	ch := make(chan res, 1)
	go func() {
		b, err := os.ReadFile(p)
		ch <- res{b, err}
	}()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-time.After(d):
		t.Fatalf("reading %s took more than %v", p, d)
	}
	return nil, nil
}

// TestMountIndexBlob: the blob mounts as a file named after the index,
// reads back identical, fills the copy-on-read file, and SIGTERM unmounts
// it and saves the state; a second mount initialized from that state
// reads without the store.
func TestMountIndexBlob(t *testing.T) {
	data, index, store := randomInStore(t, 5<<20, 41)
	dir := t.TempDir()
	cor, state := filepath.Join(dir, "blob.cor"), filepath.Join(dir, "state")
	m := startMount(t, nil, "-s", store, "--cor-file", cor, "--cor-state-save", state, index)
	got, err := readWithin(t, filepath.Join(m.dir, "in"), time.Minute)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("reading the mounted blob: %v (identical: %v)", err, bytes.Equal(got, data))
	}
	m.stop(t)
	if !bytes.Equal(mustRead(t, cor), data) {
		t.Error("the copy-on-read file differs from the blob after a full read")
	}
	ix := readIndex(t, index)
	if st := mustRead(t, state); len(st) != (len(ix.Chunks)+7)/8 || st[0] != 0xff {
		t.Errorf("state %x for %d chunks", st, len(ix.Chunks))
	}

	empty := t.TempDir()
	m2 := startMount(t, nil, "-s", empty, "--cor-file", cor, "--cor-state-load", state, "--cor-init-n", "3", index)
	got, err = readWithin(t, filepath.Join(m2.dir, "in"), time.Minute)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("reading from the copy-on-read file only: %v", err)
	}
	m2.stop(t)
}

// TestMountIndexStdinAndMissing: an index from stdin mounts as "-", as with
// the original desync; a missing chunk is EIO, logged with its ID, and the
// process still unmounts on SIGINT.
func TestMountIndexStdinAndMissing(t *testing.T) {
	_, index, store := randomInStore(t, 2<<20, 42)
	ix := readIndex(t, index)
	bad := ix.Chunks[len(ix.Chunks)/2]
	if err := os.Remove(chunkPath(store, bad.ID.String())); err != nil {
		t.Fatal(err)
	}
	m := startMount(t, mustRead(t, index), "-s", store, "-")
	_, err := readWithin(t, filepath.Join(m.dir, "-"), time.Minute)
	if !errors.Is(err, syscall.EIO) {
		t.Errorf("reading past a missing chunk: %v, want EIO", err)
	}
	if s := m.stderr.String(); !strings.Contains(s, bad.ID.String()) || !strings.Contains(s, fmt.Sprint(bad.Start)) {
		t.Errorf("the log does not name the chunk %s at %d: %s", bad.ID, bad.Start, s)
	}
	if err := m.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-m.exited:
		m.exited <- err
		if err != nil {
			t.Errorf("after SIGINT: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("still running a minute after SIGINT")
	}
	if fusetest.Mounted(t, m.dir) {
		t.Error("still mounted after SIGINT")
	}
}

// TestMountIndexStoreFileReload: SIGHUP re-reads --store-file while a
// reader keeps reading; reads that failed with the old stores succeed with
// the new ones.
func TestMountIndexStoreFileReload(t *testing.T) {
	data, index, store := randomInStore(t, 2<<20, 43)
	dir := t.TempDir()
	sfile := writeFile(t, filepath.Join(dir, "stores.json"), []byte(fmt.Sprintf(`{"stores": [%q]}`, t.TempDir())))
	m := startMount(t, nil, "--store-file", sfile, index)
	file := filepath.Join(m.dir, "in")
	if _, err := readWithin(t, file, time.Minute); !errors.Is(err, syscall.EIO) {
		t.Fatalf("read from the empty store: %v, want EIO", err)
	}
	// Load: a reader at random offsets while the store changes.
	stopLoad := make(chan struct{})
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		buf := make([]byte, 4096)
		fh, err := os.Open(file)
		if err != nil {
			return
		}
		defer fh.Close()
		for i := int64(0); ; i++ {
			select {
			case <-stopLoad:
				return
			default:
			}
			fh.ReadAt(buf, (i*7919*4096)%int64(len(data)-4096))
		}
	}()
	writeFile(t, sfile, []byte(fmt.Sprintf(`{"stores": [%q]}`, store)))
	if err := m.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); !strings.Contains(m.stderr.String(), "reloaded the store file"); {
		if time.Now().After(deadline) {
			t.Fatalf("no reload logged after a minute: %s", m.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stopLoad)
	select {
	case <-loadDone:
	case <-time.After(time.Minute):
		t.Fatal("the reader under load hangs")
	}
	// The kernel may have cached nothing of the failed reads: read it all.
	got, err := readWithin(t, file, time.Minute)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after the reload: %v", err)
	}
	m.stop(t)
}

// TestMountIndexTree: a .caidx mounts as its tree.
func TestMountIndexTree(t *testing.T) {
	isolate(t)
	m := startMount(t, nil, "-s", "../catar/testdata/tree.castr", "../catar/testdata/tree.caidx")
	got, err := readWithin(t, filepath.Join(m.dir, "hello.txt"), time.Minute)
	if err != nil || string(got) != "hello world\n" {
		t.Errorf("hello.txt: %q, %v", got, err)
	}
	if target, err := os.Readlink(filepath.Join(m.dir, "dangling-link")); err != nil || target != "does/not/exist" {
		t.Errorf("dangling-link: %q, %v", target, err)
	}
	m.stop(t)
}

// TestMountIndexUsage: the mistakes the command refuses before mounting.
func TestMountIndexUsage(t *testing.T) {
	_, index, store := randomInStore(t, 100_000, 44)
	dir := t.TempDir()
	expect(t, 2, nil, []string{"no store"}, "mount-index", index, dir)
	expect(t, 2, nil, []string{"--store-file replaces"}, "mount-index", "-s", store, "--store-file", "x.json", index, dir)
	expect(t, 2, nil, []string{"need --cor-file"}, "mount-index", "-s", store, "--cor-state-save", "x", index, dir)
}

// TestMountIndexFromIndexStore: the index may be the URL of an index in an
// index store; the file is named after it.
func TestMountIndexFromIndexStore(t *testing.T) {
	data, index, store := randomInStore(t, 1<<20, 45)
	u := startServer(t, "index-server", "-s", filepath.Dir(index))
	m := startMount(t, nil, "-s", store, u+"in.caibx")
	got, err := readWithin(t, filepath.Join(m.dir, "in"), time.Minute)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("reading the blob of an index from an index store: %v", err)
	}
	m.stop(t)
}
