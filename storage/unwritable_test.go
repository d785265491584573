package storage

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folbricht/desync/chunk"
)

// unprivilegedEnv marks the run of this test binary that TestUnwritableStore
// starts as an unprivileged user when it runs as root.
const unprivilegedEnv = "DESYNC_TEST_UNPRIVILEGED"

// TestUnwritableStore writes a chunk to a store in a directory the process
// may not write to: the write fails with a permission error naming the store,
// while the same chunk goes to a writable store. Root writes anywhere, so as
// root (which is how CI runs) the test runs again in a copy of this binary
// started as the user nobody; when that cannot be done it skips, or fails
// with CI=true.
func TestUnwritableStore(t *testing.T) {
	if os.Geteuid() == 0 {
		if os.Getenv(unprivilegedEnv) != "" {
			t.Fatal("the unprivileged run still has uid 0")
		}
		runUnprivileged(t, "TestUnwritableStore")
		return
	}
	ctx := context.Background()
	c := chunk.New(chunk.SHA512_256.Sum([]byte("x")), []byte("x"))
	rw := t.TempDir()
	if s, err := NewLocal(rw, LocalOptions{}); err != nil {
		t.Fatal(err)
	} else if err := s.StoreChunk(ctx, c); err != nil {
		t.Fatalf("writable store: %v", err)
	} else if err := s.Close(); err != nil {
		t.Fatalf("writable store: %v", err)
	}
	ro := t.TempDir()
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	s, err := NewLocal(ro, LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.StoreChunk(ctx, c)
	if err == nil {
		err = s.Close() // a batched write may fail only when flushed
	}
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), ro) {
		t.Errorf("unwritable store: %v, want a permission error naming %s", err, ro)
	}
	if left, _ := filepath.Glob(filepath.Join(ro, "*")); len(left) != 0 {
		t.Errorf("the failed write left %v", left)
	}
}

// cannotTest skips the test with the reason, or fails it with CI=true, where
// every test must really run.
func cannotTest(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (CI=true makes this a failure)", args...)
}
