package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

// testChunks returns n distinct chunks of a few KiB.
func testChunks(n int) []*chunk.Chunk {
	out := make([]*chunk.Chunk, n)
	for i := range out {
		b := bytes.Repeat([]byte(fmt.Sprintf("chunk %d ", i)), 300+i)
		out[i] = chunk.New(chunk.SHA512_256.Sum(b), b)
	}
	return out
}

// newLocal returns a local store in a new directory holding chunks.
func newLocal(t *testing.T, chunks ...*chunk.Chunk) *storage.Local {
	t.Helper()
	s, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"), storage.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range chunks {
		if err := s.StoreChunk(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// wantChunk checks that s returns c's content.
func wantChunk(t *testing.T, s chunk.Store, c *chunk.Chunk) {
	t.Helper()
	got, err := s.GetChunk(context.Background(), c.ID())
	if err != nil {
		t.Fatalf("GetChunk(%s): %v", c.ID(), err)
	}
	a, _ := got.Plain()
	b, _ := c.Plain()
	if !bytes.Equal(a, b) {
		t.Fatalf("GetChunk(%s): wrong content", c.ID())
	}
}

var errDown = storage.Transient(errors.New("connection refused"))

func TestRouter(t *testing.T) {
	ctx := context.Background()
	cs := testChunks(3)
	a, b := newLocal(t, cs[0]), newLocal(t, cs[1])
	r := storage.NewRouter(a, b)
	wantChunk(t, r, cs[0])
	wantChunk(t, r, cs[1]) // missing from a, found in b
	_, err := r.GetChunk(ctx, cs[2].ID())
	if !errors.Is(err, chunk.ErrMissing) || !strings.Contains(err.Error(), a.String()) || !strings.Contains(err.Error(), b.String()) {
		t.Errorf("chunk in no store: %v", err)
	}
	if ok, err := r.HasChunk(ctx, cs[1].ID()); !ok || err != nil {
		t.Errorf("HasChunk = %v, %v", ok, err)
	}

	// A broken store is reported, not skipped: b is never asked.
	down := storagetest.NewDown(newLocal(t), errDown)
	bc := storagetest.NewCounting(b)
	r = storage.NewRouter(down, bc)
	if _, err := r.GetChunk(ctx, cs[1].ID()); !errors.Is(err, errDown) {
		t.Errorf("broken first store: %v", err)
	}
	if _, err := r.HasChunk(ctx, cs[1].ID()); !errors.Is(err, errDown) {
		t.Errorf("broken first store, HasChunk: %v", err)
	}
	if n := bc.Total(); n.Get+n.Has != 0 {
		t.Errorf("router asked the next store after an error: %+v", n)
	}
	if err := r.Close(); err != nil {
		t.Error(err)
	}
}

func TestFailover(t *testing.T) {
	ctx := context.Background()
	cs := testChunks(2)
	first := storagetest.NewDown(newLocal(t, cs[0]), errDown)
	second := storagetest.NewCounting(newLocal(t, cs[0]))
	g := storage.NewFailover(nil, first, second)
	if !strings.Contains(g.String(), "|") {
		t.Errorf("group name %q", g.String())
	}
	wantChunk(t, g, cs[0])
	wantChunk(t, g, cs[0])
	if first.Calls() != 1 || second.Total().Get != 2 {
		t.Errorf("after a failover the group should stay on the second store: first %d calls, second %+v", first.Calls(), second.Total())
	}
	// Missing from the active member is missing: the members are mirrors.
	if _, err := g.GetChunk(ctx, cs[1].ID()); !errors.Is(err, chunk.ErrMissing) || first.Calls() != 1 {
		t.Errorf("missing chunk: %v (first store asked %d times)", err, first.Calls())
	}

	// An invalid chunk is a failure of that member.
	flip := storagetest.NewBitFlip(newLocal(t, cs[0]), storagetest.CorruptOptions{})
	g = storage.NewFailover(nil, flip, newLocal(t, cs[0]))
	wantChunk(t, g, cs[0])

	// Every member fails: each error is reported.
	other := errors.New("no route to host")
	g = storage.NewFailover(nil, storagetest.NewDown(newLocal(t), errDown), storagetest.NewDown(newLocal(t), other))
	_, err := g.GetChunk(ctx, cs[0].ID())
	var ge *storage.GroupError
	if !errors.As(err, &ge) || len(ge.Errs) != 2 || !errors.Is(err, errDown) || !errors.Is(err, other) || !strings.Contains(err.Error(), "failover group") {
		t.Errorf("all members down: %v", err)
	}
	if _, err := g.HasChunk(ctx, cs[0].ID()); !errors.Is(err, errDown) || !errors.Is(err, other) {
		t.Errorf("all members down, HasChunk: %v", err)
	}

	// A cancelled caller does not make the group switch.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	slow := storagetest.NewLatency(newLocal(t, cs[0]), time.Hour)
	g = storage.NewFailover(nil, slow, storagetest.NewDown(newLocal(t), errDown))
	if _, err := g.GetChunk(cctx, cs[0].ID()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// corruptAll overwrites the file of every chunk in s with garbage.
func corruptAll(t *testing.T, s *storage.Local, cs []*chunk.Chunk) {
	t.Helper()
	for _, c := range cs {
		p := s.Path(c.ID())
		os.Chmod(p, 0o644)
		if err := os.WriteFile(p, []byte("not a zstd frame"), 0o444); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	cs := testChunks(8)
	store := storagetest.NewCounting(newLocal(t, cs...))
	local := newLocal(t)
	cache := storagetest.NewCounting(local)
	c := storage.NewCache(store, cache, storage.CacheOptions{Repair: true})
	for _, ch := range cs {
		wantChunk(t, c, ch)
	}
	for _, ch := range cs {
		wantChunk(t, c, ch) // now from the cache
	}
	if n, m := store.Total().Get, cache.Total().Store; n != len(cs) || m != len(cs) {
		t.Errorf("store reads %d, cache writes %d; want %d each", n, m, len(cs))
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ch := range cs {
		wantChunk(t, local, ch)
	}

	// A cache full of corrupt chunks: repaired from the store...
	corruptAll(t, local, cs)
	for _, ch := range cs {
		wantChunk(t, c, ch)
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ch := range cs {
		wantChunk(t, local, ch) // the cache holds good copies again
	}
	// ...or reported, without repair.
	corruptAll(t, local, cs[:1])
	noRepair := storage.NewCache(store, local, storage.CacheOptions{})
	var inv *chunk.InvalidError
	if _, err := noRepair.GetChunk(ctx, cs[0].ID()); !errors.As(err, &inv) || inv.ID != cs[0].ID() {
		t.Errorf("invalid cached chunk without repair: %v", err)
	}

	// Missing from both; HasChunk looks at both.
	extra := testChunks(9)[8]
	if _, err := c.GetChunk(ctx, extra.ID()); !errors.Is(err, chunk.ErrMissing) {
		t.Errorf("missing: %v", err)
	}
	if ok, err := c.HasChunk(ctx, cs[3].ID()); !ok || err != nil {
		t.Errorf("HasChunk = %v, %v", ok, err)
	}
	// A store error is returned, and nothing is cached.
	broken := storage.NewCache(storagetest.NewDown(newLocal(t), errDown), newLocal(t), storage.CacheOptions{Repair: true})
	if _, err := broken.GetChunk(ctx, extra.ID()); !errors.Is(err, errDown) {
		t.Errorf("broken store behind cache: %v", err)
	}
}

func TestRetry(t *testing.T) {
	ctx := context.Background()
	cs := testChunks(1)
	o := storage.RetryOptions{Attempts: 4, BaseInterval: time.Millisecond}

	flaky := storagetest.NewTransient(newLocal(t, cs...), 2, storagetest.OpGet|storagetest.OpHas)
	r := storage.NewRetry(flaky, o)
	wantChunk(t, r, cs[0])
	if flaky.Calls() != 3 {
		t.Errorf("2 transient errors: %d calls, want 3", flaky.Calls())
	}

	flaky = storagetest.NewTransient(newLocal(t, cs...), 10, storagetest.OpGet)
	r = storage.NewRetry(flaky, o)
	if _, err := r.GetChunk(ctx, cs[0].ID()); !errors.Is(err, storagetest.ErrTransient) || !strings.Contains(err.Error(), "after 4 attempts") {
		t.Errorf("persistent error: %v", err)
	}
	if flaky.Calls() != 4 {
		t.Errorf("4 attempts: %d calls, want 4", flaky.Calls())
	}

	// Attempts counts every call, the first included, as desync's
	// --error-retry does: 0 and 1 both mean a single call.
	for _, tc := range []struct{ attempts, calls int }{{0, 1}, {1, 1}, {2, 2}, {3, 3}} {
		flaky := storagetest.NewTransient(newLocal(t, cs...), 10, storagetest.OpGet|storagetest.OpHas)
		r := storage.NewRetry(flaky, storage.RetryOptions{Attempts: tc.attempts, BaseInterval: time.Millisecond})
		if _, err := r.GetChunk(ctx, cs[0].ID()); !errors.Is(err, storagetest.ErrTransient) || flaky.Calls() != tc.calls {
			t.Errorf("Attempts %d: GetChunk made %d calls (%v), want %d", tc.attempts, flaky.Calls(), err, tc.calls)
		}
		if _, err := r.HasChunk(ctx, cs[0].ID()); !errors.Is(err, storagetest.ErrTransient) || flaky.Calls() != 2*tc.calls {
			t.Errorf("Attempts %d: HasChunk made %d calls (%v), want %d", tc.attempts, flaky.Calls()-tc.calls, err, tc.calls)
		}
	}

	// Never retried: a missing chunk, an invalid chunk, a permanent error,
	// an error the backend did not classify.
	for name, s := range map[string]chunk.Store{
		"missing":      newLocal(t),
		"invalid":      storagetest.NewBitFlip(newLocal(t, cs...), storagetest.CorruptOptions{}),
		"permanent":    storagetest.NewDown(newLocal(t), storage.Permanent(errDown)),
		"unclassified": storagetest.NewDown(newLocal(t), storagetest.ErrUnclassified),
	} {
		count := storagetest.NewCounting(s)
		if _, err := storage.NewRetry(count, o).GetChunk(ctx, cs[0].ID()); err == nil || count.Total().Get != 1 {
			t.Errorf("%s: %v after %d calls, want 1 call", name, err, count.Total().Get)
		}
	}

	// Writes are retried too.
	target := newLocal(t)
	flakyW := storagetest.NewTransient(target, 1, storagetest.OpStore)
	if err := storage.NewRetry(flakyW, o).StoreChunk(ctx, cs[0]); err != nil || flakyW.Calls() != 2 {
		t.Errorf("StoreChunk: %v after %d calls", err, flakyW.Calls())
	}
	wantChunk(t, target, cs[0])

	// The wait between attempts ends with the context.
	slow := storage.NewRetry(storagetest.NewTransient(newLocal(t, cs...), 10, storagetest.OpGet), storage.RetryOptions{Attempts: 4, BaseInterval: time.Hour})
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if _, err := slow.GetChunk(cctx, cs[0].ID()); !errors.Is(err, context.Canceled) || !errors.Is(err, storagetest.ErrTransient) {
		t.Errorf("cancelled during backoff: %v", err)
	}
}

// saysTransient is an error of a backend's own type that says whether it
// is transient.
type saysTransient bool

func (e saysTransient) Error() string   { return "backend error" }
func (e saysTransient) Transient() bool { return bool(e) }

func TestIsTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errDown, true},
		{fmt.Errorf("wrapped: %w", errDown), true},
		{context.DeadlineExceeded, true},
		{context.Canceled, false},
		{&chunk.MissingError{}, false},
		{fmt.Errorf("x: %w", &chunk.InvalidError{}), false},
		{storage.Permanent(errDown), false},
		{errors.New("AccessDenied"), false},
		{fmt.Errorf("x: %w", storagetest.ErrUnclassified), false},
		{fmt.Errorf("x: %w", storagetest.ErrTransient), true},
		{saysTransient(true), true},
		{fmt.Errorf("x: %w", saysTransient(false)), false},
		{storage.Transient(&chunk.MissingError{}), false},
	} {
		if got := storage.IsTransient(tc.err); got != tc.want {
			t.Errorf("IsTransient(%v) = %v", tc.err, got)
		}
	}
}

func TestDedup(t *testing.T) {
	ctx := context.Background()
	cs := testChunks(1)
	const n = 16

	// One fetch from the store and one write to the cache for 16 callers.
	store := storagetest.NewCounting(storagetest.NewLatency(newLocal(t, cs...), 20*time.Millisecond))
	cache := storagetest.NewCounting(newLocal(t))
	d := storage.NewDedup(storage.NewCache(store, cache, storage.CacheOptions{}))
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Every caller releases its chunk: the one shared chunk must
			// stay intact for the others.
			c, err := d.GetChunk(ctx, cs[0].ID())
			if err == nil {
				want, _ := cs[0].Plain()
				var b []byte
				if b, err = c.Plain(); err == nil && !bytes.Equal(b, want) {
					err = errors.New("shared chunk changed under its holder")
				}
				c.Release()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if g, w := store.Total().Get, cache.Total().Store; g != 1 || w != 1 {
		t.Errorf("%d concurrent reads: %d fetches and %d cache writes, want 1 and 1", n, g, w)
	}

	// Concurrent writes of one chunk make one write.
	target := storagetest.NewCounting(storagetest.NewLatency(newLocal(t), 20*time.Millisecond))
	dw := storage.NewDedup(target)
	errs = make(chan error, n)
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- dw.StoreChunk(ctx, cs[0]) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if w := target.Total().Store; w != 1 {
		t.Errorf("%d concurrent writes: %d stores, want 1", n, w)
	}

	// A caller that gives up does not fail the others waiting for its fetch.
	slow := storagetest.NewLatency(newLocal(t, cs...), 50*time.Millisecond)
	d = storage.NewDedup(slow)
	lctx, cancel := context.WithCancel(ctx)
	leader := make(chan error, 1)
	go func() { _, err := d.GetChunk(lctx, cs[0].ID()); leader <- err }()
	time.Sleep(5 * time.Millisecond)
	follower := make(chan error, 1)
	go func() { _, err := d.GetChunk(ctx, cs[0].ID()); follower <- err }()
	time.Sleep(5 * time.Millisecond)
	cancel()
	if err := <-leader; !errors.Is(err, context.Canceled) {
		t.Errorf("leader: %v", err)
	}
	if err := <-follower; err != nil {
		t.Errorf("follower after the leader gave up: %v", err)
	}
}

func TestNullChunk(t *testing.T) {
	ctx := context.Background()
	cs := testChunks(1)
	inner := storagetest.NewCounting(newLocal(t, cs...))
	n := storage.NewNullChunk(inner, chunk.SHA512_256, 64<<10)
	if n.ID() != chunk.SHA512_256.Sum(make([]byte, 64<<10)) {
		t.Fatal("wrong null chunk ID")
	}
	c, err := n.GetChunk(ctx, n.ID())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := c.Plain(); len(b) != 64<<10 || !bytes.Equal(b, make([]byte, 64<<10)) {
		t.Error("null chunk content")
	}
	if err := c.Verify(chunk.SHA512_256); err != nil {
		t.Error(err)
	}
	if ok, _ := n.HasChunk(ctx, n.ID()); !ok {
		t.Error("HasChunk(null) = false")
	}
	if got := inner.Total(); got.Get+got.Has != 0 {
		t.Errorf("null chunk went to the store: %+v", got)
	}
	wantChunk(t, n, cs[0])
	if got := inner.Total(); got.Get != 1 {
		t.Errorf("other chunk: %+v", got)
	}
}

func TestAs(t *testing.T) {
	l := newLocal(t)
	s := storage.NewNullChunk(storage.NewDedup(storage.NewRetry(l, storage.RetryOptions{})), chunk.SHA512_256, 1024)
	if p, ok := storage.As[chunk.PruneStore](s); !ok || p != chunk.PruneStore(l) {
		t.Error("As did not find the local store under three wrappers")
	}
	if _, ok := storage.As[*storage.Router](s); ok {
		t.Error("As found a router that is not there")
	}
}

// TestPruneInterrupted stops a prune half-way: what it deleted is gone,
// every kept chunk is intact, and a second prune finishes the job.
func TestPruneInterrupted(t *testing.T) {
	cs := testChunks(40)
	s := newLocal(t, cs...)
	keep := map[chunk.ID]bool{}
	for _, c := range cs[:10] {
		keep[c.ID()] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := s.Prune(ctx, func(id chunk.ID) bool {
		if calls++; calls == 20 {
			cancel()
		}
		return keep[id]
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted prune: %v", err)
	}
	remaining := 0
	for _, err := range s.ListChunks(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		remaining++
	}
	if remaining <= len(keep) || remaining >= len(cs) {
		t.Errorf("%d chunks after an interrupted prune; want some but not all of the %d unkept ones deleted", remaining, len(cs)-len(keep))
	}
	for _, c := range cs[:10] {
		wantChunk(t, s, c)
	}
	if err := s.Prune(context.Background(), func(id chunk.ID) bool { return keep[id] }); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs[10:] {
		if ok, _ := s.HasChunk(context.Background(), c.ID()); ok {
			t.Errorf("chunk %s survived the second prune", c.ID())
		}
	}
	for _, c := range cs[:10] {
		wantChunk(t, s, c)
	}
}

// TestRetryWarnsOncePerStreak: a store whose calls keep failing makes one
// warning until a call succeeds, and one for its next failure streak; at
// debug level every retry is logged.
func TestRetryWarnsOncePerStreak(t *testing.T) {
	ctx := context.Background()
	cs := testChunks(1)
	for _, tc := range []struct {
		level                slog.Level
		warnings, debugLines int
	}{
		{slog.LevelWarn, 2, 0},
		{slog.LevelDebug, 2, 4}, // 6 retries in all
	} {
		var log bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: tc.level}))
		s := &switchable{Store: newLocal(t, cs...)}
		r := storage.NewRetry(s, storage.RetryOptions{Attempts: 3, BaseInterval: time.Millisecond, Logger: logger})
		s.down.Store(true)
		for range 2 { // two calls of 3 attempts: 4 retries, one streak
			if _, err := r.GetChunk(ctx, cs[0].ID()); err == nil {
				t.Fatal("GetChunk of a store that is down succeeded")
			}
		}
		s.down.Store(false)
		wantChunk(t, r, cs[0]) // the streak ends
		s.down.Store(true)
		if _, err := r.GetChunk(ctx, cs[0].ID()); err == nil { // 2 retries, a new streak
			t.Fatal("GetChunk of a store that is down succeeded")
		}
		warnings := strings.Count(log.String(), "level=WARN")
		debug := strings.Count(log.String(), "level=DEBUG")
		if warnings != tc.warnings || debug != tc.debugLines {
			t.Errorf("level %v: %d warnings and %d debug lines, want %d and %d:\n%s", tc.level, warnings, debug, tc.warnings, tc.debugLines, log.String())
		}
	}
}

// switchable is a store whose reads fail transiently while down is set.
type switchable struct {
	chunk.Store
	down atomic.Bool
}

func (s *switchable) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	if s.down.Load() {
		return nil, storage.Transient(errors.New("down"))
	}
	return s.Store.GetChunk(ctx, id)
}
