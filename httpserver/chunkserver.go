package httpserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// ChunkServerOptions configure [NewChunkServer].
type ChunkServerOptions struct {
	// Writable accepts PUT. Every uploaded chunk is decoded and verified
	// against its ID before it is stored; the store must be a
	// chunk.WriteStore.
	Writable bool
	// MaxUploads bounds the uploads read and verified at once (0:
	// [DefaultMaxUploads]); others wait for their turn before their body is
	// read, so a writable server's memory is bounded by MaxUploads times the
	// chunk size limit, however many clients upload.
	MaxUploads int
	// MaxUploadBytes bounds the upload bodies held at once, in bytes (0:
	// [DefaultMaxUploadBytes]; never less than one body of the largest
	// size). An upload reserves its Content-Length (the largest size if it
	// has none) before its body is read, and waits until that much is
	// free, so a few huge uploads cannot take the memory many could.
	MaxUploadBytes int64
	// Uncompressed serves (and accepts) plain chunks at /<4 hex>/<id>
	// instead of zstd chunks at /<4 hex>/<id>.cacnk, converting as needed.
	Uncompressed bool
	// Encryption, if set, serves (and accepts) chunks encrypted with it,
	// however the store keeps them, at the names the original desync
	// gives them: /<4 hex>/<id>.cacnk.<algorithm>-<key id>, or
	// /<4 hex>/<id>.<algorithm>-<key id> when Uncompressed. A chunk the
	// store holds encrypted with the same key is sent as it is.
	Encryption *storage.Encryption
	// SkipVerifyRead says the store does not verify the chunks it reads
	// (desync's --skip-verify-read): the server then sends a local store's
	// chunk files without verifying them either, and marks no response
	// immutable, since nothing checked it. Otherwise every chunk sent has
	// been verified, and responses are immutable.
	SkipVerifyRead bool
	// Digest names the chunks; uploads are verified with it.
	Digest chunk.Digest
	// MaxChunkSize caps uploaded chunks, decoded (0: chunk.MaxSize). An
	// upload body larger than the largest stored form such a chunk can
	// have (zstd's worst case, or MaxChunkSize itself when Uncompressed)
	// is refused with 413: by its Content-Length before any of it is read,
	// or, sent without one, after reading one byte more than that.
	MaxChunkSize int
	// CompressionLevel is the zstd level of chunks the server compresses
	// (0: chunk.DefaultLevel).
	CompressionLevel int
	// Authorization, if set, is the value every request's Authorization
	// header must have (compared in constant time); others get 401.
	Authorization string
	// Metrics, if set, are updated and served at /metrics.
	Metrics *Metrics
	// Logger receives store errors (which responses never carry); nil
	// discards them.
	Logger *slog.Logger
	// AccessLog, if set, receives one Info record per request.
	AccessLog *slog.Logger
}

// DefaultMaxUploads is the default of ChunkServerOptions.MaxUploads.
var DefaultMaxUploads = 4 * runtime.GOMAXPROCS(0)

// DefaultMaxUploadBytes is the default of ChunkServerOptions.MaxUploadBytes:
// thousands of chunks of desync's default sizes, or two of casync's largest.
const DefaultMaxUploadBytes = 256 << 20

// ChunkServer serves a chunk store in desync's chunk-server protocol:
//
//	GET  /<4 hex>/<id>.cacnk   200 and the chunk; 404 if the store lacks it
//	HEAD /<4 hex>/<id>.cacnk   200 or 404
//	PUT  /<4 hex>/<id>.cacnk   200 once stored durably (Writable only; else 405)
//
// (/<4 hex>/<id> without .cacnk, plain chunks, when Uncompressed; with
// Encryption, the names end in .<algorithm>-<key id> after either). Any
// other path is 400. Uploads larger than the chunk size limit are 413;
// uploads that do not decode or whose content does not hash to the ID are
// 422, and nothing is stored. Store failures are 500 with a fixed message;
// the error goes to the Logger.
//
// The store can be replaced while serving ([ChunkServer.SetStore]); the old
// one is closed once the requests using it have finished.
type ChunkServer struct {
	o       ChunkServerOptions
	conv    chunk.Converter
	layout  storage.ChunkLayout // chunk names: /<4 hex>/<id><suffix>
	maxBody int64
	uploads chan struct{} // a token per upload in progress
	bodies  *budget       // the bytes of upload bodies in memory
	checked verifiedFiles // local chunk files found valid (the fast path)
	log     *slog.Logger
	h       http.Handler

	mu  sync.RWMutex
	cur *storeRef
}

// storeRef counts the requests using a store, so a replaced store is
// closed only after they end.
type storeRef struct {
	s  chunk.Store
	wg sync.WaitGroup
}

// NewChunkServer returns a handler serving s. Closing the server closes
// the store.
func NewChunkServer(s chunk.Store, o ChunkServerOptions) (*ChunkServer, error) {
	if o.MaxUploads <= 0 {
		o.MaxUploads = DefaultMaxUploads
	}
	cs := &ChunkServer{o: o, log: o.Logger, cur: &storeRef{s: s}, uploads: make(chan struct{}, o.MaxUploads)}
	if cs.log == nil {
		cs.log = slog.New(slog.DiscardHandler)
	}
	// The format a client of package storage-http uses for the same
	// options: both take it from storage, so they agree on names and caps.
	f, err := storage.NewChunkFormat(storage.FormatOptions{Uncompressed: o.Uncompressed, MaxChunkSize: o.MaxChunkSize, CompressionLevel: o.CompressionLevel, Encryption: o.Encryption})
	if err != nil {
		return nil, err
	}
	cs.conv, cs.layout, cs.maxBody = f.Conv, f.Layout, f.MaxStored
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = DefaultMaxUploadBytes
	}
	cs.bodies = newBudget(max(o.MaxUploadBytes, cs.maxBody+1))
	if err := cs.checkStore(s); err != nil {
		return nil, err
	}
	cs.h = wrap(http.HandlerFunc(cs.serve), handlerOptions{server: "chunk", auth: o.Authorization, access: o.AccessLog, metrics: o.Metrics})
	return cs, nil
}

// checkStore refuses a store that cannot take the uploads of a writable
// server.
func (cs *ChunkServer) checkStore(s chunk.Store) error {
	if _, ok := s.(chunk.WriteStore); cs.o.Writable && !ok {
		return fmt.Errorf("chunk server: store %s does not accept chunks", s)
	}
	return nil
}

// ServeHTTP implements http.Handler.
func (cs *ChunkServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { cs.h.ServeHTTP(w, r) }

// SetStore replaces the store (a configuration reload). Requests already
// running finish with the old store, which is closed after them.
func (cs *ChunkServer) SetStore(s chunk.Store) error {
	if err := cs.checkStore(s); err != nil {
		return err
	}
	cs.mu.Lock()
	old := cs.cur
	cs.cur = &storeRef{s: s}
	cs.mu.Unlock()
	go func() {
		old.wg.Wait()
		if err := old.s.Close(); err != nil {
			cs.log.Error("closing replaced store", "store", old.s.String(), "error", err)
		}
	}()
	return nil
}

// Store returns the store being served.
func (cs *ChunkServer) Store() chunk.Store {
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	return cs.cur.s
}

// Close closes the store. Call it after the HTTP server has shut down.
func (cs *ChunkServer) Close() error {
	cs.mu.Lock()
	ref := cs.cur
	cs.mu.Unlock()
	ref.wg.Wait()
	return ref.s.Close()
}

func (cs *ChunkServer) acquire() *storeRef {
	cs.mu.RLock()
	ref := cs.cur
	ref.wg.Add(1)
	cs.mu.RUnlock()
	return ref
}

// parseChunkPath returns the ID in a request path of the form
// /<4 hex>/<64 hex><suffix>, the name storage.ChunkLayout gives the chunk.
// Anything else, including escaped characters (rawPath not empty) and
// upper-case hex, is refused: a path is accepted only if it is exactly the
// name of the ID it yields.
func parseChunkPath(p, rawPath string, layout storage.ChunkLayout) (chunk.ID, bool) {
	name, ok := strings.CutPrefix(p, "/")
	if rawPath != "" || !ok {
		return chunk.ID{}, false
	}
	id, ok := layout.Parse(name)
	if !ok || layout.Name(id) != name {
		return chunk.ID{}, false
	}
	return id, true
}

func (cs *ChunkServer) serve(w http.ResponseWriter, r *http.Request) {
	id, ok := parseChunkPath(r.URL.Path, r.URL.RawPath, cs.layout)
	if !ok {
		httpError(w, http.StatusBadRequest, "expected /<4 hex>/<chunk id>"+cs.layout.Suffix)
		return
	}
	ref := cs.acquire()
	defer ref.wg.Done()
	switch r.Method {
	case http.MethodGet:
		cs.get(w, r, ref.s, id)
	case http.MethodHead:
		cs.head(w, r, ref.s, id)
	case http.MethodPut:
		cs.put(w, r, ref.s, id)
	default:
		w.Header().Set("Allow", cs.allow())
		httpError(w, http.StatusMethodNotAllowed, "method not allowed")
	}
}

// cacheControl is the Cache-Control of a chunk: a chunk's content never
// changes under its name, so caches (a CDN in front of the server) may keep
// a verified chunk for good; shared caches only if the server needs no
// authorization. A chunk sent unverified (SkipVerifyRead) may be corrupt,
// so caches must ask again before reusing it.
func (cs *ChunkServer) cacheControl() string {
	scope := "public"
	if cs.o.Authorization != "" {
		scope = "private"
	}
	if cs.o.SkipVerifyRead {
		return scope + ", no-cache"
	}
	return scope + ", max-age=31536000, immutable"
}

func (cs *ChunkServer) allow() string {
	if cs.o.Writable {
		return "GET, HEAD, PUT"
	}
	return "GET, HEAD"
}

func (cs *ChunkServer) get(w http.ResponseWriter, r *http.Request, s chunk.Store, id chunk.ID) {
	if cs.serveFile(w, r, s, id) {
		return
	}
	c, err := s.GetChunk(r.Context(), id)
	if err != nil {
		cs.storeError(w, r, "get", s, id, err)
		return
	}
	defer c.Release() // the response writer keeps nothing
	var b []byte
	if cs.o.Uncompressed && cs.o.Encryption == nil {
		b, err = c.Plain()
	} else {
		b, err = c.Stored(cs.conv)
	}
	if err != nil {
		cs.storeError(w, r, "get", s, id, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", cs.cacheControl())
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// serveFile is the fast path for a store that keeps chunks in files
// (storage.ChunkFiler: a local store, and the decorators that forward it)
// in the served form: its
// chunk file is sent as it is (with sendfile where the OS has it), without
// decoding and encoding again. Unless SkipVerifyRead, a file is verified
// the first time it is served (it is read, decoded and hashed, and the bytes
// checked are the ones sent) and then remembered by its identity, size and
// modification time, so later requests for it get sendfile again. It
// reports false when the chunk must go through GetChunk (another kind of
// store, another form, a chunk not yet renamed into place, or a file that
// fails verification: GetChunk then reports it as the store sees it).
func (cs *ChunkServer) serveFile(w http.ResponseWriter, r *http.Request, s chunk.Store, id chunk.ID) bool {
	filer, ok := s.(storage.ChunkFiler)
	if !ok {
		return false
	}
	// The suffix names the form (compression, algorithm and key ID): a
	// file of another form is never sent as this one.
	path, suffix, ok := filer.ChunkFile(id)
	if !ok || suffix != cs.layout.Suffix {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	key := newFileKey(id, fi)
	if cs.o.SkipVerifyRead || cs.checked.has(key) {
		h.Set("Cache-Control", cs.cacheControl())
		w.WriteHeader(http.StatusOK)
		io.Copy(w, f)
		return true
	}
	if fi.Size() > cs.maxBody {
		return false
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return false
	}
	c, err := chunk.Load(id, b, cs.conv, cs.o.Digest, true)
	if err != nil {
		return false
	}
	c.Release()
	cs.checked.add(key)
	h.Set("Cache-Control", cs.cacheControl())
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return true
}

// maxVerifiedFiles bounds the files a chunk server remembers as verified
// (some 100 bytes each).
const maxVerifiedFiles = 1 << 16

// fileKey names a chunk file's content as far as its metadata can: a file
// rewritten or replaced gets another key (unless it keeps its inode, size
// and modification time to the nanosecond).
type fileKey struct {
	id    chunk.ID
	ino   uint64
	size  int64
	mtime int64
}

func newFileKey(id chunk.ID, fi fs.FileInfo) fileKey {
	return fileKey{id: id, ino: inode(fi), size: fi.Size(), mtime: fi.ModTime().UnixNano()}
}

// verifiedFiles is a bounded set of fileKeys; when full, an arbitrary
// entry makes room for a new one.
type verifiedFiles struct {
	mu sync.Mutex
	m  map[fileKey]struct{}
}

func (v *verifiedFiles) has(k fileKey) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok := v.m[k]
	return ok
}

func (v *verifiedFiles) add(k fileKey) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = make(map[fileKey]struct{})
	}
	if len(v.m) >= maxVerifiedFiles {
		for old := range v.m {
			delete(v.m, old)
			break
		}
	}
	v.m[k] = struct{}{}
}

func (cs *ChunkServer) head(w http.ResponseWriter, r *http.Request, s chunk.Store, id chunk.ID) {
	ok, err := s.HasChunk(r.Context(), id)
	if err != nil {
		cs.storeError(w, r, "has", s, id, err)
		return
	}
	if !ok {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (cs *ChunkServer) put(w http.ResponseWriter, r *http.Request, s chunk.Store, id chunk.ID) {
	ws, ok := s.(chunk.WriteStore)
	if !cs.o.Writable || !ok {
		w.Header().Set("Allow", cs.allow())
		httpError(w, http.StatusMethodNotAllowed, "this server is read-only")
		return
	}
	if r.ContentLength > cs.maxBody {
		// Refused unread; closing the connection spares the server reading
		// (to discard it) a body it does not want.
		w.Header().Set("Connection", "close")
		httpError(w, http.StatusRequestEntityTooLarge, "chunk too large")
		return
	}
	select {
	case cs.uploads <- struct{}{}:
		defer func() { <-cs.uploads }()
	case <-r.Context().Done():
		return
	}
	reserve := cs.maxBody + 1 // what MaxBytesReader reads at most
	if r.ContentLength >= 0 {
		reserve = r.ContentLength
	}
	if err := cs.bodies.acquire(r.Context(), reserve); err != nil {
		return
	}
	defer cs.bodies.release(reserve)
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, cs.maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge) || n > cs.maxBody:
		httpError(w, http.StatusRequestEntityTooLarge, "chunk too large")
		return
	case err != nil:
		cs.log.Warn("reading upload", "remote", r.RemoteAddr, "id", id.String(), "error", err)
		httpError(w, http.StatusBadRequest, "could not read the request body")
		return
	}
	// Decoded (into a pooled buffer) and hashed once; a store keeping zstd
	// chunks stores the uploaded frame as it came (chunk.StoredAs) instead
	// of encoding again.
	c, err := chunk.LoadOwned(id, buf.Bytes(), cs.conv, cs.o.Digest, true)
	if err != nil {
		msg := "chunk content does not match its ID"
		if inv := (*chunk.InvalidError)(nil); errors.As(err, &inv) && inv.Err != nil {
			msg = "chunk does not decode"
		}
		httpError(w, http.StatusUnprocessableEntity, msg)
		return
	}
	defer c.Release() // stores keep no reference to a chunk they were given
	if err := ws.StoreChunk(r.Context(), c); err != nil {
		cs.storeError(w, r, "store", s, id, err)
		return
	}
	// 200 means stored for good: a client writes its index next. A store
	// that batches its syncing (storage.Local) is flushed; concurrent
	// uploads share the flushes (one syncfs covers every chunk pending).
	if f, ok := s.(chunk.Flusher); ok {
		if err := f.Flush(r.Context()); err != nil {
			cs.storeError(w, r, "flush", s, id, err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// storeError answers for a failed store call: 404 for a missing chunk, 500
// (with a fixed message; the error is logged) otherwise.
func (cs *ChunkServer) storeError(w http.ResponseWriter, r *http.Request, op string, s chunk.Store, id chunk.ID, err error) {
	if errors.Is(err, chunk.ErrMissing) || errors.Is(err, fs.ErrNotExist) {
		w.Header().Set("Cache-Control", "no-store") // it may be uploaded later
		httpError(w, http.StatusNotFound, "chunk not found")
		return
	}
	if r.Context().Err() != nil { // the client went away
		return
	}
	cs.log.Error("chunk server: store error", "op", op, "store", s.String(), "id", id.String(), "error", err)
	httpError(w, http.StatusInternalServerError, "internal error")
}
