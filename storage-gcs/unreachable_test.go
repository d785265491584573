package gcsstore_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	gcsstore "github.com/folbricht/desync/storage-gcs"
	"github.com/folbricht/desync/storage/storagetest"
)

// generous bounds a call to an unreachable endpoint: far above what it
// takes (a second or so), far below "forever".
const generous = 30 * time.Second

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// checkUnreachable makes every kind of call to the store at loc (as
// storage.Open returns it, with retries) and wants each to fail, naming the
// store, well within the generous bound, with an error that is not a
// missing chunk; want is in each message. Each call has a context of
// callCtx (nil: context.Background).
func checkUnreachable(t *testing.T, callCtx func() (context.Context, context.CancelFunc), loc string, o storage.Options, want string) {
	t.Helper()
	if callCtx == nil {
		callCtx = func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }
	}
	ctx := context.Background()
	s, err := storage.Open(ctx, loc, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ix, err := storage.OpenIndexStore(ctx, loc, o)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	c := chunk.New(chunk.SHA512_256.Sum([]byte("x")), []byte("x"))
	calls := map[string]func() error{
		"GetChunk":   func() error { _, err := s.GetChunk(ctx, c.ID()); return err },
		"HasChunk":   func() error { _, err := s.HasChunk(ctx, c.ID()); return err },
		"StoreChunk": func() error { return s.(chunk.WriteStore).StoreChunk(ctx, c) },
		"ListChunks": func() error {
			l, _ := storage.As[storage.Lister](s)
			for _, err := range l.ListChunks(ctx) {
				return err
			}
			return nil
		},
		"GetIndex": func() error { _, err := ix.GetIndex(ctx, "x.caibx"); return err },
	}
	for name, call := range calls {
		var cancel context.CancelFunc
		ctx, cancel = callCtx()
		start := time.Now()
		err := call()
		cancel()
		took := time.Since(start)
		switch {
		case err == nil:
			t.Errorf("%s: no error", name)
		case errors.Is(err, chunk.ErrMissing):
			t.Errorf("%s: %v is a missing chunk", name, err)
		case !strings.Contains(err.Error(), "gs://bkt/store"):
			t.Errorf("%s: %v does not name the store", name, err)
		case !strings.Contains(err.Error(), want):
			t.Errorf("%s: %v does not say %q", name, err, want)
		}
		if took > generous {
			t.Errorf("%s took %v, want well under %v", name, took, generous)
		}
		t.Logf("%s: %v after %v", name, err, took.Round(time.Millisecond))
	}
}

// TestClosedPort: an endpoint that refuses connections fails every call
// after the retries, in about a second, not forever.
func TestClosedPort(t *testing.T) {
	t.Setenv(gcsstore.EmulatorEnv, closedPort(t))
	o := storage.Options{ErrorRetry: 3, ErrorRetryBaseInterval: 100 * time.Millisecond}
	checkUnreachable(t, nil, "gs://bkt/store", o, "connection refused")
}

// TestBlackhole: an endpoint that accepts connections but never answers
// fails every call at the store's timeout (each of the retries), instead
// of hanging as the original desync did.
func TestBlackhole(t *testing.T) {
	t.Setenv(gcsstore.EmulatorEnv, storagetest.SilentEndpoint(t))
	o := storage.Options{Timeout: time.Second, ErrorRetry: 2, ErrorRetryBaseInterval: 10 * time.Millisecond}
	checkUnreachable(t, nil, "gs://bkt/store", o, "no answer within 1s")
}

// TestBlackholeCallerDeadline: without a store timeout the caller's
// context still bounds every call.
func TestBlackholeCallerDeadline(t *testing.T) {
	t.Setenv(gcsstore.EmulatorEnv, storagetest.SilentEndpoint(t))
	o := storage.Options{Timeout: -1, ErrorRetry: 1}
	checkUnreachable(t, func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), time.Second)
	}, "gs://bkt/store", o, "context deadline exceeded")
}

// TestDroppedConnections: an endpoint where connections are never set up
// (SYNs dropped) fails every call in seconds, at the connect timeout,
// not the store's (a minute by default), saying it is unreachable.
func TestDroppedConnections(t *testing.T) {
	t.Setenv(gcsstore.EmulatorEnv, storagetest.DroppingEndpoint(t))
	o := storage.Options{ErrorRetry: 1}
	checkUnreachable(t, nil, "gs://bkt/store", o, "unreachable: no connection within 3s")
}

// TestSilentTLS: an HTTPS endpoint that accepts connections but never
// answers the TLS handshake fails every call at the handshake timeout,
// not the store's.
func TestSilentTLS(t *testing.T) {
	t.Setenv(gcsstore.EmulatorEnv, "https://"+storagetest.SilentEndpoint(t))
	o := storage.Options{ErrorRetry: 1}
	checkUnreachable(t, nil, "gs://bkt/store", o, "TLS handshake timeout")
}
