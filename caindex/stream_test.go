package caindex

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/folbricht/desync/chunk"
)

// TestWriterVectors streams every casync index back through a Writer, one
// chunk at a time, and expects casync's bytes.
func TestWriterVectors(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.cai[bd]x")
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		ix, err := Read(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var out bytes.Buffer
		w, err := NewWriter(&out, ix.Flags, ix.Min, ix.Avg, ix.Max)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, c := range ix.Chunks {
			if err := w.Add(c); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !bytes.Equal(out.Bytes(), raw) {
			t.Errorf("%s: streamed index differs from casync's", file)
		}
		if err := w.Add(Chunk{Start: ix.Size(), Size: 1}); err == nil {
			t.Errorf("%s: Add after Close accepted", file)
		}
		if w.Chunks() != uint64(len(ix.Chunks)) {
			t.Errorf("%s: Chunks() = %d, want %d", file, w.Chunks(), len(ix.Chunks))
		}
		if err := w.Close(); err != nil || out.Len() != len(raw) {
			t.Errorf("%s: second Close wrote more or failed: %v", file, err)
		}
	}
}

func TestWriterRefuses(t *testing.T) {
	if _, err := NewWriter(&bytes.Buffer{}, BlobFlags, 64, 16, 256); err == nil {
		t.Error("min above avg accepted")
	}
	first := Chunk{Start: 0, Size: 100}
	for _, tc := range []struct {
		name   string
		second Chunk
	}{
		{"gap", Chunk{Start: 101, Size: 10}},
		{"overlap", Chunk{Start: 99, Size: 10}},
		{"empty", Chunk{Start: 100, Size: 0}},
		{"above max", Chunk{Start: 100, Size: 257}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := NewWriter(&bytes.Buffer{}, BlobFlags, 16, 64, 256)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Add(first); err != nil {
				t.Fatal(err)
			}
			err = w.Add(tc.second)
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Offset != tableStart+itemSize {
				t.Fatalf("got %v, want a *FormatError at offset %d", err, tableStart+itemSize)
			}
			if w.Chunks() != 1 {
				t.Errorf("refused chunk counted: %d chunks", w.Chunks())
			}
		})
	}
}

// failAfter accepts n bytes, then fails.
type failAfter struct{ n int }

var errDiskFull = errors.New("disk full")

func (f *failAfter) Write(b []byte) (int, error) {
	if len(b) > f.n {
		m := f.n
		f.n = 0
		return m, errDiskFull
	}
	f.n -= len(b)
	return len(b), nil
}

// TestWriterError checks that an error of the underlying writer comes back
// from Add once the buffer is written out, and from Close.
func TestWriterError(t *testing.T) {
	for _, limit := range []int{0, 100, 64 << 10, 200 << 10} {
		w, err := NewWriter(&failAfter{n: limit}, BlobFlags, 16, 64, 256)
		if err != nil {
			t.Fatal(err)
		}
		var addErr error
		var end uint64
		for range 10000 { // 400 kB of items, more than the buffer
			if addErr = w.Add(Chunk{Start: end, Size: 100}); addErr != nil {
				break
			}
			end += 100
		}
		if !errors.Is(addErr, errDiskFull) {
			t.Errorf("limit %d: Add returned %v once writes failed, want the write error", limit, addErr)
		}
		if err := w.Close(); !errors.Is(err, errDiskFull) {
			t.Errorf("limit %d: Close returned %v, want the write error", limit, err)
		}
	}
}

func TestWriteToCounts(t *testing.T) {
	ix := New(chunk.SHA256, 16, 64, 256)
	ix.Chunks = []Chunk{{Start: 0, Size: 100}, {Start: 100, Size: 3}}
	var out bytes.Buffer
	n, err := ix.WriteTo(&out)
	if err != nil || n != int64(out.Len()) || n != tableStart+3*itemSize {
		t.Fatalf("WriteTo = %d, %v; wrote %d bytes, want %d", n, err, out.Len(), tableStart+3*itemSize)
	}
}

// TestReader reads every vector a chunk at a time and expects what Read
// gives; a truncated copy gives Read's error, and gives it again.
func TestReader(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.cai[bd]x")
	for _, file := range files {
		raw, _ := os.ReadFile(file)
		want, err := Read(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		r, err := NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if r.SizeHint() != want.Size() {
			t.Errorf("%s: SizeHint %d, want %d", file, r.SizeHint(), want.Size())
		}
		if r2, _ := NewReader(bytes.NewBuffer(raw)); r2.SizeHint() != 0 {
			t.Errorf("%s: SizeHint %d from a reader that cannot read ahead", file, r2.SizeHint())
		}
		if h := r.Header(); h.Flags != want.Flags || h.Min != want.Min || h.Avg != want.Avg || h.Max != want.Max || h.Chunks != nil {
			t.Errorf("%s: header %+v", file, h)
		}
		var got []Chunk
		for {
			c, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			got = append(got, c)
		}
		if !slices.Equal(got, want.Chunks) {
			t.Errorf("%s: Reader gives %d chunks, Read %d, or they differ", file, len(got), len(want.Chunks))
		}
		if _, err := r.Next(); !errors.Is(err, io.EOF) {
			t.Errorf("%s: Next after the end: %v", file, err)
		}

		short := raw[:len(raw)-1]
		_, readErr := Read(bytes.NewReader(short))
		r, _ = NewReader(bytes.NewReader(short))
		var nextErr error
		for nextErr == nil {
			_, nextErr = r.Next()
		}
		if readErr == nil || nextErr.Error() != readErr.Error() {
			t.Errorf("%s truncated: Reader says %v, Read %v", file, nextErr, readErr)
		}
		if _, again := r.Next(); again != nextErr {
			t.Errorf("%s truncated: second error %v, want %v again", file, again, nextErr)
		}
	}
}
