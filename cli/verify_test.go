package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerifyStore(t *testing.T) {
	f := newFixture(t)
	r := mustRun(t, nil, "verify", "-s", f.store)
	if want := fmt.Sprintf("%d chunks checked, 0 invalid", len(f.ids)); !strings.Contains(r.stderr, want) {
		t.Errorf("verify: %q does not say %q", r.stderr, want)
	}
	victim, other := f.ids[3], f.ids[4]
	corrupt(t, chunkPath(f.store, victim), mustRead(t, chunkPath(f.store, other)))
	r = expect(t, 1, nil, []string{victim, "1 invalid", "-r"}, "verify", "-s", f.store)
	if strings.Contains(r.stderr, "invalid chunk "+other) {
		t.Errorf("verify blames a sound chunk: %s", r.stderr)
	}
	mustRun(t, nil, "verify", "-s", f.store, "-r")
	if _, err := os.Stat(chunkPath(f.store, victim)); !os.IsNotExist(err) {
		t.Errorf("verify -r left the invalid chunk: %v", err)
	}
	got := storeChunks(t, f.store)
	if len(got) != len(f.ids)-1 {
		t.Errorf("verify -r left %d chunks, want %d", len(got), len(f.ids)-1)
	}
	r = mustRun(t, nil, "verify", "-s", f.store)
	if want := fmt.Sprintf("%d chunks checked, 0 invalid", len(f.ids)-1); !strings.Contains(r.stderr, want) {
		t.Errorf("verify after repair: %q does not say %q", r.stderr, want)
	}
	// The deleted chunk is written again by chop.
	mustRun(t, nil, "chop", "-s", f.store, f.index, f.input)
	assertSameIDs(t, "store", storeChunks(t, f.store), f.ids)
	expect(t, 2, nil, []string{"no store"}, "verify")
	expect(t, 2, nil, nil, "verify", "-s", f.store, "extra")
}

// TestVerifyMisplaced: a chunk file under another chunk's directory is
// reported by name (not skipped), counted, and deleted by verify -r.
func TestVerifyMisplaced(t *testing.T) {
	f := newFixture(t)
	id := f.ids[0]
	wrong := "abcd"
	if id[:4] == wrong {
		wrong = "abce"
	}
	name := wrong + "/" + id + ".cacnk"
	if err := os.MkdirAll(filepath.Join(f.store, wrong), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(chunkPath(f.store, id), filepath.Join(f.store, name)); err != nil {
		t.Fatal(err)
	}
	n := len(f.ids)
	expect(t, 1, nil, []string{"misplaced chunk file " + name, fmt.Sprintf("%d chunks checked, 0 invalid, 1 misplaced, 0 deleted", n), "-r"},
		"verify", "-s", f.store)
	expect(t, 0, nil, []string{name, fmt.Sprintf("%d chunks checked, 0 invalid, 1 misplaced, 1 deleted", n)}, "verify", "-s", f.store, "-r")
	if _, err := os.Stat(filepath.Join(f.store, name)); !os.IsNotExist(err) {
		t.Errorf("verify -r left %s: %v", name, err)
	}
	expect(t, 0, nil, []string{fmt.Sprintf("%d chunks checked, 0 invalid, 0 misplaced, 0 deleted", n-1)}, "verify", "-s", f.store)
}

// TestVerifyZstdBomb: a chunk file of a few hundred KiB that decodes to
// 8 GiB is reported invalid, naming the chunk and the size cap (the
// decoder stops at the cap), and verify -r deletes it.
func TestVerifyZstdBomb(t *testing.T) {
	isolate(t)
	store := t.TempDir()
	// A zstd frame of 128 KiB RLE blocks of zeros, without a content size.
	bomb := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3}
	const block = 128 << 10
	for n := 8 << 30; n > 0; n -= block {
		h := uint32(block)<<3 | 1<<1
		if n == block {
			h |= 1
		}
		bomb = append(bomb, byte(h), byte(h>>8), byte(h>>16), 0)
	}
	id := strings.Repeat("7b", 32)
	if err := os.MkdirAll(filepath.Join(store, id[:4]), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, chunkPath(store, id), bomb)
	expect(t, 1, nil, []string{"invalid chunk " + id, "more than the 134217728-byte limit", "1 chunks checked, 1 invalid"}, "verify", "-s", store)
	expect(t, 0, nil, []string{"1 invalid, 0 misplaced, 1 deleted"}, "verify", "-s", store, "-r")
	if _, err := os.Stat(chunkPath(store, id)); !os.IsNotExist(err) {
		t.Errorf("verify -r left the bomb: %v", err)
	}
}
