package httpstore_test

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

// objectServer is the HTTP server the client's tests run against: GET,
// HEAD, PUT and DELETE of objects, each the resource at its name under the
// server's root, kept in a storagetest.MemDriver. It knows nothing of
// chunks or indexes (it neither verifies nor lays anything out), so what a
// test sees is the client's doing. Our chunk-server and index-server are
// in module httpserver, whose tests run this client against them.
type objectServer struct {
	*storagetest.MemDriver
	URL string // the root, with a trailing slash
}

// newObjectServer starts an empty object server on a loopback port; it
// stops when the test ends.
func newObjectServer(t testing.TB) *objectServer {
	t.Helper()
	o := &objectServer{MemDriver: storagetest.NewMemDriver(t.Name())}
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	o.URL = srv.URL + "/"
	return o
}

func (o *objectServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/")
	if !ok || name == "" || strings.HasSuffix(name, "/") {
		http.Error(w, "not an object name", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet:
		b, err := o.Get(ctx, name, math.MaxInt64)
		if err != nil {
			o.fail(w, err)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	case http.MethodHead:
		ok, err := o.Exists(ctx, name)
		switch {
		case err != nil:
			o.fail(w, err)
		case !ok:
			w.WriteHeader(http.StatusNotFound)
		}
	case http.MethodPut:
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "reading the body", http.StatusBadRequest)
			return
		}
		if err := o.Put(ctx, name, b); err != nil {
			o.fail(w, err)
			return
		}
		w.WriteHeader(http.StatusCreated)
	case http.MethodDelete:
		if err := o.Delete(ctx, name); err != nil {
			o.fail(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, HEAD, PUT, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// fail answers 404 for a missing object, 500 otherwise.
func (o *objectServer) fail(w http.ResponseWriter, err error) {
	if o.Classify(err) == storage.KindMissing {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	http.Error(w, err.Error(), http.StatusInternalServerError)
}
