package cli

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"testing"
)

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
