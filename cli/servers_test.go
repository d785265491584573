package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHTTPServerUsage: mistakes on the server command lines are usage
// errors (exit 2).
func TestHTTPServerUsage(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"chunk-server"},
		{"chunk-server", "-s", dir, "--mutual-tls"},
		{"chunk-server", "-s", dir, "--cert", "x.pem"},
		{"chunk-server", "-s", dir, "--store-file", "f.json"},
		{"chunk-server", "-w", "-s", dir, "-s", dir},
		{"chunk-server", "-w", "-s", dir, "-c", dir},
		{"index-server"},
		{"index-server", "-s", "http://example.com/"},
		{"chunk-server", "-s", dir, "extra"},
	} {
		if r := run(t, nil, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2; stderr: %s", args, r.code, r.stderr)
		}
	}
}

// TestHTTPServerSignals runs the built command: SIGHUP re-reads
// --store-file (a chunk only in the new store is then served), and SIGTERM
// stops the server, which exits 0.
func TestHTTPServerSignals(t *testing.T) {
	if !sighupSupported {
		t.Skip("no SIGHUP on this platform")
	}
	f := newFixture(t)
	desync := desyncBinary(t)
	empty := filepath.Join(f.dir, "empty")
	os.Mkdir(empty, 0o755)
	sfile := writeFile(t, filepath.Join(f.dir, "stores.json"), []byte(fmt.Sprintf(`{"stores": [%q]}`, empty)))
	cmd := exec.Command(desync, "chunk-server", "--store-file", sfile, "-l", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "HOME="+f.dir)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var u string
	for line := range lines {
		if m := listeningRE.FindStringSubmatch(line); m != nil {
			u = m[1]
			break
		}
	}
	if u == "" {
		t.Fatal("the server did not say where it listens")
	}
	// waitLog reads the server's log up to a line holding msg; the time
	// limit only keeps a server that never logs it from hanging the test.
	waitLog := func(msg string) {
		t.Helper()
		limit := time.After(time.Minute)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("the server exited without logging %q", msg)
				}
				if strings.Contains(line, msg) {
					return
				}
			case <-limit:
				t.Fatalf("the server has not logged %q after a minute", msg)
			}
		}
	}
	chunkURL := u + f.ids[0][:4] + "/" + f.ids[0] + ".cacnk"
	status := func() int {
		resp, err := http.Get(chunkURL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := status(); s != 404 {
		t.Fatalf("chunk from the empty store: %d, want 404", s)
	}
	writeFile(t, sfile, []byte(fmt.Sprintf(`{"stores": [%q]}`, f.store)))
	if err := sendSIGHUP(cmd.Process); err != nil {
		t.Fatal(err)
	}
	waitLog("reloaded the store file")
	if s := status(); s != 200 {
		t.Fatalf("chunk after the reload: %d, want 200", s)
	}
	// A broken store file keeps the old stores.
	writeFile(t, sfile, []byte(`{"stores": `))
	if err := sendSIGHUP(cmd.Process); err != nil {
		t.Fatal(err)
	}
	waitLog("reloading the store file failed")
	if s := status(); s != 200 {
		t.Errorf("after a failed reload: %d, want 200 (old stores kept)", s)
	}
	if err := sendSIGTERM(cmd.Process); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("chunk-server after SIGTERM: %v, want exit 0", err)
	}
}

// TestHTTPWritableSpellings: both servers take -w, desync's --writable and
// our older --writeable; each makes the server accept a PUT.
func TestHTTPWritableSpellings(t *testing.T) {
	f := newFixture(t)
	id := f.ids[0]
	chunkFile := mustRead(t, filepath.Join(f.store, id[:4], id+".cacnk"))
	for _, flag := range []string{"-w", "--writable", "--writeable"} {
		for _, tc := range []struct{ server, path string }{
			{"chunk-server", id[:4] + "/" + id + ".cacnk"},
			{"index-server", "blob1.caibx"},
		} {
			u := startServer(t, tc.server, flag, "-s", t.TempDir())
			body := chunkFile
			if tc.server == "index-server" {
				body = mustRead(t, f.index)
			}
			req, _ := http.NewRequest(http.MethodPut, u+tc.path, bytes.NewReader(body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s %s: PUT: %s, want 200", tc.server, flag, resp.Status)
			}
		}
	}
}
