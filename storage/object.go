package storage

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"

	"github.com/folbricht/desync/chunk"
)

// ErrorKind is what a driver says one of its errors means for the caller.
type ErrorKind uint8

const (
	// KindUnknown: the driver cannot tell. Not retried.
	KindUnknown ErrorKind = iota
	// KindMissing: the object does not exist.
	KindMissing
	// KindPermanent: repeating the call cannot succeed (refused
	// credentials, a bucket or host that does not exist, a bad request).
	KindPermanent
	// KindTransient: repeating the call may succeed (a 5xx, a timeout, a
	// reset connection).
	KindTransient
)

func (k ErrorKind) String() string {
	switch k {
	case KindMissing:
		return "missing"
	case KindPermanent:
		return "permanent"
	case KindTransient:
		return "transient"
	}
	return "unknown"
}

// ObjectDriver is what a remote backend supplies: operations on named
// objects (names are relative, with "/" separators, such as
// "0a1b/0a1b….cacnk"), and the meaning of its own errors. [ObjectStore]
// makes a chunk store of it. A driver must be safe for concurrent use; it
// need not check the context before each call (ObjectStore does), nor name
// the store in its errors (ObjectStore does), nor retry ([Retry] does).
type ObjectDriver interface {
	// Get returns the whole object. An object larger than limit bytes is
	// an error matching [ErrTooLarge] (the driver reads no more than
	// limit+1 bytes of it). The caller owns the returned slice.
	Get(ctx context.Context, name string, limit int64) ([]byte, error)
	// Exists reports whether the object exists; a missing object is
	// false, nil.
	Exists(ctx context.Context, name string) (bool, error)
	// Put stores data under name, replacing what is there; the driver
	// must not keep data after it returns.
	Put(ctx context.Context, name string, data []byte) error
	// Delete removes the object; a missing object may be an error that
	// Classify calls missing, or none.
	Delete(ctx context.Context, name string) error
	// List yields the names of the objects whose names start with
	// prefix, in any order, each once; on failure it yields the error and
	// stops. A driver that cannot list or delete returns (or yields) an
	// error matching errors.ErrUnsupported.
	List(ctx context.Context, prefix string) iter.Seq2[string, error]
	// Classify says what an error of this driver means.
	Classify(err error) ErrorKind
	// String names the store for messages; it never holds a credential.
	String() string
	// Close releases the driver's resources.
	Close() error
}

// ObjectStore is a chunk store over an [ObjectDriver]: it names chunks
// with a [ChunkLayout], encodes, caps, decodes and verifies them with a
// [ChunkFormat], checks the context before each call, and turns the
// driver's errors into the store's: a missing object is a
// *chunk.MissingError, an oversized or undecodable one a
// *chunk.InvalidError, anything else a *[ChunkError] marked as the driver
// classified it ([Permanent], [Transient], or neither). It lists, removes
// and prunes chunks if the driver can list and delete.
type ObjectStore struct {
	d       ObjectDriver
	f       *ChunkFormat
	log     *slog.Logger
	listMax int // Options.ListBeforeWrite
}

// NewObjectStore returns the chunk store on d with the chunk settings of o
// (Uncompressed, MaxChunkSize, CompressionLevel, Digest, SkipVerify,
// Encryption, Logger). The store owns d: if the settings are refused, d is closed.
func NewObjectStore(d ObjectDriver, o Options) (*ObjectStore, error) {
	enc, err := o.EncryptionSettings()
	var f *ChunkFormat
	if err == nil {
		f, err = NewChunkFormat(FormatOptions{
			Uncompressed: o.Uncompressed, MaxChunkSize: o.MaxChunkSize, CompressionLevel: o.CompressionLevel,
			Digest: o.Digest, SkipVerify: o.SkipVerify, Encryption: enc,
		})
	}
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("store %s: %w", d, err)
	}
	s := NewObjectStoreFormat(d, f, o.Logger)
	s.listMax = o.ListBeforeWrite
	return s, nil
}

// NewObjectStoreFormat returns the chunk store on d with format f (and
// the default ListBeforeWrite).
func NewObjectStoreFormat(d ObjectDriver, f *ChunkFormat, log *slog.Logger) *ObjectStore {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ObjectStore{d: d, f: f, log: log}
}

// Driver returns the driver under the store.
func (s *ObjectStore) Driver() ObjectDriver { return s.d }

// Format returns the store's chunk format.
func (s *ObjectStore) Format() *ChunkFormat { return s.f }

// Name returns the object name of chunk id.
func (s *ObjectStore) Name(id chunk.ID) string { return s.f.Layout.Name(id) }

// wrap makes a driver error the store's: named, and marked as classified.
func (s *ObjectStore) wrap(op string, id chunk.ID, err error) error {
	return classified(s.d.Classify(err), &ChunkError{Store: s.d.String(), Op: op, ID: id, Err: err})
}

// classified marks err as kind says.
func classified(kind ErrorKind, err error) error {
	switch kind {
	case KindPermanent:
		return Permanent(err)
	case KindTransient:
		return Transient(err)
	}
	return err
}

// GetChunk fetches, decodes and (unless SkipVerify) verifies a chunk. The
// object's bytes become the chunk's stored form.
func (s *ObjectStore) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := s.d.Get(ctx, s.f.Layout.Name(id), s.f.MaxStored)
	if err != nil {
		switch {
		case s.d.Classify(err) == KindMissing:
			return nil, fmt.Errorf("%w: %w", err, &chunk.MissingError{ID: id, Store: s.d.String()})
		case errors.Is(err, ErrTooLarge):
			return nil, &chunk.InvalidError{ID: id, Store: s.d.String(), Err: err}
		}
		return nil, s.wrap("", id, err)
	}
	c, err := s.f.Decode(s.d.String(), id, b, true)
	if err != nil {
		return nil, err
	}
	s.log.Debug("fetched chunk", "store", s.d.String(), "id", id, "bytes", len(b))
	return c, nil
}

// HasChunk asks the driver whether the chunk's object exists.
func (s *ObjectStore) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	ok, err := s.d.Exists(ctx, s.f.Layout.Name(id))
	if err != nil {
		if s.d.Classify(err) == KindMissing {
			return false, nil
		}
		return false, s.wrap("", id, err)
	}
	return ok, nil
}

// StoreChunk encodes c in the store's form and puts it.
func (s *ObjectStore) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, release, err := s.f.Encode(c)
	if err != nil {
		return &ChunkError{Store: s.d.String(), Op: "writing", ID: c.ID(), Err: err}
	}
	defer release()
	if err := s.d.Put(ctx, s.f.Layout.Name(c.ID()), b); err != nil {
		return s.wrap("writing", c.ID(), err)
	}
	s.log.Debug("stored chunk", "store", s.d.String(), "id", c.ID(), "bytes", len(b))
	return nil
}

// RemoveChunk deletes a chunk's object; a chunk not in the store is no
// error.
func (s *ObjectStore) RemoveChunk(ctx context.Context, id chunk.ID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.d.Delete(ctx, s.f.Layout.Name(id)); err != nil && s.d.Classify(err) != KindMissing {
		return s.wrap("removing", id, err)
	}
	return nil
}

// ListChunks yields every chunk in the store (objects named as the layout
// names chunks; others are skipped).
func (s *ObjectStore) ListChunks(ctx context.Context) iter.Seq2[chunk.ID, error] {
	return func(yield func(chunk.ID, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(chunk.ID{}, err)
			return
		}
		for name, err := range s.d.List(ctx, "") {
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				if !isContextErr(err) {
					err = classified(s.d.Classify(err), fmt.Errorf("store %s: listing: %w", s.d, err))
				}
				yield(chunk.ID{}, err)
				return
			}
			if id, ok := s.f.Layout.Parse(name); ok && !yield(id, nil) {
				return
			}
		}
	}
}

// Prune deletes every chunk for which keep returns false, one by one.
func (s *ObjectStore) Prune(ctx context.Context, keep func(chunk.ID) bool) error {
	var drop []chunk.ID
	for id, err := range s.ListChunks(ctx) {
		if err != nil {
			return err
		}
		if !keep(id) {
			drop = append(drop, id)
		}
	}
	for _, id := range drop {
		if err := s.RemoveChunk(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// Uncompressed reports whether the store holds plain chunks.
func (s *ObjectStore) Uncompressed() bool { return s.f.Uncompressed() }

// Close closes the driver.
func (s *ObjectStore) Close() error { return s.d.Close() }

// String names the store as the driver does.
func (s *ObjectStore) String() string { return s.d.String() }

var (
	_ chunk.WriteStore = (*ObjectStore)(nil)
	_ chunk.PruneStore = (*ObjectStore)(nil)
	_ Lister           = (*ObjectStore)(nil)
	_ Remover          = (*ObjectStore)(nil)
)
