package gendata

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strconv"
	"testing"
)

type genFunc func(io.Writer, int64, uint64) error

var generators = []struct {
	name string
	gen  genFunc
}{
	{"random", Random},
	{"text", Text},
	{"mixed", Mixed},
}

// hashCount hashes what gen writes and counts the bytes.
func hashCount(t *testing.T, gen func(io.Writer) error) (string, int64) {
	t.Helper()
	h := sha256.New()
	cw := &countWriter{w: h}
	if err := gen(cw); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), cw.n
}

type countWriter struct {
	w      io.Writer
	n      int64
	writes int
	max    int
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	c.writes++
	c.max = max(c.max, len(p))
	return c.w.Write(p)
}

func TestDeterministicAndExactSize(t *testing.T) {
	sizes := []int64{0, 1, 100, 4095, 1 << 20, 1<<20 + 3, 3<<20 + 12345}
	for _, g := range generators {
		t.Run(g.name, func(t *testing.T) {
			for _, size := range sizes {
				a, n := hashCount(t, func(w io.Writer) error { return g.gen(w, size, 7) })
				if n != size {
					t.Fatalf("size %d: wrote %d bytes", size, n)
				}
				b, _ := hashCount(t, func(w io.Writer) error { return g.gen(w, size, 7) })
				if a != b {
					t.Fatalf("size %d: two runs with seed 7 differ: %s vs %s", size, a, b)
				}
				if size == 0 || (g.name == "mixed" && size < 1<<20) {
					// Mixed may start with a zero region for
					// both seeds.
					continue
				}
				c, n := hashCount(t, func(w io.Writer) error { return g.gen(w, size, 8) })
				if n != size {
					t.Fatalf("size %d seed 8: wrote %d bytes", size, n)
				}
				if a == c {
					t.Fatalf("size %d: seeds 7 and 8 give the same output %s", size, a)
				}
			}
		})
	}
}

// TestPrefix checks that a shorter output is a prefix of a longer one with the
// same seed: the size only cuts the stream.
func TestPrefix(t *testing.T) {
	for _, g := range generators {
		t.Run(g.name, func(t *testing.T) {
			var long, short bytes.Buffer
			if err := g.gen(&long, 5<<20, 3); err != nil {
				t.Fatal(err)
			}
			if err := g.gen(&short, 1<<20+777, 3); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(long.Bytes(), short.Bytes()) {
				t.Fatal("shorter output is not a prefix of the longer one")
			}
		})
	}
}

// TestBoundedWrites checks the streaming: no single write is larger than a
// block, whatever the total size.
func TestBoundedWrites(t *testing.T) {
	for _, g := range generators {
		cw := &countWriter{w: io.Discard}
		if err := g.gen(cw, 5<<20+1, 1); err != nil {
			t.Fatal(err)
		}
		if cw.max > blockSize {
			t.Errorf("%s: a write of %d bytes exceeds the block size %d", g.name, cw.max, blockSize)
		}
	}
}

func TestRandomIsAESCTR(t *testing.T) {
	const seed = 0x0102030405060708
	key := Key(seed)
	want := []byte{0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}
	if !bytes.Equal(key[:], want) {
		t.Fatalf("Key(%#x) = %x, want %x", seed, key, want)
	}
	block, err := aes.NewCipher(want)
	if err != nil {
		t.Fatal(err)
	}
	exp := make([]byte, 3<<20+5)
	cipher.NewCTR(block, make([]byte, 16)).XORKeyStream(exp, exp)
	var got bytes.Buffer
	if err := Random(&got, int64(len(exp)), seed); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), exp) {
		t.Fatal("Random differs from the AES-128-CTR keystream")
	}
}

// TestGolden pins the output, so a change to any generator (which would
// silently change every benchmark input) shows up here.
func TestGolden(t *testing.T) {
	golden := map[string]string{
		// = head -c 9437184 /dev/zero | openssl enc -aes-128-ctr -K $(printf '%032x' 42) -iv 0 | sha256sum
		"random": "28667e1ee68fb4f5273772bda6fe5f357cedabb0cf21a11fbce481e2819719e3",
		"text":   "0c831dea96b67132ad73348256a209c16e1786faace7d23500e5b844fbb732b9",
		"mixed":  "fc151b6f31f69a704f6e55b41af355da21b7918c20120c826d42474f875e03ae",
	}
	for _, g := range generators {
		sum, _ := hashCount(t, func(w io.Writer) error { return g.gen(w, 9<<20, 42) })
		if golden[g.name] != sum {
			t.Errorf("%s: sha256 %s, want %s", g.name, sum, golden[g.name])
		}
	}
}

func TestText(t *testing.T) {
	var buf bytes.Buffer
	if err := Text(&buf, 1<<20, 1); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(buf.Bytes(), []byte("\n"))
	if len(lines) < 1000 {
		t.Fatalf("only %d lines in 1 MiB", len(lines))
	}
	first, err := strconv.Atoi(string(lines[0][:8]))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range lines[:len(lines)-1] {
		if len(l) < 10 || !bytes.HasPrefix(l, []byte(dec8(first+i))) {
			t.Fatalf("line %d = %q", i, l)
		}
		for _, c := range l {
			if c < 0x20 || c > 0x7e {
				t.Fatalf("line %d has byte %#x", i, c)
			}
		}
	}
}

func dec8(i int) string {
	return string(appendPadded(nil, uint64(i), 8)) + " "
}

func TestMixedRegions(t *testing.T) {
	var buf bytes.Buffer
	const size = 64 << 20
	if err := Mixed(&buf, size, 5); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// Zero runs of at least 64 KiB exist, and zeros are a minority.
	zeros := 0
	run, longest := 0, 0
	for _, c := range b {
		if c == 0 {
			zeros++
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	if longest < minRegion {
		t.Errorf("longest zero run %d < %d", longest, minRegion)
	}
	if frac := float64(zeros) / size; frac > 0.4 {
		t.Errorf("%.0f%% zero bytes", 100*frac)
	}
	if !bytes.Contains(b, []byte(" the ")) {
		t.Error("no text region")
	}
}

func TestEditOps(t *testing.T) {
	for _, baseSize := range []int64{0, 1, 19, 1000, 1 << 20, 1 << 30} {
		ops := EditOps(baseSize, 9)
		if len(ops) == 0 || len(ops) > editOps {
			t.Fatalf("base %d: %d ops", baseSize, len(ops))
		}
		end := int64(0)
		for i, op := range ops {
			if op.Offset < end || op.Len < 1 || op.Len > maxEditOp {
				t.Fatalf("base %d: op %d %+v after end %d", baseSize, i, op, end)
			}
			end = op.Offset
			if op.Kind != Insert {
				end += op.Len
			}
			if end > baseSize {
				t.Fatalf("base %d: op %d %+v past the end", baseSize, i, op)
			}
		}
	}
}

// applyOps is a simple in-memory reference implementation of Edit.
func applyOps(base []byte, ops []EditOp, seed uint64) []byte {
	rnd := newKeystream(domainEdit, seed)
	var out []byte
	pos := int64(0)
	for _, op := range ops {
		out = append(out, base[pos:op.Offset]...)
		pos = op.Offset
		if op.Kind != Delete {
			p := make([]byte, op.Len)
			rnd.fill(p)
			out = append(out, p...)
		}
		if op.Kind != Insert {
			pos += op.Len
		}
	}
	return append(out, base[pos:]...)
}

func TestEdit(t *testing.T) {
	for _, size := range []int64{0, 1, 1000, 3<<20 + 5} {
		var base bytes.Buffer
		if err := Mixed(&base, size, 1); err != nil {
			t.Fatal(err)
		}
		r := bytes.NewReader(base.Bytes())
		var a, b, c bytes.Buffer
		if err := Edit(&a, r, size, 11); err != nil {
			t.Fatal(err)
		}
		if err := Edit(&b, r, size, 11); err != nil {
			t.Fatal(err)
		}
		if err := Edit(&c, r, size, 12); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("base %d: Edit is not deterministic", size)
		}
		if bytes.Equal(a.Bytes(), c.Bytes()) {
			t.Fatalf("base %d: seeds 11 and 12 give the same edit", size)
		}
		if bytes.Equal(a.Bytes(), base.Bytes()) {
			t.Fatalf("base %d: Edit changed nothing", size)
		}
		want := applyOps(base.Bytes(), EditOps(size, 11), 11)
		if !bytes.Equal(a.Bytes(), want) {
			t.Fatalf("base %d: Edit differs from the reference (%d vs %d bytes)", size, a.Len(), len(want))
		}
	}
}

func TestEditShortBase(t *testing.T) {
	// A ReaderAt shorter than the claimed size is an error, not a short file.
	err := Edit(io.Discard, bytes.NewReader(make([]byte, 100)), 1<<20, 1)
	if err == nil {
		t.Fatal("no error for a short base")
	}
}

func TestNegativeSize(t *testing.T) {
	for _, g := range generators {
		if err := g.gen(io.Discard, -1, 1); err == nil {
			t.Errorf("%s: no error for size -1", g.name)
		}
	}
}

func TestLogUniform(t *testing.T) {
	r := newPRNG(1)
	small, large := 0, 0
	for i := 0; i < 10000; i++ {
		v := r.logUniform(minRegion, maxRegion)
		if v < minRegion || v > maxRegion {
			t.Fatalf("logUniform = %d", v)
		}
		if v < 4*minRegion {
			small++
		}
		if v > maxRegion/4 {
			large++
		}
	}
	if small < 1000 || large < 1000 {
		t.Errorf("small %d, large %d of 10000", small, large)
	}
}
