package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/folbricht/desync/chunk"
)

// Defaults of an [Uploads] queue.
const (
	// MinUploaders is the fewest uploaders the CLI gives a remote store
	// it writes to (see [UploaderCount]).
	MinUploaders = 8
	// DefaultUploadBytes bounds what an [Uploads] queue holds (queued and
	// being uploaded) unless its options say otherwise; more when the
	// chunks may be large (see UploadOptions.MaxBytes). Measured on
	// loopback (bench/remote.sh), 4 MiB keeps 10 uploaders busy, and a
	// larger queue only adds to make's peak RSS.
	DefaultUploadBytes = 4 << 20
	// DefaultListWait is how long HasChunk waits for the listing of the
	// store (see UploadOptions.ListWait): ten pages of an S3 listing take
	// about a second on a distant store.
	DefaultListWait = 2 * time.Second
)

// UploaderCount is the number of uploaders for a command with n workers
// (-n): max(n, MinUploaders), so a command with few CPU workers still keeps
// enough requests in flight to hide a remote store's latency.
func UploaderCount(n int) int { return max(n, MinUploaders) }

// UploadOptions configure an [Uploads] queue.
type UploadOptions struct {
	// Uploaders is how many chunks are uploaded at once (0: MinUploaders).
	Uploaders int
	// MaxBytes bounds the bytes the queue holds, queued and being
	// uploaded (0:
	// DefaultUploadBytes, or room for two chunks of the largest size per
	// uploader if that is more and the store's chunk size cap is known).
	// A chunk larger than the bound is accepted when the queue is empty.
	MaxBytes int64
	// ListWait bounds how long HasChunk waits for the listing of the
	// store made at the first HasChunk (0: DefaultListWait; negative: as
	// long as it takes); past it, HasChunk asks the store for each chunk
	// until the listing is complete, so a slow listing of a large store
	// does not hold up the writer long.
	ListWait time.Duration
}

// Uploads is a write-behind queue in front of a remote chunk store:
// StoreChunk encodes the chunk in the caller (so compression runs on the
// caller's CPU workers) into bytes the queue owns, queues it and
// returns; a pool of uploaders of its own writes the queue to the wrapped
// store. See the package documentation for the rules it keeps.
type Uploads struct {
	s    chunk.WriteStore
	f    *ChunkFormat // the stored form to encode to; nil: keep a plain copy
	max  int64
	name string

	lister    *ObjectStore  // lists the store's chunks at the first HasChunk; nil: never
	listed    sync.Once     // starts the listing
	known     chan struct{} // closed once the listing is over
	listWait  time.Duration // UploadOptions.ListWait
	impatient chan struct{} // closed ListWait after the listing started

	ctx    context.Context // the uploaders'; cancelled by Close or the creator's context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	more    *sync.Cond // signalled when work is queued or the queue stops
	queue   []*upload
	pending map[chunk.ID]*upload  // queued or being uploaded
	bytes   int64                 // held by pending uploads
	err     error                 // the first failure, or why the queue stopped; sticky: once set, no upload starts
	changed chan struct{}         // closed (and replaced) when an upload ends or the queue stops
	stored  map[chunk.ID]struct{} // chunks uploaded, and once listed the store's; nil: no listing
	listOK  bool                  // stored holds the store's listing: HasChunk answers from it
	stats   UploadStats
}

// UploadStats count what a queue did.
type UploadStats struct {
	Queued   int   // chunks queued
	Uploaded int   // chunks the wrapped store accepted
	MaxBytes int64 // the most bytes held at once
	Listed   bool  // HasChunk answers from a listing of the store
}

// upload is one queued chunk, in the form the wrapped store takes.
type upload struct {
	c *chunk.Chunk
	b []byte // c's bytes, owned by the queue, never changed; counted against the bound
}

func (up *upload) size() int64 { return int64(len(up.b)) }

// NewUploads starts the uploaders of a queue in front of s. ctx bounds
// their life: once it is done, uploads stop, and StoreChunk and Flush
// report why. If s (or a store it wraps, see [As]) is an [ObjectStore],
// chunks are queued in its stored form.
func NewUploads(ctx context.Context, s chunk.WriteStore, o UploadOptions) *Uploads {
	if o.Uploaders <= 0 {
		o.Uploaders = MinUploaders
	}
	u := &Uploads{s: s, max: o.MaxBytes, name: s.String(), pending: map[chunk.ID]*upload{}, changed: make(chan struct{}),
		known: make(chan struct{}), listWait: o.ListWait, impatient: make(chan struct{})}
	if u.listWait == 0 {
		u.listWait = DefaultListWait
	}
	if os, ok := As[*ObjectStore](s); ok {
		u.f = os.Format()
		if os.listMax >= 0 {
			u.lister, u.stored = os, map[chunk.ID]struct{}{}
		}
	}
	if u.max <= 0 {
		u.max = DefaultUploadBytes
		if u.f != nil && u.f.MaxChunk < chunk.MaxSize {
			u.max = max(u.max, 2*int64(o.Uploaders)*u.f.MaxStored)
		}
	}
	u.more = sync.NewCond(&u.mu)
	u.ctx, u.cancel = context.WithCancel(ctx)
	context.AfterFunc(u.ctx, func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		u.stop(fmt.Errorf("store %s: uploads stopped: %w", u.name, context.Cause(u.ctx)))
	})
	for range o.Uploaders {
		u.wg.Go(u.uploader)
	}
	return u
}

// stop records err (not nil) unless a failure is recorded already, drops
// what is queued and wakes everyone. mu is held.
func (u *Uploads) stop(err error) {
	if u.err == nil {
		u.err = err
	}
	for _, up := range u.queue {
		u.done(up)
	}
	u.queue = nil
	u.more.Broadcast()
}

// done forgets up and wakes those waiting for a change. mu is held.
func (u *Uploads) done(up *upload) {
	if u.pending[up.c.ID()] == up {
		delete(u.pending, up.c.ID())
	}
	u.bytes -= up.size()
	close(u.changed)
	u.changed = make(chan struct{})
}

// uploader takes chunks off the queue and writes them to the wrapped store
// until the queue stops.
func (u *Uploads) uploader() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for {
		for len(u.queue) == 0 && u.err == nil {
			u.more.Wait()
		}
		if u.err != nil {
			return
		}
		up := u.queue[0]
		u.queue[0] = nil
		u.queue = u.queue[1:]
		u.mu.Unlock()
		err := u.s.StoreChunk(u.ctx, up.c)
		u.mu.Lock()
		u.done(up)
		if err != nil {
			u.stop(uploadError(u.name, up.c.ID(), err))
		} else {
			u.stats.Uploaded++
			u.remember(up.c.ID())
		}
	}
}

// uploadError names the store and chunk of a failed upload (the stores'
// own errors do already).
func uploadError(store string, id chunk.ID, err error) error {
	var ce *ChunkError
	if errors.As(err, &ce) && ce.ID == id {
		return fmt.Errorf("upload failed: %w", err)
	}
	return fmt.Errorf("upload failed: %w", &ChunkError{Store: store, Op: "writing", ID: id, Err: err})
}

// prepare makes the queued form of c in bytes of its exact size (so the
// queue holds no more than it counts): its stored form, encoded by the
// format, or a copy of its plain form.
func (u *Uploads) prepare(c *chunk.Chunk) (*upload, error) {
	fail := func(err error) (*upload, error) {
		return nil, &ChunkError{Store: u.name, Op: "writing", ID: c.ID(), Err: err}
	}
	if u.f == nil {
		plain, err := c.Plain()
		if err != nil {
			return fail(err)
		}
		b := slices.Clone(plain)
		return &upload{c: chunk.New(c.ID(), b), b: b}, nil
	}
	stored, release, err := u.f.Encode(c)
	if err != nil {
		return fail(err)
	}
	b := slices.Clone(stored)
	release()
	return &upload{c: chunk.NewStored(c.ID(), b, u.f.Conv), b: b}, nil
}

// StoreChunk queues c and returns; c's data may be reused once it returns.
// It waits while the queue is full. A chunk queued already is not queued
// again. It returns the failure of an earlier upload, if any: after one,
// nothing more is queued or started.
func (u *Uploads) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	u.mu.Lock()
	_, dup := u.pending[c.ID()]
	err := u.err
	u.mu.Unlock()
	if err != nil || dup {
		return err
	}
	up, err := u.prepare(c)
	if err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for {
		switch {
		case u.err != nil:
			return u.err
		case u.pending[c.ID()] != nil:
			return nil
		case u.bytes == 0 || u.bytes+up.size() <= u.max:
			u.pending[c.ID()] = up
			u.bytes += up.size()
			u.stats.MaxBytes = max(u.stats.MaxBytes, u.bytes)
			u.stats.Queued++
			u.queue = append(u.queue, up)
			u.more.Signal()
			return nil
		}
		changed := u.changed
		u.mu.Unlock()
		select {
		case <-ctx.Done():
			u.mu.Lock()
			return ctx.Err()
		case <-changed:
		}
		u.mu.Lock()
	}
}

// pendingChunk returns chunk id if it is queued or being uploaded (its
// bytes are never changed, so the chunk may keep them).
func (u *Uploads) pendingChunk(id chunk.ID) (*chunk.Chunk, bool, error) {
	u.mu.Lock()
	up, ok := u.pending[id]
	var b []byte
	if ok {
		b = up.b
	}
	u.mu.Unlock()
	if !ok {
		return nil, false, nil
	}
	if u.f == nil {
		return chunk.New(id, b), true, nil
	}
	c, err := u.f.Decode(u.name, id, b, true)
	return c, true, err
}

// GetChunk returns a chunk that is still queued from the queue, others
// from the wrapped store.
func (u *Uploads) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c, ok, err := u.pendingChunk(id); ok {
		return c, err
	}
	return u.s.GetChunk(ctx, id)
}

// HasChunk is true for a chunk that is queued. Else, when the store's
// listing (made by the first HasChunk, which the others wait for, up to
// UploadOptions.ListWait; see [ObjectStore.KnownChunks]) is complete, it
// answers from the listing and the uploads since; otherwise it asks the
// wrapped store.
func (u *Uploads) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if u.lister != nil {
		u.listed.Do(func() {
			if u.ctx.Err() != nil { // closed: no listing any more
				close(u.known)
				return
			}
			u.wg.Go(u.list)
			if u.listWait > 0 {
				time.AfterFunc(u.listWait, func() { close(u.impatient) })
			}
		})
		select {
		case <-u.known:
		case <-u.impatient:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	u.mu.Lock()
	_, ok := u.pending[id]
	listed := u.listOK
	if listed && !ok {
		_, ok = u.stored[id]
	}
	u.mu.Unlock()
	if ok || listed {
		return ok, nil
	}
	return u.s.HasChunk(ctx, id)
}

// list lists the store's chunks for HasChunk, adding them to those
// uploaded meanwhile (which the listing may have missed).
func (u *Uploads) list() {
	defer close(u.known)
	known, ok := u.lister.KnownChunks(u.ctx)
	u.mu.Lock()
	defer u.mu.Unlock()
	if !ok {
		u.stored = nil
		return
	}
	u.listOK, u.stats.Listed = true, true
	for id := range known {
		u.remember(id)
	}
}

// maxKnownChunks bounds the chunks an [Uploads] remembers (about 64 MiB
// of IDs, the chunks of 64 GiB of input at casync's default sizes); past
// it, HasChunk asks the store again.
const maxKnownChunks = 1 << 20

// remember adds id to the chunks the store has, unless HasChunk asks the
// store. mu is held.
func (u *Uploads) remember(id chunk.ID) {
	if u.stored == nil {
		return
	}
	if len(u.stored) >= maxKnownChunks {
		u.stored, u.listOK = nil, false
		return
	}
	u.stored[id] = struct{}{}
}

// Flush waits until every queued chunk is uploaded, then flushes the
// wrapped store. It returns the first failed upload, naming chunk and
// store, or why the uploads stopped.
func (u *Uploads) Flush(ctx context.Context) error {
	u.mu.Lock()
	for u.err == nil && len(u.pending) > 0 {
		changed := u.changed
		u.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("store %s: waiting for uploads: %w", u.name, ctx.Err())
		case <-changed:
		}
		u.mu.Lock()
	}
	err := u.err
	u.mu.Unlock()
	if err != nil {
		return err
	}
	return flush(ctx, u.s)
}

// Stats returns the queue's counts so far.
func (u *Uploads) Stats() UploadStats {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.stats
}

// Close waits for the queued uploads (unless the queue's context is done),
// stops the uploaders and closes the wrapped store. It returns what Flush
// would.
func (u *Uploads) Close() error {
	err := u.Flush(u.ctx)
	u.cancel()
	u.wg.Wait()
	return errors.Join(err, u.s.Close())
}

// Unwrap returns the wrapped store.
func (u *Uploads) Unwrap() chunk.Store { return u.s }

// String names the wrapped store.
func (u *Uploads) String() string { return u.name }

var (
	_ chunk.WriteStore = (*Uploads)(nil)
	_ chunk.Flusher    = (*Uploads)(nil)
)
