package chunk

import (
	"bytes"
	"compress/gzip"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustZstd(t testing.TB, o ZstdOptions) *Zstd {
	t.Helper()
	z, err := NewZstd(o)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestCasyncChunks decodes .cacnk files written by casync (zstd frames without
// a content size) and checks their content against their names.
func TestCasyncChunks(t *testing.T) {
	// casync's frames declare a 2 MiB window; a cap at the index's max chunk
	// size must still read them.
	z := mustZstd(t, ZstdOptions{MaxSize: 262144})
	files, _ := filepath.Glob("testdata/*.cacnk")
	if len(files) == 0 {
		t.Fatal("no casync chunks in testdata")
	}
	for _, f := range files {
		stored, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		id, err := ParseID(strings.TrimSuffix(filepath.Base(f), ".cacnk"))
		if err != nil {
			t.Fatal(err)
		}
		c := NewStored(id, stored, z)
		if err := c.Verify(SHA512_256); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if err := c.Verify(SHA256); err == nil {
			t.Errorf("%s verifies under the wrong digest", f)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, level := range []int{0, 1, 3, 19} {
		z := mustZstd(t, ZstdOptions{Level: level})
		plain := bytes.Repeat([]byte("desync "), 30000)
		stored, err := New(SHA512_256.Sum(plain), plain).Stored(z)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) >= len(plain)/10 {
			t.Errorf("level %d: %d bytes stored for %d repetitive bytes", level, len(stored), len(plain))
		}
		c := NewStored(SHA512_256.Sum(plain), stored, z)
		if err := c.Verify(SHA512_256); err != nil {
			t.Fatal(err)
		}
		if again, _ := c.Stored(z); &again[0] != &stored[0] {
			t.Error("Stored re-encoded a chunk already in the converter's form")
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	z := mustZstd(t, ZstdOptions{MaxSize: 1000})
	good := z.enc.EncodeAll(bytes.Repeat([]byte{7}, 1000), nil)
	big := z.enc.EncodeAll(make([]byte, 1001), nil)
	casync, _ := os.ReadFile("testdata/0ac561fac838104e3f2e4ad107b4bee3e938bf15f2b15f009ccccd61a913f017.cacnk")
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("gzip chunk"))
	w.Close()
	flipped := bytes.Clone(good)
	flipped[len(flipped)-2] ^= 0xff

	if _, err := z.Decode(nil, good); err != nil {
		t.Fatalf("good frame: %v", err)
	}
	if got, err := z.Decode(nil, gz.Bytes()); err != nil || string(got) != "gzip chunk" {
		t.Fatalf("gzip chunk: %q, %v", got, err)
	}
	for _, tc := range []struct {
		name, want string
		in         []byte
	}{
		{"empty", "unknown chunk compression", nil},
		{"not compressed", "unknown chunk compression", []byte("hello world")},
		{"xz", "xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0, 1, 2}},
		{"trailing garbage", "trailing garbage", append(bytes.Clone(good), 0)},
		{"two frames", "trailing garbage", append(bytes.Clone(good), good...)},
		{"casync frame + garbage", "trailing garbage", append(bytes.Clone(casync), "xyz"...)},
		{"truncated", "truncated", good[:len(good)-1]},
		{"header only", "truncated", good[:5]},
		{"too large", "limit", big},
		{"gzip + garbage", "trailing garbage", append(bytes.Clone(gz.Bytes()), 1)},
		{"gzip truncated", "EOF", gz.Bytes()[:gz.Len()-4]},
	} {
		if _, err := z.Decode(nil, tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	// A flipped bit either breaks decoding or changes the content: the ID
	// check catches what the decoder does not.
	c := NewStored(SHA512_256.Sum(bytes.Repeat([]byte{7}, 1000)), flipped, z)
	var inv *InvalidError
	if err := c.Verify(SHA512_256); !errors.As(err, &inv) {
		t.Errorf("flipped bit: %v, want *InvalidError", err)
	}
}

func TestIDs(t *testing.T) {
	const hex = "0ac561fac838104e3f2e4ad107b4bee3e938bf15f2b15f009ccccd61a913f017"
	id, err := ParseID(strings.ToUpper(hex))
	if err != nil || id.String() != hex {
		t.Fatalf("ParseID: %v %v", id, err)
	}
	if SHA512_256.Sum([]byte("hello world")) != id {
		t.Fatal("sha512/256 of tiny.bin differs from casync's id")
	}
	for _, bad := range []string{"", hex[:63], hex + "0", "zz" + hex[2:]} {
		if _, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
	var back ID
	if b, _ := id.MarshalText(); back.UnmarshalText(b) != nil || back != id {
		t.Error("text round trip")
	}
	for _, s := range []string{"sha512-256", "sha256"} {
		if d, err := ParseDigest(s); err != nil || d.String() != s {
			t.Errorf("ParseDigest(%q) = %v, %v", s, d, err)
		}
	}
	if _, err := ParseDigest("md5"); err == nil {
		t.Error("md5 accepted")
	}
	h := SHA256.New()
	h.Write([]byte("x"))
	if ID(h.Sum(nil)) != SHA256.Sum([]byte("x")) {
		t.Error("streaming and one-shot SHA-256 differ")
	}
}

// TestSumEach checks that a group of chunks gets the IDs Sum gives them one
// by one, for both digests, with short and long chunks mixed.
func TestSumEach(t *testing.T) {
	plain := make([][]byte, 9)
	for i := range plain {
		plain[i] = bytes.Repeat([]byte{byte(i)}, i*13<<10+i) // 0 to about 104 KiB
	}
	for _, d := range []Digest{SHA512_256, SHA256} {
		ids := make([]ID, len(plain)+1) // longer than plain: the rest is left alone
		ids[len(plain)][0] = 0xff
		d.SumEach(ids, plain)
		for i, p := range plain {
			if ids[i] != d.Sum(p) {
				t.Errorf("%s: ID of chunk %d (%d bytes) differs from Sum's", d, i, len(p))
			}
		}
		if ids[len(plain)][0] != 0xff {
			t.Errorf("%s: an ID past the chunks was written", d)
		}
	}
}

func TestErrors(t *testing.T) {
	var id ID
	id[0] = 0xab
	err := error(&MissingError{ID: id, Store: "/srv/store"})
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), id.String()) || !strings.Contains(err.Error(), "/srv/store") {
		t.Errorf("MissingError: %v", err)
	}
	inv := &InvalidError{ID: id, Store: "s", Err: errors.New("boom")}
	if errors.Is(inv, ErrMissing) || !strings.Contains(inv.Error(), "boom") || errors.Unwrap(inv).Error() != "boom" {
		t.Errorf("InvalidError: %v", inv)
	}
}

func FuzzDecode(f *testing.F) {
	z := mustZstd(f, ZstdOptions{MaxSize: 1 << 20})
	f.Add(z.enc.EncodeAll([]byte("hello hello hello"), nil))
	casync, _ := os.ReadFile("testdata/0ac561fac838104e3f2e4ad107b4bee3e938bf15f2b15f009ccccd61a913f017.cacnk")
	f.Add(casync)
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := z.Decode(nil, in)
		if err != nil {
			return
		}
		if len(out) == 0 || len(out) > 1<<20 {
			t.Fatalf("decoded %d bytes, outside (0, 1 MiB]", len(out))
		}
		// Whatever decodes must survive a round trip through our encoder.
		again, err := z.Decode(nil, z.enc.EncodeAll(out, nil))
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// benchInputs are 64 KiB chunks of the kinds of data stores hold.
func benchInputs() map[string][]byte {
	random := make([]byte, 64<<10)
	rand.NewChaCha8([32]byte{1}).Read(random)
	words := strings.Fields("the of and to in is was for on that with as by at from his it an were are which this be or has had not first one their its new after but who they have her she two been other when there all during into school time may years more most only over city some world would where later up such used many can state about national out known university united then made")
	r := rand.New(rand.NewChaCha8([32]byte{2}))
	var text []byte
	for len(text) < 64<<10 {
		text = append(text, words[r.IntN(len(words))]...)
		text = append(text, ' ')
	}
	return map[string][]byte{
		"random":     random,
		"text":       text[:64<<10],
		"repetitive": bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog 0123456789\n"), 1200),
	}
}

func BenchmarkZstd(b *testing.B) {
	z := mustZstd(b, ZstdOptions{})
	for name, plain := range benchInputs() {
		stored := z.enc.EncodeAll(plain, nil)
		b.Run("encode/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(plain)))
			var dst []byte
			for b.Loop() {
				dst, _ = z.Encode(dst[:0], plain)
			}
		})
		b.Run("decode/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(plain)))
			var dst []byte
			for b.Loop() {
				dst, _ = z.Decode(dst[:0], stored)
			}
		})
	}
}

func TestRelease(t *testing.T) {
	plain := []byte("pooled chunk data")
	id := SHA512_256.Sum(plain)
	pooled := func() *Chunk {
		c, err := Load(id, plain, Uncompressed{}, SHA512_256, true)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name       string
		c          *Chunk
		share      bool
		usableLate bool // Plain still works after Release
	}{
		{"pooled", pooled(), false, false},
		{"pooled and shared", pooled(), true, true},
		{"not pooled", New(id, plain), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.share {
				tt.c.Share()
			}
			if err := tt.c.Verify(SHA512_256); err != nil {
				t.Fatal(err)
			}
			tt.c.Release()
			b, err := tt.c.Plain()
			switch {
			case tt.usableLate && (err != nil || !bytes.Equal(b, plain)):
				t.Errorf("after Release: %q, %v; want the data", b, err)
			case !tt.usableLate && err == nil:
				t.Errorf("after Release: %q, want an error", b)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	z := mustZstd(t, ZstdOptions{})
	plain := bytes.Repeat([]byte("load me "), 1000)
	id := SHA512_256.Sum(plain)
	stored, _ := z.Encode(nil, plain)
	other := SHA512_256.Sum([]byte("other"))
	tests := []struct {
		name    string
		id      ID
		stored  []byte
		verify  bool
		wantErr string // "" for success
	}{
		{"good", id, stored, true, ""},
		{"wrong ID, not verified", other, stored, false, ""},
		{"wrong ID", other, stored, true, id.String()},
		{"corrupt frame", id, append([]byte{0x28, 0xb5, 0x2f, 0xfd, 0xff}, stored[5:]...), true, "chunk " + id.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.id, tt.stored, z, SHA512_256, tt.verify)
			if tt.wantErr != "" {
				var inv *InvalidError
				if !errors.As(err, &inv) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an *InvalidError naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := c.Plain(); !bytes.Equal(b, plain) {
				t.Error("content differs")
			}
			if _, ok := c.StoredAs(z); ok {
				t.Error("Load kept the caller's stored buffer")
			}
			c.Release()
		})
	}
	// LoadOwned keeps the frame as the stored form: no encoding again.
	c, err := LoadOwned(id, stored, z, SHA512_256, true)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := c.StoredAs(z); !ok || &b[0] != &stored[0] {
		t.Error("LoadOwned did not keep the stored frame")
	}
	c.Release()
	if _, ok := c.StoredAs(z); ok {
		t.Error("the stored frame outlived Release")
	}
	if _, err := LoadOwned(id, stored[:len(stored)-3], z, SHA512_256, true); err == nil {
		t.Error("LoadOwned accepted a truncated frame")
	}
}

// TestStoredAsAnyZstd checks that a zstd frame made by one Zstd converter
// is the stored form for another (a store keeps an uploaded frame as it
// came), and that a gzip member, which Zstd also decodes, is not, even for
// the converter that read it.
func TestStoredAsAnyZstd(t *testing.T) {
	z1 := mustZstd(t, ZstdOptions{Level: 1})
	z19 := mustZstd(t, ZstdOptions{Level: 19})
	plain := bytes.Repeat([]byte("stored as it came "), 500)
	id := SHA512_256.Sum(plain)
	frame, _ := z19.Encode(nil, plain)
	if b, ok := NewStored(id, frame, z19).StoredAs(z1); !ok || !bytes.Equal(b, frame) {
		t.Error("a zstd frame from another Zstd converter is not taken as the stored form")
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(plain)
	w.Close()
	if _, ok := NewStored(id, gz.Bytes(), z19).StoredAs(z1); ok {
		t.Error("a gzip member is taken as a zstd store's stored form")
	}
	// As a download from a casync gzip store through a zstd client keeps it.
	if _, ok := NewStored(id, gz.Bytes(), z1).StoredAs(z1); ok {
		t.Error("a gzip member is taken as the stored form of the zstd converter that read it")
	}
	if _, ok := NewStored(id, frame, z19).StoredAs(Uncompressed{}); ok {
		t.Error("a zstd frame is taken as an uncompressed store's stored form")
	}
}
