package httpserver

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/storage"
)

// IndexServerOptions configure [NewIndexServer].
type IndexServerOptions struct {
	// Writable accepts PUT: the body must be a valid index; it is written
	// to a temporary file, synced and renamed over the name.
	Writable bool
	// MaxIndexSize caps uploads (0: DefaultMaxIndexSize).
	MaxIndexSize int64
	// Authorization, Metrics, Logger and AccessLog are as in
	// [ChunkServerOptions].
	Authorization string
	Metrics       *Metrics
	Logger        *slog.Logger
	AccessLog     *slog.Logger
}

// DefaultMaxIndexSize caps index uploads: 1 GiB holds the index of a
// file of some 1.6 TB at 64 KiB average chunks. It is the largest index
// the HTTP index store client reads (storage.DefaultMaxIndexSize).
const DefaultMaxIndexSize = storage.DefaultMaxIndexSize

// IndexServer serves the index files of one directory:
//
//	GET  /<name>   200 and the file (Range requests work); 404 if absent
//	HEAD /<name>   200 or 404
//	PUT  /<name>   200 once written (Writable only; else 405)
//
// Only index files are served and accepted: a name must end in ".caibx" or
// ".caidx", and a file served must start with an index header, so other
// files of the directory stay private. A name is one path element: it may
// not contain "/" or "\" (escaped or not), be "." or "..", start with "."
// (temporary files do), or hold control characters. The directory is
// opened with os.Root, so a symbolic link cannot lead outside it either.
// Refused names, and files that are not indexes, get 400; names that do not
// resolve to a regular file in the directory get 404.
type IndexServer struct {
	o    IndexServerOptions
	dir  string
	root *os.Root
	log  *slog.Logger
	h    http.Handler
}

// NewIndexServer opens dir, which must exist, and returns the handler.
// Close it to release the directory.
func NewIndexServer(dir string, o IndexServerOptions) (*IndexServer, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("index server: %w", err)
	}
	if o.MaxIndexSize <= 0 {
		o.MaxIndexSize = DefaultMaxIndexSize
	}
	s := &IndexServer{o: o, dir: dir, root: root, log: o.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.h = wrap(http.HandlerFunc(s.serve), handlerOptions{server: "index", auth: o.Authorization, access: o.AccessLog, metrics: o.Metrics})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *IndexServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// Close releases the directory.
func (s *IndexServer) Close() error { return s.root.Close() }

// indexName returns the index name of a request path, or false if it is
// not an acceptable name (nor that of an index file).
func indexName(p, rawPath string) (string, bool) {
	if strings.ContainsAny(strings.ToLower(rawPath), "\\") ||
		strings.Contains(strings.ToLower(rawPath), "%2f") || strings.Contains(strings.ToLower(rawPath), "%5c") {
		return "", false
	}
	name, ok := strings.CutPrefix(p, "/")
	if !ok || strings.HasPrefix(name, ".") || strings.ContainsAny(name, "/\\") ||
		!strings.HasSuffix(name, ".caibx") && !strings.HasSuffix(name, ".caidx") {
		return "", false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "", false
		}
	}
	return name, true
}

func (s *IndexServer) serve(w http.ResponseWriter, r *http.Request) {
	name, ok := indexName(r.URL.Path, r.URL.RawPath)
	if !ok {
		httpError(w, http.StatusBadRequest, "expected /<name>.caibx or /<name>.caidx, a single path element")
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.get(w, r, name)
	case http.MethodPut:
		s.put(w, r, name)
	default:
		w.Header().Set("Allow", s.allow())
		httpError(w, http.StatusMethodNotAllowed, "method not allowed")
	}
}

func (s *IndexServer) allow() string {
	if s.o.Writable {
		return "GET, HEAD, PUT"
	}
	return "GET, HEAD"
}

func (s *IndexServer) get(w http.ResponseWriter, r *http.Request, name string) {
	f, err := s.root.Open(name)
	if err != nil {
		s.fileError(w, "open", name, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.fileError(w, "stat", name, err)
		return
	}
	if !fi.Mode().IsRegular() {
		httpError(w, http.StatusNotFound, "index not found")
		return
	}
	// The header only: a whole index is checked when it is uploaded.
	if _, err := caindex.NewReader(io.NewSectionReader(f, 0, 4096)); err != nil {
		s.log.Warn("index server: not serving a file that is not an index", "dir", s.dir, "name", name, "error", err)
		httpError(w, http.StatusBadRequest, "not an index file")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// fileError answers for a failed file operation: 404 for a name that does
// not exist or would leave the directory, 500 otherwise (logged, not sent).
func (s *IndexServer) fileError(w http.ResponseWriter, op, name string, err error) {
	if errors.Is(err, fs.ErrNotExist) || isEscape(err) {
		httpError(w, http.StatusNotFound, "index not found")
		return
	}
	s.log.Error("index server: file error", "op", op, "dir", s.dir, "name", name, "error", err)
	httpError(w, http.StatusInternalServerError, "internal error")
}

// isEscape reports an os.Root refusal of a path leading outside the root.
func isEscape(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes")
}

func (s *IndexServer) put(w http.ResponseWriter, r *http.Request, name string) {
	if !s.o.Writable {
		w.Header().Set("Allow", s.allow())
		httpError(w, http.StatusMethodNotAllowed, "this server is read-only")
		return
	}
	if r.ContentLength > s.o.MaxIndexSize {
		httpError(w, http.StatusRequestEntityTooLarge, "index too large")
		return
	}
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.o.MaxIndexSize))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		httpError(w, http.StatusRequestEntityTooLarge, "index too large")
		return
	case err != nil:
		httpError(w, http.StatusBadRequest, "could not read the request body")
		return
	}
	if !validIndex(buf.Bytes()) {
		httpError(w, http.StatusUnprocessableEntity, "not a valid index")
		return
	}
	if err := s.writeAtomic(name, buf.Bytes()); err != nil {
		s.fileError(w, "write", name, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// validIndex reports whether b is a valid index, checking it a chunk at a
// time rather than building its table.
func validIndex(b []byte) bool {
	r, err := caindex.NewReader(bytes.NewReader(b))
	for err == nil {
		_, err = r.Next()
	}
	return errors.Is(err, io.EOF)
}

// writeAtomic writes b to a temporary file in the root, syncs it and
// renames it to name; on failure the temporary file is removed.
func (s *IndexServer) writeAtomic(name string, b []byte) (err error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := "." + name + "." + hex.EncodeToString(rnd[:]) + ".tmp"
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close() // a second close, after a failed one, is harmless
			s.root.Remove(tmp)
		}
	}()
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = s.root.Rename(tmp, name); err != nil {
		return err
	}
	if d, err := s.root.Open("."); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
