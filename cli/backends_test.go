package cli

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/folbricht/desync/storage"
)

// TestBackendsRegistered: the schemes of the backends the command ships
// with (backends.go) are registered, and a location with one of them is
// not refused as an unknown scheme.
func TestBackendsRegistered(t *testing.T) {
	for _, scheme := range []string{"http", "https"} {
		if !slices.Contains(storage.Schemes(), scheme) {
			t.Errorf("scheme %q is not registered; registered: %v", scheme, storage.Schemes())
		}
	}
	isolate(t)
	// Port 1 on loopback: nothing listens, so the read fails, but not for
	// the scheme.
	// No retries, should the index store retry.
	cfg := writeFile(t, filepath.Join(t.TempDir(), "config.json"), []byte(`{"store-options": {"http://127.0.0.1:1/": {"error-retry": 1}}}`))
	r := run(t, nil, "--config", cfg, "list-chunks", "http://127.0.0.1:1/x.caibx")
	if r.code != 1 || strings.Contains(r.stderr, "unknown scheme") || !strings.Contains(r.stderr, "127.0.0.1:1") {
		t.Errorf("list-chunks from http://: exit %d, stderr %q; want a failed read naming 127.0.0.1:1, not an unknown scheme", r.code, r.stderr)
	}
	// An unknown scheme names the shipped ones among the known schemes.
	r = run(t, nil, "list-chunks", "nosuchscheme://host/x.caibx")
	if r.code == 0 || !strings.Contains(r.stderr, "unknown scheme") || !strings.Contains(r.stderr, "https") {
		t.Errorf("list-chunks from nosuchscheme://: exit %d, stderr %q; want an unknown scheme naming https among the known ones", r.code, r.stderr)
	}
}

// TestHTTPStaticServer: our client extracts from a plain static web server
// (http.FileServer on loopback TCP) holding a store made by casync, or by
// us when casync is not installed.
func TestHTTPStaticServer(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	input := "testdata/blob1.bin"
	store, index := filepath.Join(dir, "store"), filepath.Join(dir, "blob1.caibx")
	if casync, err := exec.LookPath("casync"); err == nil {
		execOK(t, casync, "make", "--store="+store, index, input)
	} else if required() {
		t.Fatal("casync is not installed, and CI requires the interop tests")
	} else {
		t.Log("casync not installed: serving a store made by desync")
		mustRun(t, nil, "make", "-s", store, index, input)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(store)))
	defer srv.Close()
	extractOK(t, mustRead(t, input), index, "-s", srv.URL+"/", "-n", "8")
	// The index from a static server too.
	ixSrv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer ixSrv.Close()
	extractOK(t, mustRead(t, input), ixSrv.URL+"/blob1.caibx", "-s", srv.URL+"/")
}
