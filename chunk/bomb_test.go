package chunk

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// rleFrame returns a zstd frame of RLE blocks, without a content size, that
// decodes to n zero bytes: a few bytes per 128 KiB, the smallest "bomb".
func rleFrame(n int) []byte {
	b := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3} // no content size; 128 KiB window
	for n > 0 {
		size := min(n, maxZstdBlock)
		n -= size
		h := uint32(size)<<3 | 1<<1 // RLE
		if n == 0 {
			h |= 1 // last block
		}
		b = append(b, byte(h), byte(h>>8), byte(h>>16), 0)
	}
	return b
}

// streamed encodes b as one frame without a content size, flushed every
// flush bytes, so that it has many small blocks.
func streamed(t *testing.T, b []byte, flush int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	for len(b) > 0 {
		n := min(flush, len(b))
		w.Write(b[:n])
		w.Flush()
		b = b[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestZstdBomb: frames that decode to more than the cap fail with an error
// saying so, whether they declare their size or not, and legitimate frames
// whose blocks could decode to more still decode.
func TestZstdBomb(t *testing.T) {
	const max = 1 << 20
	z := mustZstd(t, ZstdOptions{MaxSize: max})
	declared := z.enc.EncodeAll(make([]byte, max+1), nil)
	for _, tc := range []struct {
		name, want string
		in         []byte
	}{
		{"RLE blocks, no content size", "more than the 1048576-byte limit", rleFrame(max + 1)},
		{"RLE blocks, 8 GiB", "more than the 1048576-byte limit", rleFrame(8 << 30)},
		{"compressed blocks, no content size", "more than the 1048576-byte limit", streamed(t, make([]byte, 4*max), 1<<20)},
		{"declared content size", "declares 1048577 bytes, more than the 1048576-byte limit", declared},
	} {
		if _, err := z.Decode(nil, tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s (%d bytes): %v, want an error containing %q", tc.name, len(tc.in), err, tc.want)
		}
	}
	// Exactly the cap decodes, in RLE blocks, and in small compressed
	// blocks, which could decode to more (so their size is counted first).
	plain := bytes.Repeat([]byte("0123456789abcdef"), max/16)
	small := streamed(t, plain, 1000)
	if f, err := parseZstdFrame(small); err != nil || f.bound <= max {
		t.Fatalf("small blocks: bound %d, %v; the test wants a bound over the cap", f.bound, err)
	}
	for name, in := range map[string][]byte{"RLE": rleFrame(max), "small blocks": small} {
		if got, err := z.Decode(nil, in); err != nil || len(got) != max {
			t.Errorf("%s: %d bytes, %v; want %d", name, len(got), err, max)
		}
	}
}

// TestZstdBombMemory: rejecting a frame that decodes to 8 GiB under the
// default cap (128 MiB) allocates a few MiB, not the cap.
func TestZstdBombMemory(t *testing.T) {
	z := mustZstd(t, ZstdOptions{})
	bomb := rleFrame(8 << 30)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := z.Decode(nil, bomb)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("8 GiB bomb: %v, want the limit error", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("rejecting the bomb allocated %d MiB, want under 16", n>>20)
	}
}
