package storage

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/folbricht/desync/chunk"
)

// This file is the one place that knows how a chunk is kept as an object
// (a file, an HTTP resource, an S3 key): its name, its stored form, how
// large the stored form may be, and how it is read back. Every backend uses
// it, so they agree with each other and with casync.

// Chunk name suffixes.
const (
	// SuffixCompressed names a zstd chunk, as casync does.
	SuffixCompressed = ".cacnk"
	// SuffixPlain names an uncompressed chunk: its bare ID.
	SuffixPlain = ""
)

// ChunkLayout names chunks in a store: <first 4 hex digits>/<id><Suffix>.
// Suffix is ".cacnk" for zstd chunks, "" for plain ones, and may carry a
// further transform (".cacnk.xchacha20-poly1305-<keyid>" for an encrypted
// store: the layout does not care what the suffix says, only that it ends
// every chunk name).
type ChunkLayout struct{ Suffix string }

// Name returns the object name of chunk id, with "/" as the separator.
func (l ChunkLayout) Name(id chunk.ID) string {
	h := id.String()
	return h[:4] + "/" + h + l.Suffix
}

// Dir returns the prefix directory of chunk id (its first 4 hex digits).
func (l ChunkLayout) Dir(id chunk.ID) string { return id.String()[:4] }

// IsDir reports whether name is a chunk prefix directory: 4 lower-case hex
// digits.
func (l ChunkLayout) IsDir(name string) bool {
	return len(name) == 4 && strings.Trim(name, "0123456789abcdef") == ""
}

// ParseFile parses the file name in the prefix directory dir as a chunk's:
// its ID must start with dir and be followed by exactly the suffix.
// Temporary files and stray names are not chunks.
func (l ChunkLayout) ParseFile(dir, name string) (chunk.ID, bool) {
	h, ok := strings.CutSuffix(name, l.Suffix)
	if !ok || len(h) != 64 || !strings.HasPrefix(h, dir) {
		return chunk.ID{}, false
	}
	id, err := chunk.ParseID(h)
	return id, err == nil
}

// Parse parses an object name ("<4hex>/<id><suffix>") as a chunk's.
func (l ChunkLayout) Parse(name string) (chunk.ID, bool) {
	dir, file, ok := strings.Cut(name, "/")
	if !ok || !l.IsDir(dir) {
		return chunk.ID{}, false
	}
	return l.ParseFile(dir, file)
}

// FormatOptions choose a [ChunkFormat]. The zero value is zstd chunks named
// .cacnk, SHA-512/256, verified, at most chunk.MaxSize decoded.
type FormatOptions struct {
	// Uncompressed keeps plain chunks named by their bare ID.
	Uncompressed bool
	// MaxChunkSize caps a decoded chunk (0 or more than chunk.MaxSize:
	// chunk.MaxSize).
	MaxChunkSize int
	// CompressionLevel is the zstd level of written chunks (0: default).
	CompressionLevel int
	// Digest names and verifies chunks.
	Digest chunk.Digest
	// SkipVerify decodes chunks read without hashing them.
	SkipVerify bool
	// Converter, if set, replaces the one the options above make (to
	// share encoders); it must match Uncompressed.
	Converter chunk.Converter
	// Suffix, if set, replaces the suffix of the stored form (for a
	// transform layered on the stored form).
	Suffix string
	// Encryption, if set, encrypts the stored form (compressed or not):
	// chunk names get the suffix ".cacnk.<algorithm>-<key id>" (or
	// ".<algorithm>-<key id>" uncompressed), as the original desync names
	// them. A Converter that is already a *chunk.Encrypted is used as it is.
	Encryption *Encryption
}

// ChunkFormat is how a store keeps chunks: their names, their stored form,
// the largest stored object a chunk may take, and the decoding and
// verification of what is read. It is safe for concurrent use.
type ChunkFormat struct {
	Layout ChunkLayout
	Conv   chunk.Converter
	Digest chunk.Digest
	Verify bool
	// MaxChunk is the decoded-size cap; MaxStored the largest stored
	// object a chunk of MaxChunk bytes can take (see [MaxStoredSize]).
	MaxChunk  int
	MaxStored int64
}

// NewChunkFormat returns the format o describes.
func NewChunkFormat(o FormatOptions) (*ChunkFormat, error) {
	maxChunk := o.MaxChunkSize
	if maxChunk <= 0 || maxChunk > chunk.MaxSize {
		maxChunk = chunk.MaxSize
	}
	f := &ChunkFormat{Conv: o.Converter, Digest: o.Digest, Verify: !o.SkipVerify, MaxChunk: maxChunk}
	if o.Uncompressed {
		f.Layout.Suffix, f.MaxStored = SuffixPlain, int64(maxChunk)
		if f.Conv == nil {
			f.Conv = chunk.Uncompressed{}
		}
	} else {
		f.Layout.Suffix, f.MaxStored = SuffixCompressed, MaxStoredSize(int64(maxChunk))
		if f.Conv == nil {
			z, err := chunk.NewZstd(chunk.ZstdOptions{MaxSize: maxChunk, Level: o.CompressionLevel})
			if err != nil {
				return nil, err
			}
			f.Conv = z
		}
	}
	if o.Encryption != nil {
		if _, ok := f.Conv.(*chunk.Encrypted); !ok {
			e, err := chunk.NewEncrypted(f.Conv, o.Encryption.Algorithm, o.Encryption.Key)
			if err != nil {
				return nil, err
			}
			f.Conv = e
		}
	}
	if e, ok := f.Conv.(*chunk.Encrypted); ok {
		f.Layout.Suffix = encryptionSuffix(e, o.Uncompressed)
		f.MaxStored += int64(e.Overhead())
	}
	if o.Suffix != "" {
		f.Layout.Suffix = o.Suffix
	}
	return f, nil
}

// Uncompressed reports whether chunks are stored plain (encrypted or not).
func (f *ChunkFormat) Uncompressed() bool {
	conv := f.Conv
	if e, ok := conv.(*chunk.Encrypted); ok {
		conv = e.Inner()
	}
	_, ok := conv.(chunk.Uncompressed)
	return ok
}

// Encrypted reports whether chunks are stored encrypted.
func (f *ChunkFormat) Encrypted() bool {
	_, ok := f.Conv.(*chunk.Encrypted)
	return ok
}

// MaxStoredSize is the largest zstd frame a chunk of n bytes can take:
// zstd's worst case for n bytes of input (ZSTD_compressBound) plus the
// largest frame header and a checksum, so frames of any encoder fit. It
// also bounds gzip chunks (casync --compression=gzip), which grow by 5
// bytes a 64 KiB block and 18 bytes of header and trailer.
func MaxStoredSize(n int64) int64 {
	const frameOverhead = 18 + 4 // largest frame header, content checksum
	b := n + n>>8 + frameOverhead
	if n < 128<<10 {
		b += (128<<10 - n) >> 11
	}
	return b
}

// ErrTooLarge is what a driver returns for an object larger than the limit
// it was asked to read; a chunk read reports it as an invalid chunk.
var ErrTooLarge = errors.New("object larger than the chunk size limit")

// Decode decodes and (unless the format skips verification) verifies the
// stored form of chunk id read from store. With owned, the chunk keeps
// stored as its stored form (the caller must not reuse it); otherwise it
// copies what it keeps. A chunk that does not decode or verify is a
// *chunk.InvalidError naming id and store.
func (f *ChunkFormat) Decode(store string, id chunk.ID, stored []byte, owned bool) (*chunk.Chunk, error) {
	if int64(len(stored)) > f.MaxStored {
		return nil, &chunk.InvalidError{ID: id, Store: store, Err: ErrTooLarge}
	}
	var c *chunk.Chunk
	var err error
	if owned {
		c, err = chunk.LoadOwned(id, stored, f.Conv, f.Digest, f.Verify)
	} else {
		c, err = chunk.Load(id, stored, f.Conv, f.Digest, f.Verify)
	}
	if err != nil {
		var inv *chunk.InvalidError
		if errors.As(err, &inv) {
			inv.Store = store
		}
		return nil, err
	}
	return c, nil
}

// Encode returns the stored form of c. Unless c holds it already, it is
// encoded into a pooled buffer that release gives back; b must not be used
// after release.
func (f *ChunkFormat) Encode(c *chunk.Chunk) (b []byte, release func(), err error) {
	if stored, ok := c.StoredAs(f.Conv); ok {
		return stored, func() {}, nil
	}
	plain, err := c.Plain()
	if err != nil {
		return nil, nil, err
	}
	buf := bufPool.Get().(*[]byte)
	b, err = f.Conv.Encode((*buf)[:0], plain)
	if err != nil {
		bufPool.Put(buf)
		return nil, nil, fmt.Errorf("chunk %s: %w", c.ID(), err)
	}
	return b, func() { *buf = b; bufPool.Put(buf) }, nil
}

var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// ChunkError is the failure of a store call about one chunk: it names the
// store, what was done ("writing", "removing"; empty for a read) and the
// chunk, and unwraps to the cause.
type ChunkError struct {
	Store string
	Op    string
	ID    chunk.ID
	Err   error
}

func (e *ChunkError) Error() string {
	op := ""
	if e.Op != "" {
		op = e.Op + " "
	}
	return fmt.Sprintf("store %s: %schunk %s: %v", e.Store, op, e.ID, e.Err)
}

func (e *ChunkError) Unwrap() error { return e.Err }
