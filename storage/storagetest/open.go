package storagetest

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// OpenHarness describes a backend's registration to [RunOpen].
type OpenHarness struct {
	// Registry holds the backend under test (and maybe others).
	Registry *storage.Registry
	// Location is a store of the backend that opens. It may hold Secret
	// (as a URL password, say).
	Location string
	// Fail, if set, is a location of the backend whose calls fail (a
	// refused credential, a missing bucket), holding Secret too.
	Fail string
	// Options open the stores; the suite sets Credentials (to a provider
	// that hands out Secret for every store) if it is nil.
	Options storage.Options
	// Secret is a credential the stores are opened with: it must never be
	// in a store's String, in an error message, or in the printed options.
	Secret string
}

// RunOpen runs the open and registration suite as subtests of t:
//
//   - Registered: the scheme of Location is among the registry's schemes,
//     and registering it again panics.
//   - UnknownScheme: opening a scheme the registry lacks fails with an error
//     that lists every scheme it has, and holds no password of the URL.
//   - NoSecrets: Secret appears neither in String() of the store at
//     Location, nor in the errors of reading a missing chunk from it or of
//     any call to the store at Fail, nor in the options printed with %+v.
func RunOpen(t *testing.T, h OpenHarness) {
	t.Helper()
	if h.Options.Credentials == nil {
		h.Options.Credentials = everyStore{storage.Credential{ID: "id", Secret: storage.Secret(h.Secret), Token: storage.Secret(h.Secret)}}
	}
	u, err := url.Parse(h.Location)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Run("Registered", func(t *testing.T) {
		schemes := h.Registry.Schemes()
		found := false
		for _, s := range schemes {
			found = found || s == u.Scheme
		}
		if !found {
			t.Fatalf("scheme %q not in the registry's %v", u.Scheme, schemes)
		}
		defer func() {
			if recover() == nil {
				t.Errorf("registering %q twice did not panic", u.Scheme)
			}
		}()
		h.Registry.Register(u.Scheme, storage.Backend{})
	})
	t.Run("UnknownScheme", func(t *testing.T) {
		_, err := h.Registry.Open(ctx, "no-such-scheme://user:"+url.PathEscape(h.Secret)+"@host/store", h.Options)
		if err == nil {
			t.Fatal("an unknown scheme opened")
		}
		for _, s := range h.Registry.Schemes() {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("unknown scheme: %q does not list %q", err, s)
			}
		}
		noSecret(t, h.Secret, "the unknown scheme error", err.Error())
	})
	t.Run("NoSecrets", func(t *testing.T) {
		noSecret(t, h.Secret, "the options", fmt.Sprintf("%+v %v %#v", h.Options, h.Options.Credentials, h.Options.Credentials))
		s, err := h.Registry.Open(ctx, h.Location, h.Options)
		if err != nil {
			noSecret(t, h.Secret, "the open error", err.Error())
			t.Fatalf("Open(%s): %v", u.Redacted(), err)
		}
		defer s.Close()
		noSecret(t, h.Secret, "String()", s.String())
		id := chunk.SHA512_256.Sum([]byte("absent"))
		if _, err := s.GetChunk(ctx, id); err != nil {
			noSecret(t, h.Secret, "the error of a missing chunk", err.Error())
		}
		if h.Fail == "" {
			return
		}
		f, err := h.Registry.Open(ctx, h.Fail, h.Options)
		if err != nil {
			noSecret(t, h.Secret, "the open error", err.Error())
			return
		}
		defer f.Close()
		noSecret(t, h.Secret, "String()", f.String())
		_, err = f.GetChunk(ctx, id)
		if err == nil {
			t.Errorf("GetChunk from the failing store %s: no error", f)
		} else {
			noSecret(t, h.Secret, "the GetChunk error", err.Error())
		}
		if _, err := f.HasChunk(ctx, id); err != nil {
			noSecret(t, h.Secret, "the HasChunk error", err.Error())
		}
		if w, ok := f.(chunk.WriteStore); ok {
			if err := w.StoreChunk(ctx, chunk.New(id, []byte("absent"))); err != nil {
				noSecret(t, h.Secret, "the StoreChunk error", err.Error())
			}
		}
	})
}

func noSecret(t *testing.T, secret, what, s string) {
	t.Helper()
	if secret != "" && strings.Contains(s, secret) {
		t.Errorf("%s shows the secret: %s", what, s)
	}
}

// everyStore hands out one credential for every store. Its field is
// exported, as a provider's fields holding secrets should be: fmt cannot
// call the Secret's methods through an unexported field, and would print
// it.
type everyStore struct{ C storage.Credential }

func (e everyStore) Credential(context.Context, *url.URL) (storage.Credential, error) {
	return e.C, nil
}
