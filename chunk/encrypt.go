package chunk

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
)

// Encryption algorithms, by the names desync gives them in store options
// and chunk file names.
const (
	XChaCha20Poly1305 = "xchacha20-poly1305"
	AES256GCM         = "aes-256-gcm"
	// DefaultEncryption is the algorithm used when none is named.
	DefaultEncryption = XChaCha20Poly1305
)

// EncryptionKeySize is the size of an encryption key in bytes (256 bits).
const EncryptionKeySize = 32

// Encrypted is a converter that encrypts what another converter (zstd or
// uncompressed) stores: compression happens before encryption. Its stored
// form is desync's: a random nonce followed by the AEAD's sealed output
// (ciphertext and 16-byte tag), with no additional data. A chunk that is too
// short or fails authentication is an error, never wrong data.
type Encrypted struct {
	inner Converter
	aead  cipher.AEAD
	alg   string
	keyID string
	key   [EncryptionKeySize]byte // to tell converters of the same key (see storedFits)
}

// NewEncrypted returns a converter encrypting inner's stored form with key
// under algorithm ("" is [DefaultEncryption]). The key must be
// [EncryptionKeySize] bytes.
func NewEncrypted(inner Converter, algorithm string, key []byte) (*Encrypted, error) {
	if inner == nil {
		return nil, errors.New("encryption needs an inner converter")
	}
	if _, ok := inner.(*Encrypted); ok {
		return nil, errors.New("encryption of an encrypted converter")
	}
	if len(key) != EncryptionKeySize {
		return nil, fmt.Errorf("encryption key has %d bytes, want %d (%d hex digits)", len(key), EncryptionKeySize, 2*EncryptionKeySize)
	}
	if algorithm == "" {
		algorithm = DefaultEncryption
	}
	var aead cipher.AEAD
	var err error
	switch algorithm {
	case XChaCha20Poly1305:
		aead, err = chacha20poly1305.NewX(key)
	case AES256GCM:
		var b cipher.Block
		if b, err = aes.NewCipher(key); err == nil {
			aead, err = cipher.NewGCM(b)
		}
	default:
		return nil, fmt.Errorf("unknown encryption algorithm %q (want %s or %s)", algorithm, XChaCha20Poly1305, AES256GCM)
	}
	if err != nil {
		return nil, err
	}
	e := &Encrypted{inner: inner, aead: aead, alg: algorithm, keyID: KeyID(key)}
	copy(e.key[:], key)
	return e, nil
}

// KeyID names a key without revealing it: the first 4 bytes of its SHA-256,
// in lower-case hex, as desync puts in the names of encrypted chunks.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

// Algorithm returns the name of the encryption algorithm.
func (e *Encrypted) Algorithm() string { return e.alg }

// KeyID returns the key's ID (see [KeyID]).
func (e *Encrypted) KeyID() string { return e.keyID }

// Inner returns the converter whose output is encrypted.
func (e *Encrypted) Inner() Converter { return e.inner }

// Suffix returns "<algorithm>-<key id>", the part desync appends to chunk
// file names of an encrypted store (after ".cacnk." for compressed chunks,
// after "." for uncompressed ones).
func (e *Encrypted) Suffix() string { return e.alg + "-" + e.keyID }

// Overhead is the number of bytes encryption adds to a chunk: the nonce and
// the authentication tag.
func (e *Encrypted) Overhead() int { return e.aead.NonceSize() + e.aead.Overhead() }

// Encode appends the nonce, then inner's encoding of plain sealed in place.
func (e *Encrypted) Encode(dst, plain []byte) ([]byte, error) {
	ns := e.aead.NonceSize()
	at := len(dst)
	dst = slices.Grow(dst, ns)[:at+ns]
	// The nonce is read in place: a nonce variable would escape to the heap.
	nonce := dst[at : at+ns]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("encryption nonce: %w", err)
	}
	start := len(dst)
	dst, err := e.inner.Encode(dst, plain)
	if err != nil {
		return nil, err
	}
	// Room for the tag, so that sealing in place does not reallocate;
	// the nonce is taken again, as growing may have moved it.
	dst = slices.Grow(dst, e.aead.Overhead())
	sealed := e.aead.Seal(dst[start:start], dst[at:start], dst[start:], nil)
	return dst[:start+len(sealed)], nil
}

// openPool holds the buffers a compressed chunk is decrypted into before it
// is decompressed.
var openPool = sync.Pool{New: func() any { return new([]byte) }}

// Decode authenticates and decrypts stored, then appends inner's decoding
// of the result to dst.
func (e *Encrypted) Decode(dst, stored []byte) ([]byte, error) {
	ns := e.aead.NonceSize()
	if len(stored) < ns+e.aead.Overhead() {
		return nil, fmt.Errorf("encrypted chunk has %d bytes, fewer than the %d of a nonce and tag", len(stored), ns+e.aead.Overhead())
	}
	nonce, sealed := stored[:ns], stored[ns:]
	if _, ok := e.inner.(Uncompressed); ok {
		start := len(dst)
		out, err := e.aead.Open(dst, nonce, sealed, nil)
		if err != nil {
			return nil, e.openError()
		}
		if len(out) == start {
			return nil, errors.New("empty chunk")
		}
		return out, nil
	}
	buf := openPool.Get().(*[]byte)
	defer openPool.Put(buf)
	out, err := e.aead.Open((*buf)[:0], nonce, sealed, nil)
	if err != nil {
		return nil, e.openError()
	}
	*buf = out
	return e.inner.Decode(dst, out)
}

func (e *Encrypted) openError() error {
	return fmt.Errorf("%s decryption failed (wrong key %s, or corrupt or tampered chunk)", e.alg, e.keyID)
}

// sameEncryption reports whether stored form of have is the stored form of
// want: the same algorithm and key, over the same kind of inner converter.
func sameEncryption(have, want *Encrypted) bool {
	if have == want {
		return true
	}
	if have.alg != want.alg || !bytes.Equal(have.key[:], want.key[:]) {
		return false
	}
	_, hz := have.inner.(*Zstd)
	_, wz := want.inner.(*Zstd)
	return hz == wz && (hz || have.inner == want.inner)
}

// ParseEncryptionKey reads a key written as 64 hex digits.
func ParseEncryptionKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	k, err := hex.DecodeString(s)
	if err != nil {
		// Not err itself: it would quote a character of the key.
		return nil, fmt.Errorf("encryption key is not hex (want %d hex digits)", 2*EncryptionKeySize)
	}
	if len(k) != EncryptionKeySize {
		return nil, fmt.Errorf("encryption key has %d bytes, want %d (%d hex digits)", len(k), EncryptionKeySize, 2*EncryptionKeySize)
	}
	return k, nil
}
