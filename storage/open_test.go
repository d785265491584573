package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

func init() {
	// A remote backend for the tests: a local store under a made-up scheme.
	storage.Register("test-remote", storage.Backend{
		Remote: true,
		ChunkStore: func(ctx context.Context, u *url.URL, o storage.Options) (chunk.Store, error) {
			return storage.NewLocal(u.Path, storage.LocalOptions{})
		},
		IndexStore: func(ctx context.Context, u *url.URL, o storage.Options) (storage.IndexStore, error) {
			return storage.NewLocalIndex(u.Path), nil
		},
	})
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")

	s, err := storage.Open(ctx, a, storage.Options{})
	if _, ok := s.(*storage.Local); err != nil || !ok || s.String() != a {
		t.Errorf("Open(path) = %T %v, %v", s, s, err)
	}
	s, err = storage.Open(ctx, "file://"+a, storage.Options{})
	if _, ok := s.(*storage.Local); err != nil || !ok || s.String() != a {
		t.Errorf("Open(file://) = %T %v, %v", s, s, err)
	}
	s, err = storage.Open(ctx, a+"|"+b, storage.Options{})
	if _, ok := s.(*storage.Failover); err != nil || !ok || s.String() != a+"|"+b {
		t.Errorf("Open(a|b) = %T %v, %v", s, s, err)
	}
	s, err = storage.Open(ctx, "test-remote://"+a, storage.DefaultOptions())
	if r, ok := s.(*storage.Retry); err != nil || !ok {
		t.Errorf("remote store not wrapped in Retry: %T, %v", s, err)
	} else if _, ok := storage.As[*storage.Local](r); !ok {
		t.Error("no local store under the retry")
	}

	for _, tc := range []struct{ loc, want string }{
		{"ftp://host/store", `unknown scheme "ftp"`},
		{"ftp://host/store", "test-remote"}, // lists the known schemes
		{a + "||" + b, "empty member"},
		{"http://[::1", "bad store location"},
	} {
		if _, err := storage.Open(ctx, tc.loc, storage.Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %v, want an error with %q", tc.loc, err, tc.want)
		}
	}
	// Options are looked up per member.
	var asked []string
	_, err = storage.OpenWith(ctx, a+"|"+b, func(loc string) (storage.Options, error) {
		asked = append(asked, loc)
		return storage.Options{}, nil
	})
	if err != nil || strings.Join(asked, " ") != a+" "+b {
		t.Errorf("OpenWith asked for %q, %v", asked, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a scheme twice did not panic")
		}
	}()
	storage.Register("test-remote", storage.Backend{})
}

func TestIndexLocations(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ loc, store, name string }{
		{"test-remote://host/dir/x.caibx", "test-remote://host/dir/", "x.caibx"},
		{"test-remote://host/x.caibx?v=1", "test-remote://host/?v=1", "x.caibx"},
		{filepath.Join("dir", "sub", "x.caibx"), filepath.Join("dir", "sub"), "x.caibx"},
	} {
		store, name, err := storage.SplitIndexLocation(tc.loc)
		if err != nil || store != tc.store || name != tc.name {
			t.Errorf("SplitIndexLocation(%q) = %q, %q, %v", tc.loc, store, name, err)
		}
	}
	if _, _, err := storage.SplitIndexLocation("test-remote://host/dir/"); err == nil {
		t.Error("a directory URL is not an index")
	}
	for _, tc := range []struct {
		loc, path string
		local     bool
	}{
		{"dir/x.caibx", "dir/x.caibx", true},
		{"file:///srv/x.caibx", "/srv/x.caibx", true},
		{"test-remote://host/x.caibx", "", false},
		{"nope://host/x.caibx", "", false},
	} {
		if p, ok := storage.LocalPath(tc.loc); p != filepath.FromSlash(tc.path) || ok != tc.local {
			t.Errorf("LocalPath(%q) = %q, %v", tc.loc, p, ok)
		}
	}

	dir := t.TempDir()
	ix := caindex.New(chunk.SHA512_256, 16<<10, 64<<10, 256<<10)
	if err := storage.NewLocalIndex(dir).StoreIndex(ctx, "x.caibx", ix); err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{filepath.Join(dir, "x.caibx"), "test-remote://" + filepath.ToSlash(dir) + "/x.caibx"} {
		got, err := storage.ReadIndex(ctx, loc, storage.Options{})
		if err != nil || got.Avg != 64<<10 {
			t.Errorf("ReadIndex(%q): %v", loc, err)
		}
	}
	if _, err := storage.ReadIndex(ctx, "test-remote://"+filepath.ToSlash(dir)+"/missing.caibx", storage.Options{}); err == nil {
		t.Error("missing index read")
	}
}

func TestOptionsJSON(t *testing.T) {
	for _, tc := range []struct {
		json    string
		check   func(storage.Options) bool
		wantErr string
	}{
		{`{}`, func(o storage.Options) bool {
			return o.ErrorRetry == 3 && o.ErrorRetryBaseInterval == 500*time.Millisecond
		}, ""},
		{`{"error-retry": 0, "uncompressed": true, "skip-verify": true}`, func(o storage.Options) bool {
			return o.ErrorRetry == 0 && o.Uncompressed && o.SkipVerify && o.ErrorRetryBaseInterval == 500*time.Millisecond
		}, ""},
		{`{"timeout": 1000000000, "error-retry-base-interval": "2s"}`, func(o storage.Options) bool {
			return o.Timeout == time.Second && o.ErrorRetryBaseInterval == 2*time.Second
		}, ""},
		{`{"http-auth": "Bearer x", "client-cert": "c", "client-key": "k", "ca-cert": "ca", "trust-insecure": true, "http-cookie": "a=b", "n": 8}`, func(o storage.Options) bool {
			return o.HTTPAuth == "Bearer x" && o.ClientCert == "c" && o.ClientKey == "k" && o.CACert == "ca" && o.TrustInsecure && o.HTTPCookie == "a=b" && o.N == 8
		}, ""},
		{`{"encryption": false, "safe-pruning": false}`, func(o storage.Options) bool { return true }, ""},
		{`{"skip-verfy": true}`, nil, `"skip-verfy": unknown option`},
		{`{"encryption-password": "secret"}`, nil, `"encryption-password": not supported`},
		{`{"encryption-key": "00"}`, nil, `"encryption-key": encryption-key or encryption-algorithm configured without setting encryption to true`},
		{`{"timeout": "soon"}`, nil, `"timeout": bad duration`},
		{`{"error-retry": "3"}`, nil, `"error-retry": want a int`},
		{`[]`, nil, "must be a JSON object, not a JSON array"},
	} {
		o := storage.DefaultOptions()
		err := json.Unmarshal([]byte(tc.json), &o)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want %q", tc.json, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || !tc.check(o)):
			t.Errorf("%s: %+v, %v", tc.json, o, err)
		}
		var oe *storage.OptionError
		if tc.wantErr != "" && strings.HasPrefix(tc.wantErr, `"`) && !errors.As(err, &oe) {
			t.Errorf("%s: %T is not an *OptionError", tc.json, err)
		}
	}
	// Marshalled options read back the same (durations as nanoseconds, as desync writes them).
	o := storage.DefaultOptions()
	o.Timeout = time.Minute
	b, _ := json.Marshal(o)
	var back storage.Options
	if err := json.Unmarshal(b, &back); err != nil || back.Timeout != time.Minute || back.ErrorRetry != 3 || !strings.Contains(string(b), `"timeout":60000000000`) {
		t.Errorf("round trip %s: %+v %v", b, back, err)
	}
}

// TestRegistry: a registry of one's own opens its backends and no others,
// and its unknown-scheme error lists exactly its schemes.
func TestRegistry(t *testing.T) {
	ctx := context.Background()
	r := storage.NewRegistry()
	if _, err := r.Open(ctx, "test-remote://x", storage.Options{}); err == nil || !strings.Contains(err.Error(), "known schemes: none") {
		t.Errorf("empty registry: %v, want an unknown scheme with none known", err)
	}
	r.Register("mem", storage.Backend{
		Remote: true,
		ChunkStore: func(ctx context.Context, u *url.URL, o storage.Options) (chunk.Store, error) {
			return storage.NewObjectStore(storagetest.NewMemDriver(u.Host), o)
		},
	})
	s, err := r.Open(ctx, "mem://bucket", storage.DefaultOptions())
	if err != nil || s.String() != "mem://bucket" {
		t.Fatalf("Open(mem://bucket) = %v, %v", s, err)
	}
	if _, ok := s.(*storage.Retry); !ok {
		t.Errorf("remote store of a registry not retried: %T", s)
	}
	if _, err := storage.Open(ctx, "mem://bucket", storage.Options{}); err == nil {
		t.Error("the default registry opened a scheme registered elsewhere")
	}
	_, err = r.Open(ctx, "nope://user:hunter2@host/x", storage.Options{})
	if err == nil || !strings.Contains(err.Error(), "known schemes: mem;") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("unknown scheme: %v, want the known schemes listed, no password", err)
	}
	if _, err := r.OpenIndexStore(ctx, "mem://bucket", storage.Options{}); err == nil || !strings.Contains(err.Error(), "no index stores") {
		t.Errorf("OpenIndexStore of a scheme without index stores: %v", err)
	}
	if p, ok := r.LocalPath("file:///a/b"); !ok || p != "/a/b" {
		t.Errorf("LocalPath(file:///a/b) = %q, %v", p, ok)
	}
}

func TestRequestTimeout(t *testing.T) {
	for _, tc := range []struct{ set, want time.Duration }{
		{0, time.Minute}, // the backend's default
		{-1, 0},          // no bound
		{5 * time.Second, 5 * time.Second},
	} {
		if got := (storage.Options{Timeout: tc.set}).RequestTimeout(time.Minute); got != tc.want {
			t.Errorf("Timeout %v: RequestTimeout %v, want %v", tc.set, got, tc.want)
		}
	}
}
