package s3store_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// TestThrottled: a server that answers 503 SlowDown or 429 is asked again
// by the storage.Retry that storage.Open puts around the store, as many
// times as ErrorRetry says, and the error is transient and says so. (A
// stand-in server: versitygw does not throttle.)
func TestThrottled(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		code   string
	}{
		{"SlowDown", http.StatusServiceUnavailable, "SlowDown"},
		{"TooManyRequests", http.StatusTooManyRequests, "TooManyRequests"},
		{"InternalError", http.StatusInternalServerError, "InternalError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(tc.status)
				if r.Method != http.MethodHead {
					w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + tc.code + `</Code><Message>Please reduce your request rate.</Message></Error>`))
				}
			}))
			defer srv.Close()
			loc := "s3+http://" + strings.TrimPrefix(srv.URL, "http://") + "/bucket/p"
			s, err := storage.Open(context.Background(), loc, storage.Options{
				ErrorRetry: 3, ErrorRetryBaseInterval: time.Millisecond,
				Credentials: keys{storage.Credential{ID: "k", Secret: "s", Attrs: map[string]string{"region": "us-east-1"}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c := chunk.New(chunk.SHA512_256.Sum([]byte("x")), []byte("x"))
			for name, call := range map[string]func() error{
				"GetChunk":   func() error { _, err := s.GetChunk(context.Background(), c.ID()); return err },
				"StoreChunk": func() error { return s.(chunk.WriteStore).StoreChunk(context.Background(), c) },
			} {
				requests.Store(0)
				err := call()
				if err == nil || !storage.IsTransient(err) {
					t.Errorf("%s: %v, want a transient error", name, err)
				} else if !strings.Contains(err.Error(), tc.code) {
					t.Errorf("%s: %v does not say %s", name, err, tc.code)
				}
				if n := requests.Load(); n != 3 {
					t.Errorf("%s: %d requests, want 3 (ErrorRetry)", name, n)
				}
			}
		})
	}
}
