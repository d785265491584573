package cli

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folbricht/desync/storage/casyncproto"
	"github.com/folbricht/desync/storage/sshstore"
)

// The pull command and the ssh:// store, against the real casync both
// ways, through an ssh stand-in (the test writes it, like
// testdata/casync/fakessh.sh: it drops the options, "--" and the host and
// hands the rest to sh -c, as sshd does).

// fakeSSH writes the ssh stand-in into dir and points CASYNC_SSH_PATH at
// it; it records its argv, one argument per line, in dir/ssh-argv.
func fakeSSH(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "fakessh")
	script := fmt.Sprintf(`#!/bin/sh
printf '%%s\n' "$@" >> %s
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
`, sshstore.ShellQuote(filepath.Join(dir, "ssh-argv")))
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CASYNC_SSH_PATH", p)
	return p
}

// storeWithChunks copies the .cacnk files of a transcript directory into
// a store at dir.
func storeWithChunks(t *testing.T, src, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(src, "*.cacnk"))
	for _, f := range files {
		name := filepath.Base(f)
		if err := os.MkdirAll(filepath.Join(dir, name[:4]), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name[:4], name), mustRead(t, f))
	}
}

// TestPullTranscripts: fed what a client sent the real `casync pull`, our
// pull answers with exactly what casync answered.
func TestPullTranscripts(t *testing.T) {
	isolate(t)
	store := t.TempDir()
	storeWithChunks(t, "testdata/pull/pull-chunks", store)
	r := mustRun(t, mustRead(t, "testdata/pull/pull-chunks/c2s.bin"), "pull", "-", "-", "-", store)
	if !bytes.Equal([]byte(r.stdout), mustRead(t, "testdata/pull/pull-chunks/s2c.bin")) {
		t.Errorf("pull - - - STORE answered %d bytes, not casync's answer", len(r.stdout))
	}
	r = mustRun(t, mustRead(t, "testdata/pull/pull-index/c2s.bin"), "pull", "-", "-", "testdata/pull/pull-index/index", "-")
	if !bytes.Equal([]byte(r.stdout), mustRead(t, "testdata/pull/pull-index/s2c.bin")) {
		t.Errorf("pull - - INDEX - answered %d bytes, not casync's answer", len(r.stdout))
	}
}

// TestPullProtocolErrors: a bad frame or an incompatible client gets an
// ABORT with the reason, and exit status 1; EOF right away is a clean end.
func TestPullProtocolErrors(t *testing.T) {
	isolate(t)
	store := t.TempDir()
	hello := func(f uint64) []byte {
		var b bytes.Buffer
		w := casyncproto.NewWriter(&b)
		w.Hello(f)
		w.Flush()
		return b.Bytes()
	}
	bad := append(hello(casyncproto.PullChunks), make([]byte, 16)...) // a message of size 0
	cases := []struct {
		name  string
		stdin []byte
		want  string
	}{
		{"bad frame", bad, "size 0 is outside"},
		{"wants an index", hello(casyncproto.PullIndex), "pulling an index needs a readable index"},
		{"no HELLO", bad[24:], "outside"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := expect(t, 1, c.stdin, []string{c.want}, "pull", "-", "-", "-", store)
			rd := casyncproto.NewReader(strings.NewReader(r.stdout))
			var last *casyncproto.Message
			for {
				m, err := rd.ReadMessage()
				if err != nil {
					break
				}
				last = m
			}
			if last == nil || last.Type != casyncproto.Abort || !strings.Contains(last.Reason, c.want) {
				t.Errorf("last message %v, want an ABORT saying %q", last, c.want)
			}
		})
	}
	mustRun(t, nil, "pull", "-", "-", "-", store)
	expect(t, 2, nil, []string{"serving archives is not supported"}, "pull", "-", "x.catar", "-", store)
	expect(t, 2, nil, []string{"nothing to serve"}, "pull", "-", "-", "-", "-")
	expect(t, 2, nil, []string{`must be "-"`}, "pull", "base", "-", "-", store)
}

// TestSSHStoreCasyncPull (a): extract from an ssh:// store served by the
// real casync pull, whose path holds spaces, a quote, $(…) and ; (no double quote: -s splits its value as CSV): the
// output is exact, the remote gets the path intact, nothing is executed;
// with a chunk removed, extract names the chunk and the store.
func TestSSHStoreCasyncPull(t *testing.T) {
	isolate(t)
	casyncPath(t)
	dir := t.TempDir()
	t.Chdir(dir)
	fakeSSH(t, dir)
	t.Setenv("CASYNC_REMOTE_PATH", "casync")
	store := filepath.Join(dir, `st it's $(touch pwned); touch pwned2`)
	data := genRandom(t, 3<<20, 41)
	in := writeFile(t, filepath.Join(dir, "in"), data)
	index := filepath.Join(dir, "x.caibx")
	mustRun(t, nil, "make", "-s", store, index, in)
	loc := (&url.URL{Scheme: "ssh", Host: "localhost", Path: store}).String()
	out := filepath.Join(dir, "out")
	mustRun(t, nil, "extract", "-s", loc, index, out)
	if !bytes.Equal(mustRead(t, out), data) {
		t.Fatal("extract from the ssh:// store differs from the input")
	}
	argv := string(mustRead(t, filepath.Join(dir, "ssh-argv")))
	if want := "--\nlocalhost\ncasync pull - - - " + sshstore.ShellQuote(store) + "\n"; !strings.HasPrefix(argv, want) {
		t.Errorf("ssh argv %q, want %q", argv, want)
	}
	for _, f := range []string{"pwned", "pwned2"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s was created: the path was executed", f)
		}
	}

	ix := readIndex(t, index)
	gone := ix.Chunks[len(ix.Chunks)/2].ID.String()
	if err := os.Remove(filepath.Join(store, gone[:4], gone+".cacnk")); err != nil {
		t.Fatal(err)
	}
	expect(t, 1, nil, []string{gone, "missing", loc}, "extract", "-s", loc, index, filepath.Join(dir, "out2"))
}

// TestCasyncExtractFromDesyncPull (b): the real casync extracts through
// the ssh stand-in with our desync as the remote program; and desync's
// ssh:// store reads from desync pull too.
func TestCasyncExtractFromDesyncPull(t *testing.T) {
	isolate(t)
	casync := casyncPath(t)
	dir := t.TempDir()
	fakeSSH(t, dir)
	t.Setenv("CASYNC_REMOTE_PATH", desyncBinary(t))
	store := filepath.Join(dir, "store")
	data := genRandom(t, 3<<20, 43)
	in := writeFile(t, filepath.Join(dir, "in"), data)
	index := filepath.Join(dir, "x.caibx")
	mustRun(t, nil, "make", "-s", store, index, in)

	out := filepath.Join(dir, "casync-out")
	cmd := exec.Command(casync, "extract", "--store=localhost:"+store, index, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("casync extract through desync pull: %v\n%s", err, b)
	}
	if !bytes.Equal(mustRead(t, out), data) {
		t.Fatal("casync's extract through desync pull differs from the input")
	}
	if argv := string(mustRead(t, filepath.Join(dir, "ssh-argv"))); !strings.Contains(argv, desyncBinary(t)+"\npull\n-\n-\n-\n"+store) {
		t.Errorf("casync ran %q", argv)
	}

	// casync fetching the index from the remote too: pull - - INDEX STORE.
	out = filepath.Join(dir, "casync-out2")
	if b, err := exec.Command(casync, "extract", "--store=localhost:"+store, "localhost:"+index, out).CombinedOutput(); err != nil {
		t.Fatalf("casync extract of a remote index through desync pull: %v\n%s", err, b)
	}
	if !bytes.Equal(mustRead(t, out), data) {
		t.Fatal("casync's extract of a remote index differs from the input")
	}

	out = filepath.Join(dir, "desync-out")
	mustRun(t, nil, "extract", "-n", "4", "-s", "ssh://localhost"+store, index, out)
	if !bytes.Equal(mustRead(t, out), data) {
		t.Fatal("desync's extract through desync pull differs from the input")
	}
}

// TestSSHHostileLocations (c): locations that would smuggle an ssh
// option are refused before anything runs.
func TestSSHHostileLocations(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	t.Chdir(dir)
	fakeSSH(t, dir)
	index := filepath.Join(dir, "x.caibx")
	mustRun(t, nil, "make", "-s", filepath.Join(dir, "s"), index, writeFile(t, filepath.Join(dir, "in"), genRandom(t, 100000, 1)))
	for _, loc := range []string{"ssh://-oProxyCommand=touch%20X/path", "ssh://-oProxyCommand=touch/path", "ssh://-oFoo@host/path"} {
		r := run(t, nil, "extract", "-s", loc, index, filepath.Join(dir, "out"))
		if r.code == 0 {
			t.Errorf("%s: extract worked", loc)
		}
	}
	for _, f := range []string{"X", "touch", "ssh-argv", "out"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s exists: something ran", f)
		}
	}
}
