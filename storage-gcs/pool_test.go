package gcsstore_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/folbricht/desync/storage"
	gcsstore "github.com/folbricht/desync/storage-gcs"
)

// TestConnectionPool: a store with -n 120 keeps the connections of 120
// calls in flight for the next 120 (the pool is sized by N, beyond the
// client library's 100), so a second wave of calls dials nothing new.
func TestConnectionPool(t *testing.T) {
	const n = 120
	var (
		inFlight atomic.Int32
		release  = make(chan struct{})
		once     sync.Once
		newConns atomic.Int32
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Hold every answer until n calls are in flight, so n
		// connections are open at once.
		if inFlight.Add(1) == n {
			once.Do(func() { close(release) })
		}
		<-release
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"kind":"storage#object","name":"x","bucket":"bkt","size":"1"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	t.Setenv(gcsstore.EmulatorEnv, srv.Listener.Addr().String())

	d, err := gcsstore.NewDriver(context.Background(), &url.URL{Scheme: "gs", Host: "bkt", Path: "/store"}, storage.Options{N: n})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	wave := func() {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if ok, err := d.Exists(context.Background(), fmt.Sprintf("o%d", i)); err != nil || !ok {
					t.Errorf("Exists: %v, %v", ok, err)
				}
			})
		}
		wg.Wait()
	}
	wave()
	first := newConns.Load()
	if first != n {
		t.Fatalf("the first wave opened %d connections, want %d", first, n)
	}
	inFlight.Store(0)
	release = make(chan struct{})
	once = sync.Once{}
	wave()
	if again := newConns.Load() - first; again != 0 {
		t.Errorf("the second wave opened %d new connections, want 0 (the %d of the first kept idle)", again, n)
	}
}
