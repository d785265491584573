package storage

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/folbricht/desync/chunk"
)

func TestParseTemp(t *testing.T) {
	for _, tc := range []struct {
		name, base, owner string
		ok                bool
	}{
		{".x.caibx.desync-abc.tmp", "x.caibx", "", true},
		{".a.b.desync-c.desync-1z.tmp", "a.b.desync-c", "", true},
		{".0123.cacnk.desync-own-r4nd.tmp", "0123.cacnk", "own", true},
		{".x.desync-.tmp", "", "", false},
		{".x.desync-a-.tmp", "", "", false},
		{".x.desync-A.tmp", "", "", false},
		{".x.desync-a-b-c.tmp", "", "", false},
		{".x.123.tmp", "", "", false},       // another program's, or an older name
		{"x.desync-abc.tmp", "", "", false}, // not hidden
		{".desync-abc.tmp", "", "", false},  // no name
		{".x.desync-abc.tmpx", "", "", false},
	} {
		base, owner, ok := parseTemp(tc.name)
		if base != tc.base || owner != tc.owner || ok != tc.ok {
			t.Errorf("parseTemp(%q) = %q, %q, %v; want %q, %q, %v", tc.name, base, owner, ok, tc.base, tc.owner, tc.ok)
		}
	}
	if base, owner, ok := parseTemp(filepath.Base(tempName("d", "f.caibx", ""))); !ok || base != "f.caibx" || owner != "" {
		t.Errorf("tempName without owner does not parse back: %q %q %v", base, owner, ok)
	}
	if base, owner, ok := parseTemp(filepath.Base(tempName("d", "f", "own"))); !ok || base != "f" || owner != "own" {
		t.Errorf("tempName with owner does not parse back: %q %q %v", base, owner, ok)
	}
}

// syncEvent is one call of a recordingSyncer, with what the test saw on
// disk at that moment.
type syncEvent struct {
	op, name string
	seen     string
}

// recordingSyncer records every sync, in order, and calls see (if set)
// to note the state of the disk at that moment.
type recordingSyncer struct {
	mu     sync.Mutex
	events []syncEvent
	see    func(op, name string) string
}

func (r *recordingSyncer) add(op, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := syncEvent{op: op, name: name}
	if r.see != nil {
		e.seen = r.see(op, name)
	}
	r.events = append(r.events, e)
	return nil
}

func (r *recordingSyncer) SyncFile(f *os.File) error { return r.add("file", f.Name()) }
func (r *recordingSyncer) SyncDir(dir string) error  { return r.add("dir", dir) }
func (r *recordingSyncer) SyncFS(dir string) error   { return r.add("fs", dir) }

// TestWriteFileAtomicSyncs: the file is synced before it is renamed over
// the target, and the directory after; NoSync syncs nothing.
func TestWriteFileAtomicSyncs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := &recordingSyncer{see: func(string, string) string { b, _ := os.ReadFile(path); return string(b) }}
	write := func(s Syncer, data string) {
		t.Helper()
		if err := WriteFileAtomic(path, 0o644, s, func(f *os.File) error { _, err := f.WriteString(data); return err }); err != nil {
			t.Fatal(err)
		}
	}
	write(rec, "new")
	if len(rec.events) != 2 {
		t.Fatalf("syncs %+v, want the file's and the directory's", rec.events)
	}
	if e := rec.events[0]; e.op != "file" || filepath.Dir(e.name) != dir || e.name == path || e.seen != "old" {
		t.Errorf("first sync %+v, want the temporary file's, before the rename", e)
	}
	if e := rec.events[1]; e.op != "dir" || e.name != dir || e.seen != "new" {
		t.Errorf("second sync %+v, want the directory's, after the rename", e)
	}
	rec.events = nil
	write(NoSync{}, "newer")
	if b, _ := os.ReadFile(path); string(b) != "newer" || len(rec.events) != 0 {
		t.Errorf("NoSync: file %q, syncs %+v", b, rec.events)
	}
}

// TestLocalIndexSyncs: an index is written through WriteFileAtomic with
// the store's syncer.
func TestLocalIndexSyncs(t *testing.T) {
	rec := &recordingSyncer{}
	s := &LocalIndex{dir: t.TempDir(), sync: rec}
	if err := s.WriteIndex(context.Background(), "x.caibx", func(w io.Writer) error { _, err := w.Write([]byte("i")); return err }); err != nil {
		t.Fatal(err)
	}
	if len(rec.events) != 2 || rec.events[0].op != "file" || rec.events[1].op != "dir" {
		t.Errorf("syncs %+v, want the file's then the directory's", rec.events)
	}
}

// TestFlushSyncsRenames: Flush syncs the chunk data before the chunks are
// renamed into place, and the renames after, so that an index written
// after Flush never refers to a chunk a crash can lose.
func TestFlushSyncsRenames(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rec := &recordingSyncer{see: func(string, string) string {
		temps, chunks := 0, 0
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			switch {
			case err != nil || d.IsDir():
			case strings.HasSuffix(p, ".tmp"):
				temps++
			case strings.HasSuffix(p, ".cacnk"):
				chunks++
			}
			return nil
		})
		return fmt.Sprintf("%d temps, %d chunks", temps, chunks)
	}}
	s, err := NewLocal(dir, LocalOptions{Syncer: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 3 {
		if err := s.StoreChunk(ctx, plainChunk([]byte{byte(i)})); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := []syncEvent{{"fs", dir, "3 temps, 0 chunks"}, {"fs", dir, "0 temps, 3 chunks"}}
	if runtime.GOOS != "linux" {
		t.Skip("chunks are synced one by one here")
	}
	if fmt.Sprint(rec.events) != fmt.Sprint(want) {
		t.Errorf("syncs %v, want %v", rec.events, want)
	}
	// Nothing pending, nothing renamed: nothing to sync.
	rec.events = nil
	if err := s.Flush(ctx); err != nil || len(rec.events) != 0 {
		t.Errorf("idle Flush: %v, syncs %v", err, rec.events)
	}
}

// TestWriteFileAtomicRemovesStaleTemps: a temporary file of the same path
// that no live writer holds is removed; one a writer holds (its lock taken
// on its own descriptor, as another process's would be), one of another
// name, and another program's are left.
func TestWriteFileAtomicRemovesStaleTemps(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("owner locks are Linux's")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := mk(".out.desync-1.tmp")
	otherName := mk(".other.desync-2.tmp")
	foreign := mk(".out.3.tmp")
	live, err := createTemp(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := WriteFileAtomic(path, 0o644, NoSync{}, func(f *os.File) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file left: %v", err)
	}
	for _, p := range []string{otherName, foreign, live.Name()} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", filepath.Base(p), err)
		}
	}
	// Once its writer lets go, it is stale too.
	live.Close()
	if n := removeStaleTemps(path); n != 1 {
		t.Errorf("removed %d after the writer closed, want 1", n)
	}
}

// TestLocalRemoveStaleTemps: the temporary files of a store's writer that
// died (its owner lock is free) are removed, with its mark; those of live
// writers (another store object, as another process would be, and the
// store itself) are not, and can still be flushed. Without all, nothing is
// scanned when no writer died.
func TestLocalRemoveStaleTemps(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("owner locks are Linux's")
	}
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *Local {
		s, err := NewLocal(dir, LocalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	store := func(s *Local, from, to int) {
		for i := from; i < to; i++ {
			if err := s.StoreChunk(ctx, plainChunk([]byte(fmt.Sprint(i)))); err != nil {
				t.Fatal(err)
			}
		}
	}
	temps := func() (n int) {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, ".tmp") {
				n++
			}
			return nil
		})
		return n
	}
	live, self, dead := open(), open(), open()
	defer live.Close()
	defer self.Close()
	store(live, 0, 10)
	store(self, 10, 15)
	store(dead, 15, 22)
	// An unowned temporary file: the scan with all removes it.
	sub := filepath.Join(dir, "abcd")
	os.Mkdir(sub, 0o777)
	if err := os.WriteFile(filepath.Join(sub, ".x.desync-1.tmp"), nil, 0o444); err != nil {
		t.Fatal(err)
	}
	if n, err := self.RemoveStaleTemps(ctx, false); n != 0 || err != nil || temps() != 23 {
		t.Fatalf("with no writer dead: removed %d (%v), %d temps left, want 23", n, err, temps())
	}
	if n, err := self.RemoveStaleTemps(ctx, true); n != 1 || err != nil || temps() != 22 {
		t.Fatalf("all: removed %d (%v), %d temps left; want 1 removed, 22 left", n, err, temps())
	}
	// dead dies: its lock goes, as with a killed process.
	deadID := dead.ownerID
	dead.owner.Close()
	n, err := self.RemoveStaleTemps(ctx, false)
	if n != 7 || err != nil || temps() != 15 {
		t.Fatalf("removed %d (%v), %d temps left; want 7 removed, 15 left", n, err, temps())
	}
	for _, dead := range []bool{false, true} {
		if _, err := os.Lstat(self.ownerPath(deadID, dead)); !os.IsNotExist(err) {
			t.Errorf("the dead writer's owner file (dead mark %v) is left: %v", dead, err)
		}
	}
	for _, s := range []*Local{live, self} {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if temps() != 0 {
		t.Errorf("%d temps left after the live writers closed", temps())
	}
	names, _ := readDirNames(dir)
	for _, name := range names {
		if strings.HasPrefix(name, ".") {
			t.Errorf("%s left in the store", name)
		}
	}
	for i := range 15 {
		id := plainChunk([]byte(fmt.Sprint(i))).ID()
		if _, err := os.Stat(live.Path(id)); err != nil {
			t.Errorf("a live writer's chunk %d is lost: %v", i, err)
		}
	}
}

// TestClaimAfterCleaner: a writer that created a temporary (or owner lock)
// file but finds, once it has the lock, that a cleaner took it first (and
// removed or renamed it) does not use it; with no cleaner, it is its own,
// and a cleaner leaves it alone.
func TestClaimAfterCleaner(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("owner locks are Linux's")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		clean func(p string) error
	}{
		{"removed", os.Remove},
		{"renamed", func(p string) error { return os.Rename(p, p+".dead") }},
	} {
		p := filepath.Join(dir, ".desync-"+tc.name+".lock")
		f, err := os.OpenFile(p, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
		if err != nil {
			t.Fatal(err)
		}
		// The cleaner comes between the create and the lock.
		if stale, err := ifStale(p, func() error { return tc.clean(p) }); !stale || err != nil {
			t.Fatalf("%s: a file not locked yet is not stale: %v", tc.name, err)
		}
		if ok, err := claim(f); ok || err != nil {
			t.Errorf("%s: the writer claims the cleaned file (%v)", tc.name, err)
		}
		f.Close()
	}
	f, ok, err := createLocked(filepath.Join(dir, ".desync-y.lock"), os.O_RDONLY, 0o444)
	if err != nil || !ok {
		t.Fatalf("createLocked: %v %v", ok, err)
	}
	defer f.Close()
	if stale, err := ifStale(f.Name(), func() error { return nil }); stale || err != nil {
		t.Errorf("a held lock was taken as stale (%v)", err)
	}
}

func plainChunk(b []byte) *chunk.Chunk { return chunk.New(chunk.SHA512_256.Sum(b), b) }

// TestOpenSyncer: a local store opened with Options.Syncer makes its
// writes durable through it.
func TestOpenSyncer(t *testing.T) {
	rec := &recordingSyncer{}
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "store"), Options{Syncer: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ws := s.(chunk.WriteStore)
	if err := ws.StoreChunk(context.Background(), chunk.New(chunk.SHA512_256.Sum([]byte("x")), []byte("x"))); err != nil {
		t.Fatal(err)
	}
	if err := s.(interface{ Flush(context.Context) error }).Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(rec.events) == 0 {
		t.Fatal("the store's writes did not go through Options.Syncer")
	}
}
