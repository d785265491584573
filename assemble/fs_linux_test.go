//go:build linux

package assemble

import (
	"bytes"
	"context"
	"errors"
	"github.com/folbricht/desync/assemble/reflinktest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReflinkXFS: an append-only update on XFS clones most of the file from
// the seed; the output's extents are shared with it.
func TestReflinkXFS(t *testing.T) {
	mnt := reflinktest.XFSMount(t)
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
			if shared := reflinktest.SharedExtentBytes(t, out); shared < uint64(len(old))*9/10 {
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
		if shared := reflinktest.SharedExtentBytes(t, out); shared != 0 {
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

// loopDevice attaches a file holding data (padded to size) to a loop
// device and returns the device's path. Needs root and losetup.
func loopDevice(t *testing.T, data []byte, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("block device test: needs root for a loop device")
		}
		t.Skip("block device test: needs root for a loop device (CI=true makes this a failure)")
	}
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("losetup: %v: %s", err, out)
		}
		t.Skipf("losetup: %v: %s", err, out)
	}
	dev := string(bytes.TrimSpace(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", dev, err, out)
		}
	})
	return dev
}

// TestBlockDevices: in-place extraction onto a block device (an A/B
// partition update), and a block device as a seed without an index.
func TestBlockDevices(t *testing.T) {
	ctx := context.Background()
	old := randomBytes(1, 4<<20)
	f := newSeedFixture(t, old, concat(old[:2<<20], randomBytes(2, 40000), old[2<<20:]))

	t.Run("in place", func(t *testing.T) {
		dev := loopDevice(t, old, 8<<20)
		stats, err := ExtractFile(ctx, f.ix, dev, ExtractOptions{Store: f.store, InPlace: true})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(f.new))
		fh, err := os.Open(dev)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		if _, err := fh.ReadAt(got, 0); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.new) {
			t.Fatal("device content differs")
		}
		if stats.ChunksInPlace == 0 {
			t.Errorf("no chunk found in place on the device: %+v", stats)
		}
	})

	t.Run("too small", func(t *testing.T) {
		dev := loopDevice(t, nil, 1<<20)
		_, err := ExtractFile(ctx, f.ix, dev, ExtractOptions{Store: f.store, InPlace: true})
		if err == nil || !strings.Contains(err.Error(), "device holds") {
			t.Fatalf("err = %v, want the device to be too small", err)
		}
	})

	t.Run("not in place", func(t *testing.T) {
		dev := loopDevice(t, nil, 8<<20)
		if _, err := ExtractFile(ctx, f.ix, dev, ExtractOptions{Store: f.store}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("err = %v, want a refusal to replace a device", err)
		}
	})

	t.Run("seed", func(t *testing.T) {
		// The other partition holds the old version, padded: chunked on the
		// fly, it supplies the shared chunks (hashed as they are copied,
		// since a device's timestamps do not track writes).
		dev := loopDevice(t, old, 6<<20)
		out := filepath.Join(t.TempDir(), "out")
		stats, err := ExtractFile(ctx, f.ix, out, ExtractOptions{Store: f.store, Seeds: []Seed{{Path: dev}}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mustRead(t, out), f.new) {
			t.Fatal("output differs")
		}
		if stats.BytesCopiedFromSeeds < uint64(len(old))*8/10 {
			t.Errorf("copied %d bytes from the device seed: %+v", stats.BytesCopiedFromSeeds, stats)
		}
	})
}
