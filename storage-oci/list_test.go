package ocistore_test

import (
	"context"
	"encoding/pem"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	ocistore "github.com/folbricht/desync/storage-oci"
	"github.com/folbricht/desync/storage-oci/ocitest"
)

// TestListPages: the tag listing follows the registry's pages (Link
// headers) to the end: with pages of 2, seven chunks are all listed, once.
func TestListPages(t *testing.T) {
	noDocker(t)
	srv := ocitest.Start(t)
	s := open(t, srv.URL(newRepo()), storage.Options{})
	defer s.Close()
	ocistore.SetPageSize(s.Driver().(*ocistore.Driver), 2)
	ctx := context.Background()
	var want []string
	for i := range 7 {
		b := []byte{byte(i), 'p'}
		c := chunk.New(chunk.SHA512_256.Sum(b), b)
		if err := s.StoreChunk(ctx, c); err != nil {
			t.Fatal(err)
		}
		want = append(want, c.ID().String())
	}
	var got []string
	for id, err := range s.ListChunks(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, id.String())
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("listed %d chunks %q, want %d %q", len(got), got, len(want), want)
	}
	// An empty (never pushed) repository lists nothing, without error.
	empty := open(t, srv.URL(newRepo()), storage.Options{})
	defer empty.Close()
	for id, err := range empty.ListChunks(ctx) {
		t.Errorf("empty repository listed %v, %v", id, err)
	}
}

// TestTLS: oci+https with the store's ca-cert trusts the registry's
// certificate; without it the certificate is refused, permanently.
func TestTLS(t *testing.T) {
	noDocker(t)
	srv := ocitest.Start(t)
	target, _ := url.Parse("http://" + srv.Addr)
	// The registry builds upload URLs from X-Forwarded-Proto and -Host.
	front := httptest.NewTLSServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.SetXForwarded()
	}})
	defer front.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	loc := "oci+https://" + strings.TrimPrefix(front.URL, "https://") + "/desync/tls"
	ctx := context.Background()
	c := chunk.New(chunk.SHA512_256.Sum([]byte("tls")), []byte("tls"))

	s := open(t, loc, storage.Options{CACert: ca})
	defer s.Close()
	if err := s.StoreChunk(ctx, c); err != nil {
		t.Fatalf("StoreChunk over TLS with ca-cert: %v", err)
	}
	if _, err := s.GetChunk(ctx, c.ID()); err != nil {
		t.Fatalf("GetChunk over TLS with ca-cert: %v", err)
	}
	untrusted := open(t, loc, storage.Options{})
	defer untrusted.Close()
	_, err := untrusted.GetChunk(ctx, c.ID())
	if err == nil || !storage.IsPermanent(err) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("GetChunk without the CA: %v, want a permanent certificate error", err)
	}
	insecure := open(t, loc, storage.Options{TrustInsecure: true})
	defer insecure.Close()
	if _, err := insecure.GetChunk(ctx, c.ID()); err != nil {
		t.Errorf("GetChunk with trust-insecure: %v", err)
	}
}
