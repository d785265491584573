package assemble

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// syncRecorder is a storage.Syncer that records each sync, in order, with
// what see found on disk at that moment.
type syncRecorder struct {
	mu     sync.Mutex
	events []string
	see    func() string
}

func (r *syncRecorder) add(what string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.see != nil {
		what += " (" + r.see() + ")"
	}
	r.events = append(r.events, what)
	return nil
}

func (r *syncRecorder) SyncFile(f *os.File) error { return r.add("file " + f.Name()) }
func (r *syncRecorder) SyncDir(dir string) error  { return r.add("dir " + dir) }
func (r *syncRecorder) SyncFS(dir string) error   { return r.add("fs " + dir) }

// TestExtractSyncs: by default an extraction syncs its output before it
// replaces the target and the directory after; in place it syncs the
// output; with NoSync it syncs nothing.
func TestExtractSyncs(t *testing.T) {
	ctx := context.Background()
	data := genData(1<<20, 7, false)
	store := newMemStore()
	ix, _, err := Make(ctx, bytes.NewReader(data), MakeOptions{Digest: chunk.SHA512_256, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	var ixBytes bytes.Buffer
	if _, err := ix.WriteTo(&ixBytes); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		inPlace bool
		noSync  bool
		stream  bool
		want    []string // with OUT for the output, TMP for its temporary file
	}{
		{name: "file", want: []string{"file TMP (output old)", "dir DIR (output new)"}},
		{name: "stream", stream: true, want: []string{"file TMP (output old)", "dir DIR (output new)"}},
		{name: "in place", inPlace: true, want: []string{"file OUT (output new)"}},
		{name: "no sync", noSync: true},
		{name: "in place, no sync", inPlace: true, noSync: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			tmp := ""
			rec := &syncRecorder{see: func() string {
				if ents, _ := os.ReadDir(dir); tmp == "" {
					for _, e := range ents {
						if strings.HasSuffix(e.Name(), ".tmp") {
							tmp = filepath.Join(dir, e.Name())
						}
					}
				}
				if b, _ := os.ReadFile(out); bytes.Equal(b, data) {
					return "output new"
				}
				return "output old"
			}}
			o := ExtractOptions{Store: store, InPlace: tc.inPlace, NoSync: tc.noSync, syncer: rec}
			if tc.stream {
				r, err := caindex.NewReader(bytes.NewReader(ixBytes.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				_, err = ExtractStream(ctx, r, out, o)
			} else {
				_, err = ExtractFile(ctx, ix, out, o)
			}
			if err != nil {
				t.Fatal(err)
			}
			if b := mustRead(t, out); !bytes.Equal(b, data) {
				t.Fatal("output differs")
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, strings.NewReplacer("TMP", tmp, "OUT", out, "DIR", dir).Replace(w))
			}
			if fmt.Sprint(rec.events) != fmt.Sprint(want) {
				t.Errorf("syncs:\n%q\nwant:\n%q", rec.events, want)
			}
		})
	}
}

// TestMakeSyncsBeforeIndex: the index is the commit record, so Make into a
// local store has the chunk data synced, the chunks renamed into place and
// the renames synced before it writes the end of the index.
func TestMakeSyncsBeforeIndex(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("chunks are synced in batches (syncfs) only on Linux")
	}
	ctx := context.Background()
	dir := t.TempDir()
	rec := &syncRecorder{see: func() string {
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
	store, err := storage.NewLocal(dir, storage.LocalOptions{Syncer: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	data := genData(1<<20, 8, false)
	var index bytes.Buffer
	hdr, stats, err := Make(ctx, bytes.NewReader(data), MakeOptions{
		Digest: chunk.SHA512_256, Store: store, CountUnique: true,
		IndexTo: writerFunc(func(b []byte) (int, error) { rec.add("index"); return index.Write(b) }),
	})
	if err != nil {
		t.Fatal(err)
	}
	if hdr == nil || stats.StoredChunks == 0 || stats.StoredChunks >= 256 {
		t.Fatalf("stored %d chunks; the test wants a batch Make's flush syncs", stats.StoredChunks)
	}
	ev := rec.events
	last := -1
	for i, e := range ev {
		if strings.HasPrefix(e, "fs ") {
			last = i
		}
	}
	if last < 0 || last == len(ev)-1 {
		t.Fatalf("no sync of the store before the end of the index: %q", ev)
	}
	want := fmt.Sprintf("fs %s (0 temps, %d chunks)", dir, stats.StoredChunks)
	if ev[last] != want {
		t.Errorf("last sync before the end of the index: %q, want %q", ev[last], want)
	}
	if last == 0 || !strings.HasPrefix(ev[last-1], "fs ") || strings.Contains(ev[last-1], " 0 temps") {
		t.Errorf("the chunk data was not synced before the chunks were renamed: %q", ev)
	}
	for _, e := range ev[last+1:] {
		if !strings.HasPrefix(e, "index") {
			t.Errorf("%q after the last sync of the store", e)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
