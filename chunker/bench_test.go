package chunker

import (
	"bytes"
	"io"
	"math/bits"
	"testing"
)

func benchData() []byte {
	return append(aesStream("000102030405060708090a0b0c0d0e0f", 32<<20), textInput(32<<20)...)
}

// BenchmarkNext measures the boundary search over memory: the per-core
// chunking speed. It also reports the rate over the bytes it hashes
// (hashed-MB/s): no chunk ends before Params.Min, so the hash starts
// WindowSize bytes before it and the bytes before that are skipped.
func BenchmarkNext(b *testing.B) {
	data := benchData()
	c, _ := New(DefaultParams())
	hashed := 0
	for pos := 0; pos < len(data); {
		n := c.Next(data[pos:], true)
		if n >= c.first {
			hashed += n - c.first + WindowSize
		}
		pos += n
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for pos := 0; pos < len(data); {
			pos += c.Next(data[pos:], true)
		}
	}
	b.ReportMetric(float64(hashed)*float64(b.N)/1e6/b.Elapsed().Seconds(), "hashed-MB/s")
}

func BenchmarkReader(b *testing.B) {
	data := benchData()
	c, _ := New(DefaultParams())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r := NewReader(bytes.NewReader(data), c)
		for {
			if _, _, err := r.Next(); err == io.EOF {
				break
			}
		}
	}
}

func BenchmarkSplitParallel(b *testing.B) {
	data := benchData()
	c, _ := New(DefaultParams())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		c.SplitParallel(data, 2)
	}
}

// BenchmarkHashChain is the rolling hash's serial chain alone (a rotate
// and an xor per byte, each waiting for the last), without the lookups and
// the cut test: the most any scalar buzhash can hash per second on the
// machine at hand. On a noisy or shared machine, compare it with Next's
// hashed-MB/s in the same run.
func BenchmarkHashChain(b *testing.B) {
	b.SetBytes(4 << 10)
	h := uint32(1)
	for b.Loop() {
		h = hashChain(h, 1<<10)
	}
	chainSink = h
}

var chainSink uint32

//go:noinline
func hashChain(h uint32, n int) uint32 {
	k := buzTable[7]
	for range n {
		h = bits.RotateLeft32(h, 1) ^ k
		h = bits.RotateLeft32(h, 1) ^ k
		h = bits.RotateLeft32(h, 1) ^ k
		h = bits.RotateLeft32(h, 1) ^ k
	}
	return h
}
