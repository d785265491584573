package storagetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

// memOptions are the typed options of the test "mem" backend.
type memOptions struct {
	Region string `json:"region"`
	Shards int    `json:"shards"`
}

// memRegistry is a registry with one backend, "mem": a MemDriver per store,
// which needs a credential and whose host "denied" is a missing bucket.
func memRegistry() *storage.Registry {
	r := storage.NewRegistry()
	r.Register("mem", storage.Backend{
		Remote: true,
		ParseOptions: func(raw map[string]json.RawMessage) (any, error) {
			var o memOptions
			err := storage.DecodeOptions(raw, &o)
			return o, err
		},
		ChunkStore: func(ctx context.Context, u *url.URL, o storage.Options) (chunk.Store, error) {
			if o.Credentials == nil {
				return nil, errors.New("mem: no credentials")
			}
			if _, err := o.Credentials.Credential(ctx, u); err != nil {
				return nil, err
			}
			d := storagetest.NewMemDriver(u.Host)
			if u.Host == "denied" {
				d = storagetest.NewMissingBucket(u.Host)
			}
			return storage.NewObjectStore(d, o)
		},
	})
	return r
}

func TestMemOpen(t *testing.T) {
	storagetest.RunOpen(t, storagetest.OpenHarness{
		Registry: memRegistry(),
		Location: "mem://user:s3cr3t-XYZ@bucket/",
		Fail:     "mem://user:s3cr3t-XYZ@denied/",
		Options:  storage.Options{ErrorRetry: 2, ErrorRetryBaseInterval: 1},
		Secret:   "s3cr3t-XYZ",
	})
}

// TestBackendOptions: a backend's own keys of a store-options entry reach
// it typed, the common ones stay in Options, and keys that neither knows
// are refused by name.
func TestBackendOptions(t *testing.T) {
	r := memRegistry()
	o := storage.DefaultOptions()
	err := r.ParseOptions("mem://bucket/", []byte(`{"region":"eu-1","shards":4,"error-retry":7,"timeout":"5s","uncompressed":true}`), &o)
	if err != nil {
		t.Fatal(err)
	}
	if mo, ok := o.Backend.(memOptions); !ok || mo.Region != "eu-1" || mo.Shards != 4 {
		t.Errorf("backend options = %#v", o.Backend)
	}
	if o.ErrorRetry != 7 || o.Timeout.Seconds() != 5 || !o.Uncompressed || o.ErrorRetryBaseInterval != storage.DefaultErrorRetryBaseInterval {
		t.Errorf("common options = %+v", o)
	}
	var oe *storage.OptionError
	if err := r.ParseOptions("mem://bucket/", []byte(`{"regoin":"x"}`), &o); !errors.As(err, &oe) || oe.Key != "regoin" {
		t.Errorf("misspelt backend key: %v", err)
	}
	if err := r.ParseOptions("mem://bucket/", []byte(`{"shards":"four"}`), &o); !errors.As(err, &oe) || oe.Key != "shards" {
		t.Errorf("mistyped backend key: %v", err)
	}
	// A local store has no backend options: the keys are unknown.
	if err := r.ParseOptions("/some/dir", []byte(`{"region":"x"}`), &o); !errors.As(err, &oe) || oe.Key != "region" {
		t.Errorf("backend key for a local store: %v", err)
	}
	// A scheme this registry lacks gets the common options only.
	if err := r.ParseOptions("nope://x/", []byte(`{"error-retry":2}`), &o); err != nil || o.ErrorRetry != 2 {
		t.Errorf("common options of an unknown scheme: %v, error-retry %d", err, o.ErrorRetry)
	}
	if err := r.ParseOptions("nope://x/", []byte(`{"region":"x"}`), &o); !errors.As(err, &oe) || oe.Key != "region" {
		t.Errorf("backend key for an unknown scheme: %v", err)
	}
}

// TestStaticCredentials: credentials by endpoint, as config.json's
// s3-credentials keys them, and a Secret never prints.
func TestStaticCredentials(t *testing.T) {
	c := storage.StaticCredentials{
		"http://localhost:9000": {ID: "a", Secret: "sa"},
		"store.example.com":     {ID: "b", Secret: "sb"},
	}
	for loc, want := range map[string]string{
		"s3+http://localhost:9000/bucket": "a",
		"s3+https://store.example.com/b":  "b",
		"s3+https://localhost:9000/b":     "",
	} {
		u, _ := url.Parse(loc)
		cr, err := c.Credential(context.Background(), u)
		if want == "" {
			if !errors.Is(err, storage.ErrNoCredential) {
				t.Errorf("%s: %v, want ErrNoCredential", loc, err)
			}
			continue
		}
		if err != nil || cr.ID != want {
			t.Errorf("%s: %+v, %v; want ID %s", loc, cr, err, want)
		}
	}
	b, _ := json.Marshal(c)
	if s := string(b); contains(s, "sa") || contains(s, "sb") {
		t.Errorf("marshalled credentials show secrets: %s", s)
	}
}

func contains(s, sub string) bool {
	return len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub))
}
