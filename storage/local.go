package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/folbricht/desync/chunk"
)

// LocalOptions configure a [Local] store. The zero value reads and writes
// zstd chunks, verifies every read against SHA-512/256, and caps decoded
// chunks at 128 MiB.
type LocalOptions struct {
	// Digest names the chunks; reads are verified with it.
	Digest chunk.Digest
	// MaxChunkSize caps the decoded size of a chunk (0: chunk.MaxSize). Set it
	// to the index's max chunk size.
	MaxChunkSize int
	// CompressionLevel is the zstd level of written chunks (0: chunk.DefaultLevel).
	CompressionLevel int
	// Uncompressed keeps plain chunks named <id> instead of <id>.cacnk.
	Uncompressed bool
	// SkipVerify trusts the store: reads are decoded but not hashed.
	SkipVerify bool
	// Converter overrides the zstd converter made from the options above,
	// so callers can share one set of encoders among stores.
	Converter chunk.Converter
	// Encryption, if set, encrypts the chunks (over Converter, or the
	// converter the options make), named <id>.cacnk.<algorithm>-<key id>
	// (<id>.<algorithm>-<key id> when Uncompressed).
	Encryption *Encryption
	// Logger receives debug messages; nil discards them.
	Logger *slog.Logger
	// Syncer makes written chunks durable; nil is [SystemSync].
	Syncer Syncer
}

// Local is a chunk store in a directory, laid out as casync lays it out:
// <dir>/<first 4 hex digits>/<id>.cacnk. The directory is created on the
// first write. Chunk files are read-only (0444 less the umask), as casync
// makes them, and an existing chunk is never rewritten.
//
// A chunk is written to a temporary file next to its final name and renamed
// into place only after its data is on stable storage, so a file under a
// chunk's name is always complete, even after a crash. On Linux the syncing is
// batched: once 256 temporary files are pending, a background flush makes
// them all durable with one syncfs and renames them, while writers go on
// (they wait only when 1024 are pending); [Local.Flush] and Close do the same
// for what is pending and report any error of a background flush. Pending
// chunks are visible through this store's GetChunk and HasChunk at once, and
// to other processes after the flush. Elsewhere each file is synced before
// its rename.
type Local struct {
	dir string
	o   LocalOptions
	f   *ChunkFormat // names, stored form, decoding (format.go)

	flushMu sync.Mutex // one flush at a time
	mu      sync.Mutex
	pending map[chunk.ID]string // chunks written to temporary files, not yet synced and renamed
	bgOn    bool                // a background flush is running (guarded by mu)
	bgErr   error               // what background flushes failed with, for the next Flush (guarded by mu)
	bg      sync.WaitGroup

	noReplace atomic.Bool // the file system refused RENAME_NOREPLACE (renameNoReplace)
	renamed   bool        // chunks were renamed into place since the last SyncFS (guarded by flushMu)

	ownerMu sync.Mutex
	owner   *os.File // the owner lock of this store's temporary files, from the first write until Close
	ownerID string   // its token, in the temporary files' names
}

const (
	// syncBatch is the number of pending chunks that starts a background
	// flush.
	syncBatch = 256
	// maxPending is the number of pending chunks at which a writer flushes
	// itself, so a slow disk bounds the temporary files.
	maxPending = 4 * syncBatch
)

// NewLocal returns the store at dir. dir need not exist yet, but if it does
// it must be a directory.
func NewLocal(dir string, o LocalOptions) (*Local, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("store %s: not a directory", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	f, err := NewChunkFormat(FormatOptions{
		Uncompressed: o.Uncompressed, MaxChunkSize: o.MaxChunkSize, CompressionLevel: o.CompressionLevel,
		Digest: o.Digest, SkipVerify: o.SkipVerify, Converter: o.Converter, Encryption: o.Encryption,
	})
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	s := &Local{dir: dir, o: o, f: f, pending: map[chunk.ID]string{}}
	if s.o.Logger == nil {
		s.o.Logger = slog.New(slog.DiscardHandler)
	}
	s.o.Syncer = syncerOr(s.o.Syncer)
	return s, nil
}

// Path returns the file that holds (or would hold) chunk id.
func (s *Local) Path(id chunk.ID) string {
	return filepath.Join(s.dir, filepath.FromSlash(s.f.Layout.Name(id)))
}

// GetChunk reads, decodes and (unless SkipVerify) verifies a chunk. The
// returned chunk holds only the plain form, in a pooled buffer that the
// caller may give back with Release; the file is read into a pooled buffer
// too.
func (s *Local) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	// Pending first: Flush renames a chunk before it leaves the pending set,
	// so a chunk not pending now is already under its final name (or absent),
	// and a pending one is in its temporary file or, if renamed meanwhile,
	// under its final name.
	var b []byte
	err := fs.ErrNotExist
	if tmp, ok := s.pendingFile(id); ok {
		b, err = readFile(tmp, *buf)
	}
	if errors.Is(err, fs.ErrNotExist) {
		b, err = readFile(s.Path(id), *buf)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &chunk.MissingError{ID: id, Store: s.dir}
	}
	if err != nil {
		return nil, &ChunkError{Store: s.dir, ID: id, Err: err}
	}
	*buf = b
	return s.f.Decode(s.dir, id, b, false)
}

// HasChunk reports whether the chunk file exists; it does not read it.
func (s *Local) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if _, ok := s.pendingFile(id); ok { // pending first, as in GetChunk
		return true, nil
	}
	_, err := os.Lstat(s.Path(id))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, &ChunkError{Store: s.dir, ID: id, Err: err}
}

// StoreChunk writes c unless the store already has it.
func (s *Local) StoreChunk(ctx context.Context, c *chunk.Chunk) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	// With batched syncing the existence check is the flush's rename, which
	// never replaces a file: a chunk already on disk costs a write, but the
	// usual caller (Make) has asked HasChunk first, and is spared a lookup.
	if batchedSync {
		if _, ok := s.pendingFile(c.ID()); ok {
			return nil
		}
	} else if has, err := s.HasChunk(ctx, c.ID()); has || err != nil {
		return err
	}
	b, release, err := s.f.Encode(c)
	if err != nil {
		return err
	}
	defer release()
	path := s.Path(c.ID())
	owner, err := s.ownerToken()
	if err != nil {
		return &ChunkError{Store: s.dir, Op: "writing", ID: c.ID(), Err: err}
	}
	if !batchedSync {
		if err := s.writeFileAtomic(path, owner, b); err != nil {
			return &ChunkError{Store: s.dir, Op: "writing", ID: c.ID(), Err: err}
		}
		return nil
	}
	tmp, err := writeFile(path, owner, b, 0o444, nil)
	if err != nil {
		return &ChunkError{Store: s.dir, Op: "writing", ID: c.ID(), Err: err}
	}
	s.mu.Lock()
	if _, dup := s.pending[c.ID()]; dup { // a concurrent writer of this chunk was first
		s.mu.Unlock()
		os.Remove(tmp)
		return nil
	}
	s.pending[c.ID()] = tmp
	n := len(s.pending)
	start := n >= syncBatch && !s.bgOn
	if start {
		s.bgOn = true
		s.bg.Add(1)
	}
	s.mu.Unlock()
	s.o.Logger.Debug("stored chunk", "store", s.dir, "id", c.ID(), "bytes", len(b))
	if start {
		go s.flushBackground()
	}
	if n >= maxPending {
		return s.Flush(ctx)
	}
	return nil
}

// flushBackground flushes while a batch is pending; a failure is kept for
// the next Flush (the chunks it concerns are no longer pending: their
// temporary files are removed, and the store does not have them).
func (s *Local) flushBackground() {
	defer s.bg.Done()
	for {
		err := s.flush(false)
		s.mu.Lock()
		s.bgErr = errors.Join(s.bgErr, err)
		if err != nil || len(s.pending) < syncBatch {
			s.bgOn = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

func (s *Local) pendingFile(id chunk.ID) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tmp, ok := s.pending[id]
	return tmp, ok
}

// Flush makes every chunk stored so far durable and visible under its name:
// one syncfs, a rename per chunk, and one more syncfs that makes the renames
// durable too (a chunk whose index is on disk must be on disk under its
// name). It runs to the end even if ctx is
// cancelled, so that nothing written is lost. It is called by Close, and by
// callers (such as assemble.Make) before they write an index that refers to
// the chunks. It also returns the errors of background flushes since the
// last Flush: a chunk they failed to flush is not in the store.
func (s *Local) Flush(ctx context.Context) error {
	err := s.flush(true)
	s.mu.Lock()
	err, s.bgErr = errors.Join(s.bgErr, err), nil
	s.mu.Unlock()
	return err
}

// flush syncs and renames what is pending now; with commit, it also syncs
// the renames made so far.
func (s *Local) flush(commit bool) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	batch := maps.Clone(s.pending)
	s.mu.Unlock()
	if len(batch) == 0 {
		return s.commitRenames(commit)
	}
	s.renamed = false // the syncfs makes earlier renames durable too
	if err := s.o.Syncer.SyncFS(s.dir); err != nil {
		return fmt.Errorf("store %s: %w", s.dir, err)
	}
	s.renamed = true
	var errs []error
	for id, tmp := range batch {
		if err := renameNoReplace(tmp, s.Path(id), &s.noReplace); err != nil {
			if tmp2, ok := s.pendingFile(id); !ok || tmp2 != tmp {
				continue // removed (RemoveChunk) while we synced
			}
			errs = append(errs, &ChunkError{Store: s.dir, ID: id, Err: err})
			os.Remove(tmp)
		}
	}
	s.mu.Lock()
	for id, tmp := range batch {
		if s.pending[id] == tmp { // not removed and stored again meanwhile
			delete(s.pending, id)
		}
	}
	s.mu.Unlock()
	return errors.Join(append(errs, s.commitRenames(commit))...)
}

// commitRenames, if commit, syncs the renames of flushes since the last
// SyncFS. flushMu is held.
func (s *Local) commitRenames(commit bool) error {
	if !commit || !s.renamed {
		return nil
	}
	if err := s.o.Syncer.SyncFS(s.dir); err != nil {
		return fmt.Errorf("store %s: %w", s.dir, err)
	}
	s.renamed = false
	return nil
}

// writeFileAtomic writes a chunk file where there is no batched sync: to
// a new temporary file (owned by owner) in path's directory, creating the
// directory if needed, synced, and renamed to path. On failure the
// temporary file is removed.
func (s *Local) writeFileAtomic(path, owner string, b []byte) error {
	tmp, err := writeFile(path, owner, b, 0o444, s.o.Syncer)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeFile writes b to a new temporary file next to path, owned by owner
// (see tempName), with permissions mode (less the umask, as for any new
// file), and returns its name. It creates the directory if needed, and
// syncs the file with sync unless it is nil.
func writeFile(path, owner string, b []byte, mode os.FileMode, sync Syncer) (string, error) {
	return newTemp(path, owner, true, func(name string) (bool, error) { return false, writeNew(name, b, mode, sync) })
}

// Close flushes the chunks still pending, waits for a background flush,
// and gives up the owner lock of the store's temporary files.
func (s *Local) Close() error {
	err := s.Flush(context.Background())
	s.bg.Wait()
	s.mu.Lock()
	err, s.bgErr = errors.Join(err, s.bgErr), nil
	s.mu.Unlock()
	s.releaseOwner()
	return err
}

// String returns the store's directory.
func (s *Local) String() string { return s.dir }

// ListChunks yields the ID of every chunk file in the store, in directory
// order. Files that are not chunks (temporary files, stray names) are
// skipped. A store directory that does not exist yet holds no chunks.
func (s *Local) ListChunks(ctx context.Context) iter.Seq2[chunk.ID, error] {
	return func(yield func(chunk.ID, error) bool) {
		if err := s.Flush(ctx); err != nil {
			yield(chunk.ID{}, err)
			return
		}
		dirs, err := os.ReadDir(s.dir)
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		if err != nil {
			yield(chunk.ID{}, fmt.Errorf("store %s: %w", s.dir, err))
			return
		}
		for _, d := range dirs {
			if ok, err := s.isChunkDir(d); !ok {
				if err != nil {
					yield(chunk.ID{}, err)
					return
				}
				continue
			}
			names, err := readDirNames(filepath.Join(s.dir, d.Name()))
			if err != nil {
				yield(chunk.ID{}, fmt.Errorf("store %s: %w", s.dir, err))
				return
			}
			for _, name := range names {
				if err := ctx.Err(); err != nil {
					yield(chunk.ID{}, err)
					return
				}
				id, ok := s.chunkName(d.Name(), name)
				if ok && !yield(id, nil) {
					return
				}
			}
		}
	}
}

// isChunkDir reports whether a store directory entry is one of the <4 hex>
// sub-directories; such a name that is not a directory is an error.
func (s *Local) isChunkDir(d fs.DirEntry) (bool, error) {
	name := d.Name()
	if !s.f.Layout.IsDir(name) {
		return false, nil
	}
	if !d.IsDir() {
		return false, fmt.Errorf("store %s: %s is not a directory", s.dir, name)
	}
	return true, nil
}

// chunkName parses a file name in the store's sub-directory dir as a chunk
// file name.
func (s *Local) chunkName(dir, name string) (chunk.ID, bool) {
	return s.f.Layout.ParseFile(dir, name)
}

func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// RemoveChunk deletes a chunk's file; a chunk not in the store is no error.
func (s *Local) RemoveChunk(ctx context.Context, id chunk.ID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	tmp, ok := s.pending[id]
	delete(s.pending, id)
	s.mu.Unlock()
	if ok {
		os.Remove(tmp)
	}
	if err := os.Remove(s.Path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &ChunkError{Store: s.dir, Op: "removing", ID: id, Err: err}
	}
	return nil
}

// Prune deletes every chunk for which keep returns false, and the stale
// temporary files of the store (RemoveStaleTemps with all). Chunks are deleted one by one,
// so an interrupted prune leaves a store in which every kept chunk is
// intact. Do not run it while another process writes to the store: a chunk
// written after its index was read for the keep set could be deleted.
func (s *Local) Prune(ctx context.Context, keep func(chunk.ID) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.Flush(ctx); err != nil {
		return err
	}
	if _, err := s.RemoveStaleTemps(ctx, true); err != nil {
		return err
	}
	dirs, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", s.dir, err)
	}
	for _, d := range dirs {
		if ok, err := s.isChunkDir(d); !ok {
			if err != nil {
				return err
			}
			continue
		}
		sub := filepath.Join(s.dir, d.Name())
		names, err := readDirNames(sub)
		if err != nil {
			return fmt.Errorf("store %s: %w", s.dir, err)
		}
		for _, name := range names {
			if err := ctx.Err(); err != nil {
				return err
			}
			if id, isChunk := s.chunkName(d.Name(), name); isChunk && !keep(id) {
				if err := os.Remove(filepath.Join(sub, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("store %s: pruning %s: %w", s.dir, name, err)
				}
			}
		}
	}
	return nil
}

var (
	_ chunk.PruneStore = (*Local)(nil)
	_ Lister           = (*Local)(nil)
	_ Remover          = (*Local)(nil)
)

// Uncompressed reports whether the store keeps plain chunks.
func (s *Local) Uncompressed() bool { return s.o.Uncompressed }

// ChunkFile returns the file of chunk id (see [ChunkFiler]).
func (s *Local) ChunkFile(id chunk.ID) (path, suffix string, ok bool) {
	return s.Path(id), s.f.Layout.Suffix, true
}
