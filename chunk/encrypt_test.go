package chunk

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testKey is the key of the stores in testdata/encrypted.
var testKey, _ = hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")

func mustEncrypted(t testing.TB, inner Converter, alg string, key []byte) *Encrypted {
	t.Helper()
	e, err := NewEncrypted(inner, alg, key)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestEncryptedVectors decrypts the chunks the original desync wrote (see
// testdata/encrypted/README.md) and checks each against its name.
func TestEncryptedVectors(t *testing.T) {
	z := mustZstd(t, ZstdOptions{})
	for _, tc := range []struct {
		store, alg string
		inner      Converter
		suffix     string
	}{
		{"xc", XChaCha20Poly1305, z, ".cacnk.xchacha20-poly1305-630dcd29"},
		{"aes", AES256GCM, z, ".cacnk.aes-256-gcm-630dcd29"},
		{"aesplain", AES256GCM, Uncompressed{}, ".aes-256-gcm-630dcd29"},
	} {
		t.Run(tc.store, func(t *testing.T) {
			e := mustEncrypted(t, tc.inner, tc.alg, testKey)
			if got := e.Suffix(); !strings.HasSuffix(tc.suffix, "."+got) {
				t.Fatalf("suffix %q, want the end of %q", got, tc.suffix)
			}
			files, _ := filepath.Glob(filepath.Join("testdata/encrypted", tc.store, "*", "*"))
			if len(files) != 5 {
				t.Fatalf("%d chunk files in %s, want 5", len(files), tc.store)
			}
			for _, f := range files {
				name, ok := strings.CutSuffix(filepath.Base(f), tc.suffix)
				if !ok {
					t.Fatalf("%s: not named with %s", f, tc.suffix)
				}
				id, err := ParseID(name)
				if err != nil {
					t.Fatal(err)
				}
				stored, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.HasPrefix(stored, magicZstd) {
					t.Errorf("%s starts with the zstd magic", f)
				}
				c, err := Load(id, stored, e, SHA512_256, true)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				c.Release()
				// The other algorithm, or another key, does not open it.
				other := AES256GCM
				if tc.alg == AES256GCM {
					other = XChaCha20Poly1305
				}
				for _, wrong := range []*Encrypted{
					mustEncrypted(t, tc.inner, other, testKey),
					mustEncrypted(t, tc.inner, tc.alg, bytes.Repeat([]byte{7}, 32)),
				} {
					if _, err := Load(id, stored, wrong, SHA512_256, true); !isInvalid(err) {
						t.Errorf("%s under %s: %v, want an invalid chunk", f, wrong.Suffix(), err)
					}
				}
			}
		})
	}
}

func isInvalid(err error) bool {
	var inv *InvalidError
	return errors.As(err, &inv)
}

func TestKeyID(t *testing.T) {
	if got := KeyID(testKey); got != "630dcd29" {
		t.Fatalf("KeyID = %s, want 630dcd29 (the original desync's)", got)
	}
}

func TestEncryptedRoundTrip(t *testing.T) {
	z := mustZstd(t, ZstdOptions{})
	plain := append(bytes.Repeat([]byte("desync "), 5000), make([]byte, 1000)...)
	id := SHA512_256.Sum(plain)
	for _, alg := range []string{"", XChaCha20Poly1305, AES256GCM} {
		for _, inner := range []Converter{z, Uncompressed{}} {
			e := mustEncrypted(t, inner, alg, testKey)
			innerForm, _ := inner.Encode(nil, plain)
			// Encode appends: whatever dst held stays.
			prefix := []byte("keep")
			a, err := e.Encode(append([]byte(nil), prefix...), plain)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(a, prefix) {
				t.Fatalf("%s: Encode overwrote dst", e.Suffix())
			}
			a = a[len(prefix):]
			b, _ := e.Encode(nil, plain)
			if want := len(innerForm) + e.Overhead(); len(a) != want {
				t.Errorf("%s: %d bytes stored, want %d", e.Suffix(), len(a), want)
			}
			if bytes.Equal(a, b) {
				t.Errorf("%s: two encodings are equal: the nonce is not random", e.Suffix())
			}
			if bytes.Contains(a, plain[:64]) || bytes.HasPrefix(a, magicZstd) {
				t.Errorf("%s: the stored form shows the content", e.Suffix())
			}
			got, err := e.Decode([]byte("x"), a)
			if err != nil || !bytes.Equal(got, append([]byte("x"), plain...)) {
				t.Fatalf("%s: Decode: %v", e.Suffix(), err)
			}
			c, err := Load(id, b, e, SHA512_256, true)
			if err != nil {
				t.Fatal(err)
			}
			c.Release()
		}
	}
}

func TestEncryptedConstructor(t *testing.T) {
	for _, tc := range []struct {
		name  string
		inner Converter
		alg   string
		key   []byte
		want  string
	}{
		{"short key", Uncompressed{}, "", testKey[:16], "16 bytes, want 32"},
		{"long key", Uncompressed{}, AES256GCM, append(testKey, 0), "33 bytes, want 32"},
		{"no key", Uncompressed{}, "", nil, "0 bytes"},
		{"unknown algorithm", Uncompressed{}, "aes-128-gcm", testKey, `unknown encryption algorithm "aes-128-gcm"`},
		{"no inner", nil, "", testKey, "inner converter"},
		{"twice", mustEncrypted(t, Uncompressed{}, "", testKey), "", testKey, "encrypted converter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewEncrypted(tc.inner, tc.alg, tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	for _, tc := range []struct{ in, want string }{
		{strings.Repeat("ab", 32), ""},
		{" " + strings.Repeat("AB", 32) + "\n", ""},
		{strings.Repeat("ab", 16), "16 bytes, want 32"},
		{strings.Repeat("zz", 32), "not hex"},
		{strings.Repeat("a", 63), "not hex"},
	} {
		_, err := ParseEncryptionKey(tc.in)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseEncryptionKey(%q): %v, want %q", tc.in, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "zz") {
			t.Errorf("the error quotes the key: %v", err)
		}
	}
}

// TestEncryptedDamage: a chunk that is cut, altered anywhere, or another
// chunk's is an *InvalidError, never wrong content.
func TestEncryptedDamage(t *testing.T) {
	z := mustZstd(t, ZstdOptions{})
	rnd := rand.New(rand.NewPCG(1, 2))
	plain := make([]byte, 20000)
	for i := range plain {
		plain[i] = byte(rnd.IntN(16))
	}
	other := []byte("another chunk entirely")
	id := SHA512_256.Sum(plain)
	for _, alg := range []string{XChaCha20Poly1305, AES256GCM} {
		for _, inner := range []Converter{z, Uncompressed{}} {
			e := mustEncrypted(t, inner, alg, testKey)
			good, _ := e.Encode(nil, plain)
			swapped, _ := e.Encode(nil, other)
			flip := func(i int) []byte {
				b := bytes.Clone(good)
				b[i] ^= 0x40
				return b
			}
			ns := e.Overhead() - 16
			for _, tc := range []struct {
				name   string
				stored []byte
			}{
				{"empty", nil},
				{"nonce only", good[:ns]},
				{"nonce and tag", good[:e.Overhead()]},
				{"truncated", good[:len(good)-1]},
				{"extended", append(bytes.Clone(good), 0)},
				{"nonce altered", flip(0)},
				{"body altered", flip(ns + 5)},
				{"tag altered", flip(len(good) - 1)},
				{"another chunk's", swapped},
			} {
				_, err := Load(id, tc.stored, e, SHA512_256, true)
				var inv *InvalidError
				if !errors.As(err, &inv) || inv.ID != id {
					t.Errorf("%s %T %s: %v, want an invalid chunk %s", alg, inner, tc.name, err, id)
				}
				// Without verification too: decryption itself refuses
				// everything but the swapped chunk.
				if tc.name != "another chunk's" {
					if c, err := Load(id, tc.stored, e, SHA512_256, false); err == nil {
						t.Errorf("%s %T %s: decoded unverified to %d bytes", alg, inner, tc.name, len(c.plain))
					}
				}
			}
		}
	}
}

// TestEncryptedStoredAs: an encrypted chunk is passed on as it is only to a
// store of the same algorithm and key over the same compression; every
// other store gets it decrypted and encoded its own way.
func TestEncryptedStoredAs(t *testing.T) {
	z, z2 := mustZstd(t, ZstdOptions{}), mustZstd(t, ZstdOptions{Level: 3})
	plain := bytes.Repeat([]byte("stored as "), 1000)
	id := SHA512_256.Sum(plain)
	xc := mustEncrypted(t, z, XChaCha20Poly1305, testKey)
	key2 := bytes.Repeat([]byte{9}, 32)
	for _, tc := range []struct {
		name string
		want Converter
		fits bool
	}{
		{"same converter", xc, true},
		{"same key, another zstd", mustEncrypted(t, z2, XChaCha20Poly1305, testKey), true},
		{"same key, uncompressed", mustEncrypted(t, Uncompressed{}, XChaCha20Poly1305, testKey), false},
		{"other algorithm", mustEncrypted(t, z, AES256GCM, testKey), false},
		{"other key", mustEncrypted(t, z, XChaCha20Poly1305, key2), false},
		{"zstd", z, false},
		{"uncompressed", Uncompressed{}, false},
	} {
		stored, _ := xc.Encode(nil, plain)
		c, err := LoadOwned(id, stored, xc, SHA512_256, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.StoredAs(tc.want); ok != tc.fits {
			t.Errorf("%s: StoredAs %v, want %v", tc.name, ok, tc.fits)
		}
		b, err := c.Stored(tc.want)
		if err != nil {
			t.Fatal(err)
		}
		back, err := tc.want.Decode(nil, b)
		if err != nil || !bytes.Equal(back, plain) {
			t.Errorf("%s: the stored form does not decode back: %v", tc.name, err)
		}
	}
	// A zstd chunk is never taken as an encrypted one.
	zs, _ := z.Encode(nil, plain)
	if _, ok := NewStored(id, zs, z).StoredAs(xc); ok {
		t.Error("a zstd chunk fits an encrypted store")
	}
}

func BenchmarkConverters(b *testing.B) {
	z := mustZstd(b, ZstdOptions{})
	rnd := rand.New(rand.NewPCG(3, 4))
	// Half random, half text, as a typical 64 KiB chunk.
	plain := make([]byte, 64<<10)
	for i := range plain[:len(plain)/2] {
		plain[i] = byte(rnd.Uint32())
	}
	copy(plain[len(plain)/2:], bytes.Repeat([]byte("the quick brown fox 0123456789\n"), len(plain)))
	for _, tc := range []struct {
		name string
		conv Converter
	}{
		{"zstd", z},
		{"zstd+xchacha20-poly1305", mustEncrypted(b, z, XChaCha20Poly1305, testKey)},
		{"zstd+aes-256-gcm", mustEncrypted(b, z, AES256GCM, testKey)},
	} {
		stored, _ := tc.conv.Encode(nil, plain)
		b.Run(tc.name+"/encode", func(b *testing.B) {
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			dst := make([]byte, 0, 2*len(plain))
			for b.Loop() {
				dst, _ = tc.conv.Encode(dst[:0], plain)
			}
		})
		b.Run(tc.name+"/decode", func(b *testing.B) {
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			dst := make([]byte, 0, 2*len(plain))
			for b.Loop() {
				var err error
				if dst, err = tc.conv.Decode(dst[:0], stored); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
