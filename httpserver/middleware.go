package httpserver

import (
	"crypto/subtle"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// handlerOptions are what both servers share.
type handlerOptions struct {
	server  string // "chunk" or "index", the metrics label
	auth    string
	access  *slog.Logger // one Info record per request; nil: none
	metrics *Metrics
}

// wrap adds, around h: the Authorization check (constant time), the
// /metrics endpoint (behind the same check), the access log and metrics.
func wrap(h http.Handler, o handlerOptions) http.Handler {
	if o.access == nil {
		o.access = slog.New(slog.DiscardHandler)
	}
	var metricsHandler http.Handler
	if o.metrics != nil {
		metricsHandler = o.metrics.Handler()
	}
	want := []byte(o.auth)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		op := operation(r.Method)
		if r.URL.Path == "/metrics" && metricsHandler != nil {
			op = "metrics"
		}
		if o.metrics != nil {
			g := o.metrics.inFlight.WithLabelValues(o.server)
			g.Inc()
			defer g.Dec()
		}
		rw := &recorder{ResponseWriter: w}
		body := &countingReader{r: r.Body}
		r.Body = body
		defer func() {
			d := time.Since(start)
			code := rw.status()
			if o.metrics != nil {
				o.metrics.observe(o.server, op, code, body.n, rw.n, d)
			}
			o.access.Info("request", "server", o.server, "remote", r.RemoteAddr, "method", r.Method,
				"path", r.URL.EscapedPath(), "status", code, "in", body.n, "out", rw.n, "duration", d)
		}()
		if len(want) > 0 && !authorized(r.Header.Get("Authorization"), want) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="desync"`)
			httpError(rw, http.StatusUnauthorized, "authorization required")
			return
		}
		if op == "metrics" {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				rw.Header().Set("Allow", "GET, HEAD")
				httpError(rw, http.StatusMethodNotAllowed, "method not allowed")
				return
			}
			metricsHandler.ServeHTTP(rw, r)
			return
		}
		h.ServeHTTP(rw, r)
	})
}

// authorized compares the Authorization header with the expected value in
// constant time (for values of equal length; the length itself is not a
// secret worth hiding, and ConstantTimeCompare returns early on it).
func authorized(got string, want []byte) bool {
	return subtle.ConstantTimeCompare([]byte(got), want) == 1
}

// httpError writes a short plain-text error. Messages are fixed strings of
// this package, never an error from a backend.
func httpError(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}

// recorder remembers the status and counts the body bytes written.
type recorder struct {
	http.ResponseWriter
	code int
	n    int64
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.n += int64(n)
	return n, err
}

// ReadFrom keeps the sendfile path of the underlying writer.
func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(r.ResponseWriter, src)
	}
	r.n += n
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }
