package s3store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folbricht/desync/storage"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

type credFunc func(*url.URL) (storage.Credential, error)

func (f credFunc) Credential(_ context.Context, u *url.URL) (storage.Credential, error) { return f(u) }

func signerOf(t *testing.T, c storage.Credentials) (id, secret, token, region, kind string, err error) {
	t.Helper()
	u, _ := url.Parse("s3+http://127.0.0.1:9/bucket/prefix")
	loc, perr := ParseLocation(u)
	if perr != nil {
		t.Fatal(perr)
	}
	creds, region, kind, err := signer(context.Background(), u, loc, storage.Options{Credentials: c})
	if err != nil {
		return "", "", "", "", "", err
	}
	v, verr := creds.GetWithContext(nil)
	if verr != nil {
		return "", "", "", region, kind, nil
	}
	return v.AccessKeyID, v.SecretAccessKey, v.SessionToken, region, kind, nil
}

// TestSigner: a credential with keys signs with them; one naming a file
// and profile reads that profile; without one, AWS_* of the environment
// are used (minio-go's chain); the region comes from the credential.
func TestSigner(t *testing.T) {
	t.Run("Static", func(t *testing.T) {
		id, secret, token, region, kind, err := signerOf(t, credFunc(func(*url.URL) (storage.Credential, error) {
			return storage.Credential{ID: "AK", Secret: "SK", Token: "TK", Attrs: map[string]string{"region": "eu-west-3"}}, nil
		}))
		if err != nil || id != "AK" || secret != "SK" || token != "TK" || region != "eu-west-3" || kind != "static keys" {
			t.Errorf("got %q %q %q %q %q %v", id, secret, token, region, kind, err)
		}
	})
	t.Run("File", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "credentials")
		os.WriteFile(f, []byte("[default]\naws_access_key_id = D\naws_secret_access_key = DS\n[other]\naws_access_key_id = O\naws_secret_access_key = OS\n"), 0o600)
		id, secret, _, _, kind, err := signerOf(t, credFunc(func(*url.URL) (storage.Credential, error) {
			return storage.Credential{Attrs: map[string]string{"credentials-file": f, "profile": "other"}}, nil
		}))
		if err != nil || id != "O" || secret != "OS" || kind != "credentials file" {
			t.Errorf("got %q %q %q %v", id, secret, kind, err)
		}
	})
	t.Run("Chain", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "EA")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "ES")
		for name, c := range map[string]storage.Credentials{
			"nil": nil,
			"ErrNoCredential": credFunc(func(u *url.URL) (storage.Credential, error) {
				return storage.Credential{}, fmt.Errorf("store %s: %w", u, storage.ErrNoCredential)
			}),
			"region only": credFunc(func(*url.URL) (storage.Credential, error) {
				return storage.Credential{Attrs: map[string]string{"region": "r"}}, nil
			}),
		} {
			id, secret, _, _, kind, err := signerOf(t, c)
			if err != nil || id != "EA" || secret != "ES" || !strings.Contains(kind, "environment") {
				t.Errorf("%s: got %q %q %q %v", name, id, secret, kind, err)
			}
		}
	})
	t.Run("HalfAKey", func(t *testing.T) {
		_, _, _, _, _, err := signerOf(t, credFunc(func(*url.URL) (storage.Credential, error) {
			return storage.Credential{Secret: "topsecret"}, nil
		}))
		if err == nil || strings.Contains(err.Error(), "topsecret") {
			t.Errorf("a secret key without an access key: %v", err)
		}
	})
	t.Run("ProviderError", func(t *testing.T) {
		boom := errors.New("vault sealed")
		_, _, _, _, _, err := signerOf(t, credFunc(func(*url.URL) (storage.Credential, error) { return storage.Credential{}, boom }))
		if !errors.Is(err, boom) {
			t.Errorf("the provider's error is lost: %v", err)
		}
	})
}

// countingProvider finds nothing, and counts how often it was asked.
type countingProvider struct{ n int }

func (p *countingProvider) RetrieveWithCredContext(*credentials.CredContext) (credentials.Value, error) {
	p.n++
	return credentials.Value{}, errors.New("nothing here")
}
func (p *countingProvider) Retrieve() (credentials.Value, error) {
	return p.RetrieveWithCredContext(nil)
}
func (p *countingProvider) IsExpired() bool { return true }

// TestChainOnce: a chain that finds no keys is walked once, not before
// every request (its IAM step may wait for a timeout each time).
func TestChainOnce(t *testing.T) {
	p := &countingProvider{}
	c := newChainOnce(p)
	for range 3 {
		v, err := c.GetWithContext(nil)
		if err != nil || !v.SignerType.IsAnonymous() {
			t.Fatalf("got %+v, %v; want anonymous", v, err)
		}
	}
	if p.n != 1 {
		t.Errorf("the chain was walked %d times, want 1", p.n)
	}
}
