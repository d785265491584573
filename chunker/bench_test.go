package chunker

import (
	"bytes"
	"io"
	"testing"
)

func benchData() []byte {
	return append(aesStream("000102030405060708090a0b0c0d0e0f", 32<<20), textInput(32<<20)...)
}

// BenchmarkNext measures the boundary search over memory: the per-core
// chunking speed.
func BenchmarkNext(b *testing.B) {
	data := benchData()
	c, _ := New(DefaultParams())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for pos := 0; pos < len(data); {
			pos += c.Next(data[pos:], true)
		}
	}
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
