package casyncproto

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadMessage: the reader never panics on any stream; every message it
// accepts is one the writer encodes back to exactly the bytes it was read
// from; and errors are io.EOF, io.ErrUnexpectedEOF or a *FrameError.
func FuzzReadMessage(f *testing.F) {
	for _, p := range []string{"pull-chunks/c2s.bin", "pull-chunks/s2c.bin", "pull-index/c2s.bin", "pull-index/s2c.bin"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(frame(0, uint64(Abort), le(5), []byte("no such store\x00")))
	f.Add(frame(0, uint64(Request), le(1), make([]byte, 64)))
	f.Add(frame(15, uint64(Goodbye)))
	f.Add(frame(MaxMessageSize, uint64(Chunk), le(1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		for {
			start := r.Offset()
			m, err := r.ReadMessage()
			if err != nil {
				var fe *FrameError
				if err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.As(err, &fe) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				return
			}
			var out bytes.Buffer
			w := NewWriter(&out)
			if err := w.WriteMessage(m); err != nil {
				t.Fatalf("accepted %v, cannot write it: %v", m, err)
			}
			w.Flush()
			if !bytes.Equal(out.Bytes(), b[start:r.Offset()]) {
				t.Fatalf("%v re-encodes to different bytes", m)
			}
		}
	})
}
