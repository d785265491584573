package storage_test

import (
	"context"
	"errors"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// TestVerifyStore: an invalid chunk and a misplaced chunk file are reported
// (naming the chunk and the store), counted, left alone without Repair and
// deleted with it; sound chunks are neither reported nor deleted. The store
// is behind a decorator, which VerifyStore looks through.
func TestVerifyStore(t *testing.T) {
	ctx := context.Background()
	cs := testChunks(6)
	l := newLocal(t, cs...)
	s := storage.NewDedup(l)
	bad, moved := cs[1].ID(), cs[3].ID()
	other, err := os.ReadFile(l.Path(cs[2].ID()))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.Path(bad), other, 0o644); err != nil {
		t.Fatal(err)
	}
	wrongDir := "abcd"
	if moved.String()[:4] == wrongDir {
		wrongDir = "abce"
	}
	name := wrongDir + "/" + filepath.Base(l.Path(moved))
	if err := os.MkdirAll(filepath.Join(l.String(), wrongDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(l.Path(moved), filepath.Join(l.String(), name)); err != nil {
		t.Fatal(err)
	}

	verify := func(repair bool) (storage.VerifyReport, []storage.VerifyProblem) {
		t.Helper()
		var mu sync.Mutex
		var got []storage.VerifyProblem
		r, err := storage.VerifyStore(ctx, s, storage.VerifyOptions{Concurrency: 3, Repair: repair, Problem: func(p storage.VerifyProblem) {
			mu.Lock()
			got = append(got, p)
			mu.Unlock()
		}})
		if err != nil {
			t.Fatalf("VerifyStore(repair=%v): %v", repair, err)
		}
		return r, got
	}
	checkProblems := func(got []storage.VerifyProblem) {
		t.Helper()
		if len(got) != 2 {
			t.Fatalf("%d problems reported, want 2: %v", len(got), got)
		}
		// Misplaced files come first.
		var mis *storage.MisplacedError
		if p := got[0]; p.ID != moved || p.Name != name || !errors.As(p.Err, &mis) ||
			!strings.Contains(p.Err.Error(), name) || !strings.Contains(p.Err.Error(), l.String()) {
			t.Errorf("misplaced file reported as %+v (%v)", p, p.Err)
		}
		var inv *chunk.InvalidError
		if p := got[1]; p.ID != bad || p.Name != "" || !errors.As(p.Err, &inv) ||
			!strings.Contains(p.Err.Error(), bad.String()) || !strings.Contains(p.Err.Error(), l.String()) {
			t.Errorf("invalid chunk reported as %+v (%v)", p, p.Err)
		}
	}

	r, got := verify(false)
	if want := (storage.VerifyReport{Checked: 6, Invalid: 1, Misplaced: 1}); r != want {
		t.Errorf("report %+v, want %+v", r, want)
	}
	checkProblems(got)
	for _, p := range []string{l.Path(bad), filepath.Join(l.String(), name)} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("verify without repair deleted %s: %v", p, err)
		}
	}

	r, got = verify(true)
	if want := (storage.VerifyReport{Checked: 6, Invalid: 1, Misplaced: 1, Removed: 2}); r != want {
		t.Errorf("report with repair %+v, want %+v", r, want)
	}
	checkProblems(got)
	for _, p := range []string{l.Path(bad), filepath.Join(l.String(), name)} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("repair left %s: %v", p, err)
		}
	}

	r, got = verify(false)
	if want := (storage.VerifyReport{Checked: 4}); r != want || len(got) != 0 {
		t.Errorf("after repair: report %+v, problems %v; want %+v and none", r, got, want)
	}
	for _, i := range []int{0, 2, 4, 5} {
		if _, err := l.GetChunk(ctx, cs[i].ID()); err != nil {
			t.Errorf("sound chunk %d: %v", i, err)
		}
	}
}

// plainStore is a store with none of the optional capabilities.
type plainStore struct{ chunk.Store }

// listingStore lists ids (then fails with listErr, if set) and answers
// every read with readErr, if set.
type listingStore struct {
	plainStore
	ids              []chunk.ID
	listErr, readErr error
	read             sync.Map // the ids read
}

func (s *listingStore) ListChunks(ctx context.Context) iter.Seq2[chunk.ID, error] {
	return func(yield func(chunk.ID, error) bool) {
		for _, id := range s.ids {
			if !yield(id, nil) {
				return
			}
		}
		if s.listErr != nil {
			yield(chunk.ID{}, s.listErr)
		}
	}
}

func (s *listingStore) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	s.read.Store(id, true)
	if s.readErr != nil {
		return nil, s.readErr
	}
	return chunk.New(id, nil), nil
}

func (s *listingStore) String() string { return "test-store" }

// TestVerifyStoreErrors: what keeps VerifyStore from checking is an error
// naming the store: no listing, no deleting for a repair, a failed listing,
// a failed read (which also stops the reads).
func TestVerifyStoreErrors(t *testing.T) {
	ctx := context.Background()
	cs := testChunks(1)
	l := newLocal(t, cs...)
	if _, err := storage.VerifyStore(ctx, plainStore{l}, storage.VerifyOptions{}); err == nil || !strings.Contains(err.Error(), "cannot list") {
		t.Errorf("store without a listing: %v", err)
	}
	ids := make([]chunk.ID, 100)
	for i := range ids {
		ids[i][0], ids[i][1] = byte(i), 1
	}
	if _, err := storage.VerifyStore(ctx, &listingStore{plainStore: plainStore{l}, ids: ids}, storage.VerifyOptions{Repair: true}); err == nil || !strings.Contains(err.Error(), "cannot delete") {
		t.Errorf("repair of a store that cannot delete: %v", err)
	}

	listErr := errors.New("listing broke")
	r, err := storage.VerifyStore(ctx, &listingStore{plainStore: plainStore{l}, ids: ids, listErr: listErr}, storage.VerifyOptions{Concurrency: 4})
	if !errors.Is(err, listErr) {
		t.Errorf("failed listing: %v", err)
	}
	if r.Checked != len(ids) {
		t.Errorf("failed listing: %d checked before it, want %d", r.Checked, len(ids))
	}

	readErr := &chunk.MissingError{ID: ids[0], Store: "test-store"}
	ls := &listingStore{plainStore: plainStore{l}, ids: ids, readErr: readErr}
	_, err = storage.VerifyStore(ctx, ls, storage.VerifyOptions{Concurrency: 2})
	if !errors.Is(err, readErr) || !strings.Contains(err.Error(), "test-store") {
		t.Errorf("failed read: %v", err)
	}
	var n int
	ls.read.Range(func(any, any) bool { n++; return true })
	if n > 2 {
		t.Errorf("%d chunks read after the first read failed on 2 workers", n)
	}
}
