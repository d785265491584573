package fuse

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/folbricht/desync/chunk"
)

func TestBlobReadAt(t *testing.T) {
	f := newFixture(t, 3<<20, 1)
	b := NewBlob(f.ix, BlobOptions{Store: f.store, ReadAhead: 256 << 10})
	defer b.Close()
	if b.Size() != int64(len(f.data)) {
		t.Fatalf("size %d, want %d", b.Size(), len(f.data))
	}
	// Sequentially, in reads of odd sizes.
	var got []byte
	buf := make([]byte, 100_000)
	for off := int64(0); ; {
		n, err := b.ReadAt(buf, off)
		got = append(got, buf[:n]...)
		off += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, f.data) {
		t.Fatal("sequential reads differ from the blob")
	}
	// Random reads from several goroutines.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			p := make([]byte, 300_000)
			for range 100 {
				off := rng.Int64N(int64(len(f.data)))
				n := rng.IntN(len(p)) + 1
				m, err := b.ReadAt(p[:n], off)
				want := f.data[off:min(off+int64(n), int64(len(f.data)))]
				if (err != nil && err != io.EOF) || !bytes.Equal(p[:m], want) {
					errs <- errors.New("random read differs")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Memory stays bounded.
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bytes > b.capa+int64(4*f.ix.Max) {
		t.Errorf("cache holds %d bytes, limit %d", b.bytes, b.capa)
	}
}

// TestBlobMissingChunk: a missing chunk fails the reads that need it,
// naming it and its offset, and only those.
func TestBlobMissingChunk(t *testing.T) {
	f := newFixture(t, 2<<20, 2)
	bad := len(f.ix.Chunks) / 2
	f.removeChunk(t, bad)
	b := NewBlob(f.ix, BlobOptions{Store: f.store})
	defer b.Close()
	c := f.ix.Chunks[bad]
	p := make([]byte, 10)
	_, err := b.ReadAt(p, int64(c.Start)+5)
	if !errors.Is(err, chunk.ErrMissing) || !strings.Contains(err.Error(), c.ID.String()) {
		t.Fatalf("read of the missing chunk: %v", err)
	}
	// Everything else reads.
	for i, o := range f.ix.Chunks {
		if i == bad {
			continue
		}
		p := make([]byte, o.Size)
		if _, err := b.ReadAt(p, int64(o.Start)); err != nil || !bytes.Equal(p, f.data[o.Start:o.End()]) {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
}

// TestBlobCOR: chunks read land in the copy-on-read file, a saved state
// lets another Blob read them without a store, and a state whose chunks
// do not match is not trusted.
func TestBlobCOR(t *testing.T) {
	f := newFixture(t, 2<<20, 3)
	dir := t.TempDir()
	corPath, statePath := filepath.Join(dir, "blob.cor"), filepath.Join(dir, "state")
	cor, err := OpenCOR(corPath, f.ix)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBlob(f.ix, BlobOptions{Store: f.store, COR: cor})
	got := make([]byte, len(f.data))
	if _, err := b.ReadAt(got, 0); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	b.Close()
	if err := cor.SaveState(statePath); err != nil {
		t.Fatal(err)
	}
	cor.Close()
	onDisk, err := os.ReadFile(corPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, f.data) {
		t.Fatal("the copy-on-read file differs from the blob after a full read")
	}
	state, _ := os.ReadFile(statePath)
	if len(state) != (len(f.ix.Chunks)+7)/8 {
		t.Fatalf("state of %d bytes for %d chunks", len(state), len(f.ix.Chunks))
	}

	// Again, from the file only.
	cor2, err := OpenCOR(corPath, f.ix)
	if err != nil {
		t.Fatal(err)
	}
	defer cor2.Close()
	sf, _ := os.Open(statePath)
	marked, mismatched, err := cor2.LoadState(sf, 3)
	sf.Close()
	if err != nil || marked != len(f.ix.Chunks) || mismatched != 0 {
		t.Fatalf("LoadState: %d marked, %d mismatched, %v", marked, mismatched, err)
	}
	b2 := NewBlob(f.ix, BlobOptions{Store: emptyStore(t), COR: cor2})
	defer b2.Close()
	if _, err := b2.ReadAt(got, 0); err != nil && err != io.EOF {
		t.Fatalf("read from the copy-on-read file: %v", err)
	}
	if !bytes.Equal(got, f.data) {
		t.Fatal("read from the copy-on-read file differs")
	}

	// A damaged chunk in the file is not trusted.
	os.WriteFile(corPath+"2", append([]byte{onDisk[0] ^ 1}, onDisk[1:]...), 0o644)
	cor3, err := OpenCOR(corPath+"2", f.ix)
	if err != nil {
		t.Fatal(err)
	}
	defer cor3.Close()
	marked, mismatched, err = cor3.LoadState(bytes.NewReader(state), 2)
	if err != nil || mismatched != 1 || marked != len(f.ix.Chunks)-1 || cor3.has(0) {
		t.Fatalf("LoadState of a damaged file: %d marked, %d mismatched, %v", marked, mismatched, err)
	}
	if _, _, err := cor3.LoadState(bytes.NewReader(state[1:]), 1); err == nil {
		t.Error("a state of the wrong length loaded")
	}
}

// TestBlobSetStore: reads go on with the new store, and the old one is
// closed.
func TestBlobSetStore(t *testing.T) {
	f := newFixture(t, 1<<20, 4)
	b := NewBlob(f.ix, BlobOptions{Store: emptyStore(t), ReadAhead: -1})
	defer b.Close()
	p := make([]byte, 1000)
	if _, err := b.ReadAt(p, 0); !errors.Is(err, chunk.ErrMissing) {
		t.Fatalf("read from the empty store: %v", err)
	}
	b.SetStore(f.store)
	if _, err := b.ReadAt(p, 0); err != nil || !bytes.Equal(p, f.data[:1000]) {
		t.Fatalf("read after SetStore: %v", err)
	}
}

// hangingStore answers no request until its context is done.
type hangingStore struct{}

func (hangingStore) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	<-ctx.Done()
	return nil, context.Cause(ctx)
}
func (hangingStore) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	<-ctx.Done()
	return false, context.Cause(ctx)
}
func (hangingStore) Close() error   { return nil }
func (hangingStore) String() string { return "hanging" }

// TestBlobHangingStore: a store that never answers is an error for the
// reader once the chunk timeout passes, naming the chunk, not a hang.
func TestBlobHangingStore(t *testing.T) {
	f := newFixture(t, 1<<20, 9)
	b := NewBlob(f.ix, BlobOptions{Store: hangingStore{}, ChunkTimeout: 100 * time.Millisecond})
	defer b.Close()
	done := make(chan error, 1)
	go func() {
		_, err := b.ReadAt(make([]byte, 10), 0)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), f.ix.Chunks[0].ID.String()) || !strings.Contains(err.Error(), "no answer") {
			t.Errorf("read from a hanging store: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a read from a hanging store hangs")
	}
}
