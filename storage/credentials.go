package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Secret is a string that does not show itself: printed with any verb,
// logged or marshalled it is "[redacted]". Reveal returns it.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string   { return redacted }
func (s Secret) GoString() string { return redacted }

// Format prints "[redacted]" for every verb (%s, %v, %q, %x, %+v, …).
func (s Secret) Format(f fmt.State, verb rune) { f.Write([]byte(redacted)) }

// MarshalText keeps the secret out of JSON and other encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Credential is what a backend needs to sign in: a key ID and its secret,
// an optional session token, and backend-specific settings (for S3:
// "region", "profile", "credentials-file").
type Credential struct {
	ID     string
	Secret Secret
	Token  Secret
	Attrs  map[string]string
}

// ErrNoCredential is returned by [Credentials] that hold nothing for a
// store; the backend then goes without (or uses its own defaults).
var ErrNoCredential = errors.New("no credential for this store")

// Credentials is the one path by which secrets reach a backend: the
// program sets Options.Credentials (the CLI from config.json's
// "s3-credentials" section), and a backend asks it for the store it opens.
// Secrets never go into storage.Options' own fields or into a location.
// An implementation keeps them in [Secret] values, in exported fields or
// maps (fmt prints what an unexported field holds without asking it), so
// that printing the options never shows them.
type Credentials interface {
	// Credential returns the credential for the store at loc, or an error
	// matching ErrNoCredential.
	Credential(ctx context.Context, loc *url.URL) (Credential, error)
}

// StaticCredentials are credentials by endpoint, as config.json's
// "s3-credentials" holds them: the key is "scheme://host[:port]" (desync's
// form, such as "http://localhost:9000"), or just "host[:port]". A
// location's own scheme is tried first, then with the backend prefix
// ("s3+") removed, then the bare host.
type StaticCredentials map[string]Credential

// Credential looks loc's endpoint up.
func (c StaticCredentials) Credential(_ context.Context, loc *url.URL) (Credential, error) {
	scheme := loc.Scheme
	if _, after, ok := strings.Cut(scheme, "+"); ok {
		scheme = after
	}
	for _, k := range []string{loc.Scheme + "://" + loc.Host, scheme + "://" + loc.Host, loc.Host} {
		if cr, ok := c[k]; ok {
			return cr, nil
		}
	}
	return Credential{}, fmt.Errorf("store %s: %w", loc.Redacted(), ErrNoCredential)
}
