//go:build linux

package assemble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"
)

// xfsMount mounts a fresh XFS with reflinks (a loop-mounted image) and
// returns its directory. It needs root and xfsprogs; without them the test
// is skipped, or fails in CI.
func xfsMount(t *testing.T) string {
	t.Helper()
	skip := func(format string, a ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" || os.Getenv("DESYNC_REQUIRE_XFS") != "" {
			t.Fatalf(format, a...)
		}
		t.Skipf(format+" (CI=true makes this a failure)", a...)
	}
	if os.Geteuid() != 0 {
		skip("reflink test: needs root to mount an XFS image")
	}
	if _, err := exec.LookPath("mkfs.xfs"); err != nil {
		skip("reflink test: mkfs.xfs not found (apt-get install xfsprogs)")
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "xfs.img"), filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 320<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.xfs", "-q", "-m", "reflink=1", img).CombinedOutput(); err != nil {
		skip("mkfs.xfs: %v: %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		skip("mounting the XFS image: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	return mnt
}

// sharedExtentBytes sums the extents of path that the file system reports
// as shared with another file (FIEMAP_EXTENT_SHARED).
func sharedExtentBytes(t *testing.T, path string) uint64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const (
		fsIocFiemap   = 0xc020660b
		flagSync      = 0x1
		extentLast    = 0x1
		extentShared  = 0x2000
		headerSize    = 32
		extentSize    = 56
		extentsPerCal = 256
	)
	var shared uint64
	start := uint64(0)
	for {
		buf := make([]byte, headerSize+extentsPerCal*extentSize)
		binary.LittleEndian.PutUint64(buf[0:], start)
		binary.LittleEndian.PutUint64(buf[8:], ^uint64(0)-start)
		binary.LittleEndian.PutUint32(buf[16:], flagSync)
		binary.LittleEndian.PutUint32(buf[24:], extentsPerCal)
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), fsIocFiemap, uintptr(unsafe.Pointer(&buf[0]))); errno != 0 {
			t.Fatalf("FIEMAP %s: %v", path, errno)
		}
		n := binary.LittleEndian.Uint32(buf[20:])
		if n == 0 {
			return shared
		}
		for i := range n {
			e := buf[headerSize+i*extentSize:]
			logical, length := binary.LittleEndian.Uint64(e[0:]), binary.LittleEndian.Uint64(e[16:])
			flags := binary.LittleEndian.Uint32(e[40:])
			if flags&extentShared != 0 {
				shared += length
			}
			if flags&extentLast != 0 {
				return shared
			}
			start = logical + length
		}
	}
}

// TestReflinkXFS: an append-only update on XFS clones most of the file from
// the seed; the output's extents are shared with it.
func TestReflinkXFS(t *testing.T) {
	mnt := xfsMount(t)
	ctx := context.Background()
	old := randomBytes(1, 16<<20)
	f := newSeedFixture(t, old, concat(old, randomBytes(2, 1<<20)))
	seedPath := filepath.Join(mnt, "old.bin")
	if err := os.WriteFile(seedPath, old, 0o644); err != nil {
		t.Fatal(err)
	}
	seed := Seed{Path: seedPath, Index: f.oldIx}

	for name, seed := range map[string]Seed{"clone": seed, "clone from a plain file": {Path: seedPath}} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(mnt, "new.bin")
			stats, err := ExtractFile(ctx, f.ix, out, ExtractOptions{Store: f.store, Seeds: []Seed{seed}})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(mustRead(t, out), f.new) {
				t.Fatal("output differs")
			}
			checkStatsAddUp(t, f.ix, stats)
			if stats.BytesClonedFromSeeds < uint64(len(old))*9/10 {
				t.Errorf("cloned %d bytes of %d the seed holds (stats %+v)", stats.BytesClonedFromSeeds, len(old), stats)
			}
			if stats.BlockSize != 4096 {
				t.Errorf("blocksize %d, want XFS's 4096", stats.BlockSize)
			}
			if shared := sharedExtentBytes(t, out); shared < uint64(len(old))*9/10 {
				t.Errorf("%d bytes of the output share extents, want most of %d", shared, len(old))
			}
		})
	}

	t.Run("copy", func(t *testing.T) {
		out := filepath.Join(mnt, "copied.bin")
		stats, err := ExtractFile(ctx, f.ix, out, ExtractOptions{Store: f.store, Seeds: []Seed{seed}, NoReflink: true})
		if err != nil {
			t.Fatal(err)
		}
		if stats.BytesClonedFromSeeds != 0 || stats.BytesCopiedFromSeeds < uint64(len(old))*9/10 {
			t.Errorf("NoReflink: cloned %d, copied %d", stats.BytesClonedFromSeeds, stats.BytesCopiedFromSeeds)
		}
		if shared := sharedExtentBytes(t, out); shared != 0 {
			t.Errorf("%d bytes share extents after a copy", shared)
		}
	})

	t.Run("tampered seed", func(t *testing.T) {
		// Cloned data is verified too: a seed changed after its index was
		// made is caught, and with skip the output is still exact.
		bad := filepath.Join(mnt, "bad.bin")
		b := append([]byte(nil), old...)
		copy(b[5<<20:], randomBytes(3, 100))
		os.WriteFile(bad, b, 0o644)
		badSeed := Seed{Path: bad, Index: f.oldIx}
		out := filepath.Join(mnt, "out-bad.bin")
		_, err := ExtractFile(ctx, f.ix, out, ExtractOptions{Store: f.store, Seeds: []Seed{badSeed}})
		var se *SeedError
		if !errors.As(err, &se) {
			t.Fatalf("err = %v, want a SeedError", err)
		}
		stats, err := ExtractFile(ctx, f.ix, out, ExtractOptions{Store: f.store, Seeds: []Seed{badSeed}, InvalidSeeds: InvalidSeedSkip})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mustRead(t, out), f.new) {
			t.Fatal("output differs")
		}
		if stats.BytesClonedFromSeeds == 0 || len(stats.InvalidSeeds) != 1 {
			t.Errorf("stats %+v", stats)
		}
	})
}
