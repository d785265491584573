package chunker

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// aesStream returns the first n bytes of the AES-128-CTR keystream of key with
// a zero IV: how the casync vectors' random inputs were made.
func aesStream(key string, n int) []byte {
	k, err := hex.DecodeString(key)
	if err != nil {
		panic(err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		panic(err)
	}
	b := make([]byte, n)
	cipher.NewCTR(block, make([]byte, 16)).XORKeyStream(b, b)
	return b
}

func textInput(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%08d the quick brown fox jumps over the lazy dog %06d\n", i, i*7919%100003)
	}
	return b.Bytes()[:n]
}

// vectorInputs rebuilds the inputs of ../shared/testdata/casync (see its README).
func vectorInputs(t testing.TB) map[string][]byte {
	blob1 := aesStream("000102030405060708090a0b0c0d0e0f", 1234567)
	blob2 := slices.Concat(blob1[:400000], aesStream("101112131415161718191a1b1c1d1e1f", 1000), blob1[400000:900000], blob1[900200:])
	in := map[string][]byte{
		"blob1": blob1,
		"blob2": blob2,
		"text":  textInput(300000),
		"zero":  make([]byte, 1100000),
		"empty": {},
		"tiny":  []byte("hello world"),
	}
	want := map[string]string{ // from the vectors' MANIFEST.sha256
		"blob1": "e5194ea4b2866be5f51521cc0fc41ecd21823756a67578adffcc8a9420ca08b7",
		"blob2": "79b6d182296d6a3a9d4bdcbf6d9a66de0e7b64b60e95d4147a3ea2314a19c48a",
		"text":  "0602c03a15db2f9af1ce8780220886831ac43d9ed57552a7e8ab144d356532cb",
		"zero":  "66ae7500c59710bf2e1479639f4cb3c6316eafd42409946612ce1a2069b035c5",
		"empty": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"tiny":  "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
	}
	for name, data := range in {
		if got := fmt.Sprintf("%x", sha256.Sum256(data)); got != want[name] {
			t.Fatalf("regenerated input %s has sha256 %s, want %s", name, got, want[name])
		}
	}
	return in
}

type vectorChunk struct {
	start, size int
	id          string
}

// readChunkList parses a casync vector X.chunks.txt: the header's sizes and
// one (start, size, id) line per chunk.
func readChunkList(t testing.TB, path string) (Params, []vectorChunk) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var p Params
	var list []vectorChunk
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "# feature_flags") {
			if _, err := fmt.Sscanf(line, "# feature_flags=%s chunk_size_min=%d avg=%d max=%d", new(string), &p.Min, &p.Avg, &p.Max); err != nil {
				t.Fatalf("%s: header: %v", path, err)
			}
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		start, _ := strconv.Atoi(f[1])
		size, _ := strconv.Atoi(f[2])
		list = append(list, vectorChunk{start, size, f[3]})
	}
	return p, list
}

// TestVectors chunks every casync vector input and compares boundaries and
// chunk IDs with what casync wrote, through every API that cuts.
func TestVectors(t *testing.T) {
	inputs := vectorInputs(t)
	files, _ := filepath.Glob("testdata/*.chunks.txt")
	if len(files) != 9 {
		t.Fatalf("found %d chunk lists in testdata, want 9", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".chunks.txt")
		t.Run(name, func(t *testing.T) {
			p, want := readChunkList(t, file)
			data := inputs[strings.SplitN(name, ".", 2)[0]]
			sum := func(b []byte) string { return fmt.Sprintf("%x", sha512.Sum512_256(b)) }
			if strings.Contains(name, "sha256") {
				sum = func(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }
			}
			c, err := New(p)
			if err != nil {
				t.Fatal(err)
			}
			check := func(how string, ends []int) {
				t.Helper()
				if len(ends) != len(want) {
					t.Fatalf("%s: %d chunks, want %d", how, len(ends), len(want))
				}
				start := 0
				for i, end := range ends {
					w := want[i]
					if start != w.start || end-start != w.size {
						t.Fatalf("%s: chunk %d is [%d,+%d), want [%d,+%d)", how, i, start, end-start, w.start, w.size)
					}
					if got := sum(data[start:end]); got != w.id {
						t.Fatalf("%s: chunk %d id %s, want %s", how, i, got, w.id)
					}
					start = end
				}
			}
			check("Split", c.Split(data))
			for _, workers := range []int{2, 3, 7} {
				// Small inputs fall back to the serial path; TestSplitParallel covers the real one.
				check(fmt.Sprintf("SplitParallel(%d)", workers), c.SplitParallel(data, workers))
			}
			for _, r := range []struct {
				how string
				r   io.Reader
			}{
				{"Reader", bytes.NewReader(data)},
				{"Reader/OneByte", iotest.OneByteReader(bytes.NewReader(data))},
				{"Reader/Half", iotest.HalfReader(bytes.NewReader(data))},
			} {
				check(r.how, readerEnds(t, NewReader(r.r, c)))
			}
		})
	}
}

func readerEnds(t testing.TB, r *Reader) []int {
	var ends []int
	for {
		b, off, err := r.Next()
		if err == io.EOF {
			return ends
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(ends) > 0 && int(off) != ends[len(ends)-1] || len(ends) == 0 && off != 0 {
			t.Fatalf("chunk at offset %d does not follow the previous one", off)
		}
		ends = append(ends, int(off)+len(b))
	}
}

// specEnds is the spec's cut-point algorithm (casync-format.md §1.3), written
// out plainly as the reference every fast path must match. It shares nothing
// with the code under test but buzTable (which TestVectors checks against
// casync's own chunk lists): the discriminator is the spec's formula, the
// hash rolls by the spec's rule, and at every cut the rolled hash is checked
// against the spec's definition, the window hashed from scratch.
func specEnds(p Params, data []byte) []int {
	minSize, avg, maxSize := int(p.Min), int(p.Avg), int(p.Max)
	var ends []int
	if minSize == avg && avg == maxSize { // fixed size
		for s := 0; s < len(data); {
			s += min(len(data)-s, avg)
			ends = append(ends, s)
		}
		return ends
	}
	d := specDiscriminator(minSize, avg, maxSize)
	windowHash := func(w []byte) uint32 {
		var h uint32
		for j, b := range w {
			h ^= rotl(buzTable[b], uint(WindowSize-1-j))
		}
		return h
	}
	first := max(minSize, WindowSize)
	for s := 0; s < len(data); {
		if len(data)-s < first {
			ends = append(ends, len(data))
			break
		}
		l := first
		h := windowHash(data[s+l-WindowSize : s+l])
		for l < maxSize && h%d != d-1 && s+l < len(data) {
			h = rotl(h, 1) ^ rotl(buzTable[data[s+l-WindowSize]], WindowSize) ^ buzTable[data[s+l]]
			l++
		}
		if want := windowHash(data[s+l-WindowSize : s+l]); h != want {
			panic(fmt.Sprintf("spec model: rolled hash %#x at %d, window hash %#x", h, s+l, want))
		}
		s += l
		ends = append(ends, s)
	}
	return ends
}

// specDiscriminator is the spec's discriminator (§1.2): avg / (1.33237515 -
// 1.42888852e-7·avg) in double precision, truncated, clamped to [min, max].
// It is for the small sizes of these tests, where the quotient is positive
// and fits an int.
func specDiscriminator(minSize, avg, maxSize int) uint32 {
	d := int(float64(avg) / (-1.42888852e-7*float64(avg) + 1.33237515))
	return uint32(min(max(d, minSize), maxSize))
}

func rotl(x uint32, n uint) uint32 { n %= 32; return x<<n | x>>(32-n) }

func TestAgainstSpecModel(t *testing.T) {
	data := slices.Concat(aesStream("000102030405060708090a0b0c0d0e0f", 40000), make([]byte, 3000), textInput(20000), aesStream("0f0e0d0c0b0a09080706050403020100", 9001))
	for _, p := range []Params{
		{Min: 16, Avg: 64, Max: 256},     // min below the window
		{Min: 1, Avg: 1, Max: 48},        // discriminator 1: a cut at every first chance
		{Min: 48, Avg: 48, Max: 48},      // fixed
		{Min: 7, Avg: 7, Max: 7},         // fixed, below the window
		{Min: 100, Avg: 1000, Max: 1200}, // max close to avg: many cuts at max
		{Min: 512, Avg: 2048, Max: 8192},
		{Min: 2048, Avg: 2048, Max: 8192}, // discriminator clamped up to min
	} {
		t.Run(p.String(), func(t *testing.T) {
			c, err := New(p)
			if err != nil {
				t.Fatal(err)
			}
			want := specEnds(p, data)
			if got := c.Split(data); !slices.Equal(got, want) {
				t.Fatalf("Split differs from the spec model: %d vs %d chunks", len(got), len(want))
			}
			if got := readerEnds(t, NewReader(iotest.HalfReader(bytes.NewReader(data)), c)); !slices.Equal(got, want) {
				t.Fatalf("Reader differs from the spec model")
			}
		})
	}
}

func TestCutAtExactlyMin(t *testing.T) {
	// Find data whose first cut is exactly at min: casync allows it (older
	// desync releases did not).
	p := Params{Min: 64, Avg: 128, Max: 1024}
	c, _ := New(p)
	for seed := 0; seed < 100000; seed++ {
		data := aesStream(fmt.Sprintf("%032x", seed), 2048)
		if spec := specEnds(p, data); spec[0] == 64 {
			if got := c.Next(data, true); got != 64 {
				t.Fatalf("seed %d: first chunk %d bytes, want 64", seed, got)
			}
			return
		}
	}
	t.Fatal("no input with a cut at min found")
}

func TestNextNeedsMoreData(t *testing.T) {
	c, _ := New(DefaultParams())
	data := aesStream("000102030405060708090a0b0c0d0e0f", 1<<20)
	full := c.Next(data, true)
	for _, n := range []int{0, 1, 47, 16383, full - 1} {
		if got := c.Next(data[:n], false); got != 0 {
			t.Errorf("Next(%d bytes, !atEOF) = %d, want 0 (need more)", n, got)
		}
	}
	if got := c.Next(data[:full], false); got != full {
		t.Errorf("Next(exactly the chunk, !atEOF) = %d, want %d", got, full)
	}
	if got := c.Next(nil, true); got != 0 {
		t.Errorf("Next(empty, atEOF) = %d, want 0", got)
	}
	if got := c.Next(data[:100], true); got != 100 {
		t.Errorf("Next(100 bytes, atEOF) = %d, want 100 (final short chunk)", got)
	}
}

func TestSplitParallel(t *testing.T) {
	// Large enough for real segments, and with long zero runs, where boundaries
	// cut at max never re-align by themselves.
	p := Params{Min: 1024, Avg: 4096, Max: 16384}
	c, _ := New(p)
	data := slices.Concat(aesStream("000102030405060708090a0b0c0d0e0f", 3<<20), make([]byte, 2<<20+777), textInput(1<<20), aesStream("0f0e0d0c0b0a09080706050403020100", 1<<20))
	want := c.Split(data)
	for _, workers := range []int{2, 3, 4, 8, 13} {
		if got := c.SplitParallel(data, workers); !slices.Equal(got, want) {
			t.Fatalf("SplitParallel(%d) differs from Split", workers)
		}
	}
	zeros := make([]byte, 5<<20+1)
	if got, want := c.SplitParallel(zeros, 4), c.Split(zeros); !slices.Equal(got, want) {
		t.Fatal("SplitParallel on zeros differs from Split")
	}
}

func TestReaderError(t *testing.T) {
	c, _ := New(DefaultParams())
	boom := fmt.Errorf("disk on fire")
	r := NewReader(io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), iotest.ErrReader(boom)), c)
	for {
		_, _, err := r.Next()
		if err == nil {
			continue
		}
		if err != boom {
			t.Fatalf("got %v, want the reader's error", err)
		}
		return
	}
}

func TestNextDoesNotAllocate(t *testing.T) {
	c, _ := New(DefaultParams())
	data := aesStream("000102030405060708090a0b0c0d0e0f", 1<<20)
	if n := testing.AllocsPerRun(10, func() {
		for pos := 0; pos < len(data); {
			pos += c.Next(data[pos:], true)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per pass, want 0", n)
	}
}

// TestCutTest checks the division-free boundary test against h mod d == d-1
// for divisors up to MaxSizeLimit, on the edges of the 32-bit range, around
// multiples of d and on random hashes.
func TestCutTest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	divisors := []uint64{1, 2, 3, 7, 48, 4096, 49535, DefaultParams().Discriminator(), 1<<27 - 1, MaxSizeLimit}
	for range 20 {
		divisors = append(divisors, 1+rng.Uint64N(MaxSizeLimit))
	}
	for _, d := range divisors {
		c := &Chunker{d: uint32(d), m: ^uint64(0)/d + 1}
		check := func(h uint32) {
			if got, want := isCutFast(h, c.m, -c.m), c.isCut(h); got != want {
				t.Fatalf("d=%d h=%#x: fast test says %v, h mod d says %v", d, h, got, want)
			}
		}
		for h := range uint32(1 << 16) {
			check(h)
			check(math.MaxUint32 - h)
		}
		for range 1 << 14 {
			k := rng.Uint64N(1<<32/d + 1)
			for delta := -2; delta <= 2; delta++ {
				if v := int64(k*d) - 1 + int64(delta); v >= 0 && v <= math.MaxUint32 {
					check(uint32(v))
				}
			}
			check(rng.Uint32())
		}
	}
}
