package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	var unlock int32
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, m.Fd(), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatal(errno)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// runOnTerminal runs desync with stderr on a pseudo-terminal and returns
// what it wrote there.
func runOnTerminal(t *testing.T, args ...string) string {
	t.Helper()
	master, slave := openPTY(t)
	cmd := asDesync(args...)
	cmd.Stderr = slave
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, master); close(done) }()
	if err := cmd.Run(); err != nil {
		t.Fatalf("desync %v: %v\n%s", args, err, out.String())
	}
	slave.Close()
	master.Close() // ends the copy, with what was read so far
	<-done
	return out.String()
}

// TestProgressOnTerminal: make, extract and cache show their phases on a
// terminal, the last line of each with the time and rate (or where it
// stopped), and nothing when stderr is a pipe or a file.
func TestProgressOnTerminal(t *testing.T) {
	isolate(t)
	for _, v := range []string{"DESYNC_ENABLE_PARSABLE_PROGRESS", "DESYNC_PROGRESSBAR_ENABLED"} {
		os.Unsetenv(v)
	}
	dir := t.TempDir()
	data := genRandom(t, 48<<20, 3)
	in := writeFile(t, filepath.Join(dir, "in"), data)
	index, store := filepath.Join(dir, "in.caibx"), filepath.Join(dir, "store")

	tty := runOnTerminal(t, "make", "-s", store, index, in)
	for _, re := range []string{
		`\rChunking 48\.0 MiB in [0-9.]+m?s \([0-9.]+ [KMG]iB/s\)\x1b\[K\r?\n`,
		`\rFlushing took [0-9.]+m?s\x1b\[K\r?\n`,
	} {
		if !regexp.MustCompile(re).MatchString(tty) {
			t.Errorf("make on a terminal: no line matching %q in %q", re, tty)
		}
	}
	if strings.Contains(tty, "stopped") {
		t.Errorf("make on a terminal says it stopped: %q", tty)
	}
	tty = runOnTerminal(t, "extract", "-s", store, index, filepath.Join(dir, "out"))
	for _, re := range []string{
		`\rAssembling 48\.0 MiB in [0-9.]+m?s \([0-9.]+ [KMG]iB/s\)\x1b\[K\r?\n`,
		`\rSyncing took [0-9.]+m?s\x1b\[K\r?\n`,
	} {
		if !regexp.MustCompile(re).MatchString(tty) {
			t.Errorf("extract on a terminal: no line matching %q in %q", re, tty)
		}
	}

	tty = runOnTerminal(t, "cache", "-s", store, "-c", filepath.Join(dir, "cache"), index)
	if re := `\rCaching 48\.0 MiB in [0-9.]+m?s \([0-9.]+ [KMG]iB/s\)\x1b\[K\r?\n`; !regexp.MustCompile(re).MatchString(tty) {
		t.Errorf("cache on a terminal: no line matching %q in %q", re, tty)
	}

	// Not a terminal: nothing but what the command says anyway.
	cmd := asDesync("make", "-s", store, index, in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() != 0 {
		t.Errorf("make with stderr a pipe: %v, stderr %q", err, stderr.String())
	}
}

// TestProgressStopped: a display ended before its total says where it
// stopped, not 100%.
func TestProgressStopped(t *testing.T) {
	var b bytes.Buffer
	d := &barDisplay{w: &b, width: 100}
	d.final(state{op: "Assembling", total: 1000, done: 420, elapsed: 2e9})
	if got := b.String(); !strings.Contains(got, "Assembling stopped at 42% (420 B in 2.0s)") || strings.Contains(got, "100%") {
		t.Errorf("final line %q", got)
	}
	b.Reset()
	// No rate in the first second: it would measure start-up.
	d.draw(state{op: "Chunking", total: 1 << 30, done: 300 << 20, elapsed: 2e8})
	if got := b.String(); strings.Contains(got, "/s") || !strings.Contains(got, " 29%  300.0 MiB / 1.0 GiB") {
		t.Errorf("first tick %q", got)
	}
	b.Reset()
	d.draw(state{op: "Chunking", total: 1 << 30, done: 512 << 20, elapsed: 4e9})
	if got := b.String(); !strings.Contains(got, "128.0 MiB/s  ETA 4.0s") || !strings.Contains(got, "[") || len(got) > 100+10 {
		t.Errorf("later tick %q", got)
	}
}
