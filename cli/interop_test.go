package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/folbricht/desync/cli/internal/gendata"
)

// required reports whether tests that need a real peer must fail rather than
// skip when it is missing: in CI, or when DESYNC_REQUIRE_CASYNC is set.
func required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("DESYNC_REQUIRE_CASYNC") != ""
}

// casyncPath returns the casync binary, or skips (fails in CI) without it.
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

var (
	// startHome is HOME as the test process started.
	startHome = os.Getenv("HOME")

	binOnce sync.Once
	binPath string
	binErr  error
)

// desyncBinary builds the command once per test run.
func desyncBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "desync-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "desync")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/desync")
		// With the HOME of the process (isolate changes it), so that the
		// build cache under it is used, not an empty one.
		cmd.Env = append(os.Environ(), "HOME="+startHome)
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// asDesyncEnv set to 1 makes the test binary run as desync, so that a test
// can start (and kill) a desync process without building one.
const asDesyncEnv = "DESYNC_TEST_AS_DESYNC"

// asDesyncSignals as asDesyncEnv's value runs desync with its context
// wired to SIGINT and SIGTERM, as cmd/desync's main does.
const asDesyncSignals = "signals"

func TestMain(m *testing.M) {
	switch os.Getenv(asDesyncEnv) {
	case "1": // a test's desync process (asDesync)
		os.Exit(Run(context.Background(), os.Args[1:], Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
	case asDesyncSignals: // one that stops on SIGINT and SIGTERM, as cmd/desync does
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Run(ctx, os.Args[1:], Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
		stop()
		os.Exit(code)
	}
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func execOK(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	fa, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := 0; ; off += len(ba) {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			t.Fatalf("%s and %s differ near offset %d", a, b, off)
		}
		if ea != nil || eb != nil {
			if (ea == nil) != (eb == nil) {
				t.Fatalf("%s and %s differ in length", a, b)
			}
			return
		}
	}
}

// TestCasyncInterop runs the real casync on generated inputs: casync's index
// equals ours byte for byte, casync extracts from our store, and we extract
// from casync's.
func TestCasyncInterop(t *testing.T) {
	casync := casyncPath(t)
	desync := desyncBinary(t)
	dir := t.TempDir()
	const size = 64 << 20
	gen := func(name string, f func(w io.Writer) error) string {
		p := filepath.Join(dir, name)
		out, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f(out); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mixed := gen("mixed.bin", func(w io.Writer) error { return gendata.Mixed(w, size, 1) })
	inputs := []struct {
		name, path   string
		ours, theirs []string // extra make options
	}{
		{"random", gen("random.bin", func(w io.Writer) error { return gendata.Random(w, size, 2) }), nil, nil},
		{"text", gen("text.bin", func(w io.Writer) error { return gendata.Text(w, size, 3) }), nil, nil},
		{"mixed", mixed, nil, nil},
		{"edited", gen("edited.bin", func(w io.Writer) error {
			f, err := os.Open(mixed)
			if err != nil {
				return err
			}
			defer f.Close()
			return gendata.Edit(w, f, size, 4)
		}), nil, nil},
		{"text-sha256-custom-sizes", filepath.Join(dir, "text.bin"),
			[]string{"--digest", "sha256", "-m", "20000B:30000B:40000B"},
			[]string{"--digest=sha256", "--chunk-size=20000:30000:40000"}},
		{"mixed-fixed-size", mixed, []string{"-m", "64K:64K:64K"}, []string{"--chunk-size=65536:65536:65536"}},
	}
	ourStore, theirStore := filepath.Join(dir, "ours.castr"), filepath.Join(dir, "casync.castr")
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			ourIdx, theirIdx := filepath.Join(dir, in.name+".ours.caibx"), filepath.Join(dir, in.name+".casync.caibx")
			execOK(t, desync, append(append([]string{"make", "-s", ourStore}, in.ours...), ourIdx, in.path)...)
			execOK(t, casync, append(append([]string{"make", "--store=" + theirStore}, in.theirs...), theirIdx, in.path)...)
			if !bytes.Equal(mustRead(t, ourIdx), mustRead(t, theirIdx)) {
				t.Fatal("our index differs from casync's")
			}
			out := filepath.Join(dir, "out")
			os.Remove(out)
			execOK(t, casync, "extract", "--store="+ourStore, ourIdx, out)
			sameFiles(t, out, in.path)
			os.Remove(out)
			execOK(t, desync, "extract", "-s", theirStore, theirIdx, out)
			sameFiles(t, out, in.path)
			os.Remove(out)
		})
	}
}

// TestInterrupt sends SIGINT to a make that is reading a stdin that never
// ends: it must stop promptly, fail, and leave no index and no temp files.
func TestInterrupt(t *testing.T) {
	desync := desyncBinary(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	idx := filepath.Join(dir, "x.caibx")
	cmd := exec.Command(desync, "make", "-s", store, idx, "-")
	stdin, _ := cmd.StdinPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := gendata.Random(stdin, 8<<20, 9); err != nil { // chunks get stored; then stdin stays open
		t.Fatal(err)
	}
	if err := interrupt(cmd.Process); err != nil {
		t.Skip("cannot send SIGINT here:", err)
	}
	err := cmd.Wait()
	stdin.Close()
	if err == nil || cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("make exited with %v, want status 1; stderr: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupt") {
		t.Errorf("stderr does not say it was cancelled: %s", stderr.String())
	}
	if _, err := os.Stat(idx); err == nil {
		t.Error("index written by an interrupted make")
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if strings.HasSuffix(p, ".tmp") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}
