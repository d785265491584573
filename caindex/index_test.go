package caindex

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folbricht/desync/chunk"
)

// TestVectors reads every index casync wrote, compares it with the chunk list
// made by an independent tool, and writes it back byte for byte.
func TestVectors(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.cai[bd]x")
	if len(files) != 11 {
		t.Fatalf("found %d indexes, want 11", len(files))
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		ix, err := ReadFile(file)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		list := strings.TrimSuffix(strings.TrimSuffix(file, ".caibx"), ".caidx") + ".chunks.txt"
		var header string
		var want []string
		f, _ := os.Open(list)
		s := bufio.NewScanner(f)
		for s.Scan() {
			if strings.HasPrefix(s.Text(), "# feature") {
				header = s.Text()
			} else if !strings.HasPrefix(s.Text(), "#") {
				want = append(want, strings.Join(strings.Fields(s.Text()), " "))
			}
		}
		f.Close()
		gotHeader := fmt.Sprintf("# feature_flags=%#x chunk_size_min=%d avg=%d max=%d chunks=%d blob_size=%d", ix.Flags, ix.Min, ix.Avg, ix.Max, len(ix.Chunks), ix.Size())
		if gotHeader != header {
			t.Errorf("%s:\n got %s\nwant %s", file, gotHeader, header)
		}
		if len(ix.Chunks) != len(want) {
			t.Fatalf("%s: %d chunks, want %d", file, len(ix.Chunks), len(want))
		}
		for i, c := range ix.Chunks {
			if got := fmt.Sprintf("%d %d %d %s", i, c.Start, c.Size, c.ID); got != want[i] {
				t.Fatalf("%s chunk %d: %s, want %s", file, i, got, want[i])
			}
		}
		var out bytes.Buffer
		if _, err := ix.WriteTo(&out); err != nil || !bytes.Equal(out.Bytes(), raw) {
			t.Errorf("%s: rewritten index differs from casync's (%v)", file, err)
		}
	}
}

func TestNewFlags(t *testing.T) {
	if ix := New(chunk.SHA512_256, 1, 2, 3); ix.Flags != 0xb000000000000000 || ix.Digest() != chunk.SHA512_256 {
		t.Errorf("default flags %#x", ix.Flags)
	}
	if ix := New(chunk.SHA256, 1, 2, 3); ix.Flags != 0x9000000000000000 || ix.Digest() != chunk.SHA256 {
		t.Errorf("sha256 flags %#x", ix.Flags)
	}
	// casync's archive defaults and named sets are normalized already.
	for _, f := range []uint64{0xb0000001ffeffe26, 0xb000000000001f09, 0xb000000000000000, 0xa000000000000000} {
		if Normalize(f) != f {
			t.Errorf("Normalize(%#x) = %#x", f, Normalize(f))
		}
	}
	// "--with=all" with the default exclusions normalizes to casync's default.
	if got := Normalize(0xb0000001ffffffff &^ 0x40000000); got != 0xb0000001ffeffe26&^0x40000000 {
		t.Errorf("Normalize(all) = %#x", got)
	}
}

// TestDesyncIndex reads an index as desync writes it (flags 0xa…).
func TestDesyncIndex(t *testing.T) {
	raw, _ := os.ReadFile("testdata/blob1.caibx")
	raw = bytes.Clone(raw)
	binary.LittleEndian.PutUint64(raw[16:], 0xa000000000000000)
	ix, err := Read(bytes.NewReader(raw))
	if err != nil || len(ix.Chunks) != 19 || ix.Digest() != chunk.SHA512_256 {
		t.Fatalf("desync index: %v", err)
	}
}

// TestCorrupt breaks every field of a valid index and checks that the error
// is a *FormatError at the right offset.
func TestCorrupt(t *testing.T) {
	good, _ := os.ReadFile("testdata/blob1.caibx") // 19 chunks
	n := 19
	tail := int64(64 + 40*n)
	put := func(off int, v uint64) func([]byte) []byte {
		return func(b []byte) []byte { binary.LittleEndian.PutUint64(b[off:], v); return b }
	}
	for _, tc := range []struct {
		name   string
		mutate func([]byte) []byte
		offset int64
		msg    string
	}{
		{"empty file", func(b []byte) []byte { return nil }, 0, "truncated header"},
		{"truncated header", func(b []byte) []byte { return b[:30] }, 30, "truncated header"},
		{"header size", put(0, 49), 0, "header size"},
		{"type", put(8, 1), 8, "not an index"},
		{"unknown flag", put(16, 0xb000000000000000|1<<40), 16, "unknown bits"},
		{"unnormalized flags", put(16, 0xb000000000000003), 16, "not normalized"},
		{"min zero", put(24, 0), 24, "min chunk size"},
		{"avg too big", put(32, 1<<28), 32, "avg chunk size"},
		{"max zero", put(40, 0), 40, "max chunk size"},
		{"min above avg", put(24, 70000), 24, "above avg"},
		{"avg above max", put(40, 60000), 32, "above max"},
		{"table header size", put(48, 5), 48, "table header size"},
		{"table type", put(56, 5), 56, "table type"},
		{"end not increasing", put(64+40*3, 100), 64 + 40*3, "not after"},
		{"zero-length chunk", func(b []byte) []byte { // chunk 3 ends where chunk 2 did
			copy(b[64+40*3:64+40*3+8], b[64+40*2:64+40*2+8])
			return b
		}, 64 + 40*3, "chunk 3 ends at 231668, not after the previous end 231668"},
		{"chunk above max", put(40, 150000), 64 + 40*9, "chunk 9 is 176004 bytes"},
		{"truncated table", func(b []byte) []byte { return b[:64+40*5+7] }, 64 + 40*5 + 7, "truncated chunk table"},
		{"no tail", func(b []byte) []byte { return b[:tail] }, tail, "truncated chunk table"},
		{"tail second word", put(int(tail)+8, 1), tail + 8, "second word"},
		{"tail index offset", put(int(tail)+16, 40), tail + 16, "index offset"},
		{"tail table size", put(int(tail)+24, 16), tail + 24, "table size"},
		{"tail marker", put(int(tail)+32, 16), tail + 32, "marker"},
		{"trailing data", func(b []byte) []byte { return append(b, 0) }, tail + 40, "after the end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tc.mutate(bytes.Clone(good))))
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want *FormatError", err)
			}
			if fe.Offset != tc.offset || !strings.Contains(fe.Msg, tc.msg) {
				t.Fatalf("got %q at %d, want %q at %d", fe.Msg, fe.Offset, tc.msg, tc.offset)
			}
		})
	}
}

// failingReader gives n bytes of b, then err.
type failingReader struct {
	b   []byte
	n   int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := copy(p[:min(len(p), r.n)], r.b)
	r.b, r.n = r.b[k:], r.n-k
	return k, nil
}

// lenReader is a reader that tells a length it does not have.
type lenReader struct {
	io.Reader
	n int
}

func (r lenReader) Len() int { return r.n }

// encodedIndex returns an index of n chunks of 100 bytes, encoded.
func encodedIndex(t *testing.T, n int) []byte {
	t.Helper()
	ix := New(chunk.SHA512_256, 16, 64, 256)
	for i := range n {
		ix.Chunks = append(ix.Chunks, Chunk{Start: uint64(100 * i), Size: 100})
	}
	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestReadError checks that a reader's own error (a disk, a network, a
// size cap) comes back as itself with its offset, not as a truncated index.
func TestReadError(t *testing.T) {
	good := encodedIndex(t, 10)
	cause := errors.New("connection reset")
	for _, n := range []int{0, 30, 64 + 40*3 + 5, len(good)} {
		_, err := Read(&failingReader{b: good, n: n, err: cause})
		var fe *FormatError
		if !errors.Is(err, cause) || errors.As(err, &fe) {
			t.Errorf("failing after %d bytes: %v, want the reader's error", n, err)
		} else if !strings.Contains(err.Error(), fmt.Sprintf("offset %d", n)) {
			t.Errorf("failing after %d bytes: %v does not name the offset", n, err)
		}
	}
}

// TestReadAllocatesOnce: an index read from a file or a bytes.Reader gets
// its table allocated at its exact size; from a reader that does not tell
// its size, or one whose size is far too large, the table grows as read.
func TestReadAllocatesOnce(t *testing.T) {
	b := encodedIndex(t, 1000)
	p := filepath.Join(t.TempDir(), "x.caibx")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fromFile, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	fromBytes, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]*Index{"file": fromFile, "bytes.Reader": fromBytes} {
		if len(got.Chunks) != 1000 || cap(got.Chunks) != 1000 {
			t.Errorf("from a %s: %d chunks in a table of %d, want 1000 in 1000", name, len(got.Chunks), cap(got.Chunks))
		}
	}
	for _, tc := range []struct {
		name string
		r    io.Reader
		want int
	}{
		{"a reader that does not tell its size", bufio.NewReader(bytes.NewReader(b)), 0},
		{"a header alone", bytes.NewReader(b[:tableStart]), 0},
		{"a huge claimed size", lenReader{n: 50 * maxChunkHint}, maxChunkHint},
	} {
		if got := chunkHint(tc.r); got != tc.want {
			t.Errorf("%s: hint %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestReadFileNamesPath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.caibx")
	os.WriteFile(p, []byte("not an index at all, really not, no no no no no no no no no"), 0o644)
	_, err := ReadFile(p)
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("error %v does not name %s", err, p)
	}
}

func TestWriteValidates(t *testing.T) {
	ix := New(chunk.SHA512_256, 16, 64, 256)
	ix.Chunks = []Chunk{{Start: 0, Size: 100}, {Start: 101, Size: 10}}
	if _, err := ix.WriteTo(&bytes.Buffer{}); err == nil {
		t.Error("gap between chunks accepted")
	}
	ix.Chunks = []Chunk{{Start: 0, Size: 300}}
	if _, err := ix.WriteTo(&bytes.Buffer{}); err == nil {
		t.Error("chunk above max accepted")
	}
}

func FuzzRead(f *testing.F) {
	for _, name := range []string{"blob1.caibx", "empty.caibx", "tiny.caibx", "tree.caidx"} {
		b, _ := os.ReadFile(filepath.Join("testdata", name))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ix, err := Read(bytes.NewReader(in))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Offset < 0 || fe.Offset > int64(len(in)) {
				t.Fatalf("error %v is not a *FormatError within the input", err)
			}
			return
		}
		// Anything accepted is written back unchanged.
		var out bytes.Buffer
		if _, err := ix.WriteTo(&out); err != nil || !bytes.Equal(out.Bytes(), in) {
			t.Fatalf("accepted index does not round-trip: %v", err)
		}
	})
}

func TestUnique(t *testing.T) {
	ix := New(chunk.SHA512_256, 16, 64, 256)
	var a, b chunk.ID
	a[0], b[0] = 1, 2
	for i, id := range []chunk.ID{a, b, a, a, b} {
		ix.Chunks = append(ix.Chunks, Chunk{ID: id, Start: uint64(10 * i), Size: 10})
	}
	got := ix.Unique()
	if len(got) != 2 || got[0] != ix.Chunks[0] || got[1] != ix.Chunks[1] {
		t.Errorf("Unique() = %+v, want the first a and the first b", got)
	}
}
