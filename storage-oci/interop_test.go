package ocistore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage-oci/ocitest"
)

const origDir = "testdata/orig"

// loadOrig puts the original's artifacts into repo with plain HTTP
// requests: each blob by a monolithic upload, each manifest by PUT of its
// exact bytes under its tag.
func loadOrig(t *testing.T, srv *ocitest.Server, repo string) []string {
	t.Helper()
	blobs, err := os.ReadDir(filepath.Join(origDir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + srv.Addr + "/v2/" + repo
	for _, e := range blobs {
		b, err := os.ReadFile(filepath.Join(origDir, "blobs", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		resp := do(t, http.MethodPost, base+"/blobs/uploads/", "", nil)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusAccepted || loc == "" {
			t.Fatalf("starting upload: %s", resp.Status)
		}
		if !strings.HasPrefix(loc, "http") {
			loc = "http://" + srv.Addr + loc
		}
		sep := "?"
		if strings.Contains(loc, "?") {
			sep = "&"
		}
		if resp := do(t, http.MethodPut, loc+sep+"digest=sha256:"+e.Name(), "application/octet-stream", b); resp.StatusCode != http.StatusCreated {
			t.Fatalf("uploading blob %s: %s", e.Name(), resp.Status)
		}
	}
	tags := readTags(t)
	for _, tag := range tags {
		m, err := os.ReadFile(filepath.Join(origDir, "manifests", tag))
		if err != nil {
			t.Fatal(err)
		}
		if resp := do(t, http.MethodPut, base+"/manifests/"+tag, "application/vnd.oci.image.manifest.v1+json", m); resp.StatusCode != http.StatusCreated {
			t.Fatalf("putting manifest %s: %s", tag, resp.Status)
		}
	}
	return tags
}

func readTags(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(origDir, "tags.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func do(t *testing.T, method, url, ctype string, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// rawManifest GETs the manifest tagged tag as the registry serves it.
func rawManifest(t *testing.T, srv *ocitest.Server, repo, tag string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+srv.Addr+"/v2/"+repo+"/manifests/"+tag, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET manifest %s: %s %v", tag, resp.Status, err)
	}
	return b
}

// TestReadOriginal: a repository the original desync filled is read by
// our store (listed, every chunk fetched and verified) and the file it
// indexed is reassembled byte-exact.
func TestReadOriginal(t *testing.T) {
	noDocker(t)
	srv := ocitest.Start(t)
	tags := loadOrig(t, srv, "vec/store")
	s := open(t, srv.URL("vec/store"), storage.Options{})
	defer s.Close()
	ctx := context.Background()
	ix, err := caindex.ReadFile(filepath.Join(origDir, "in.caibx"))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for id, err := range s.ListChunks(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, id.String()+".cacnk")
	}
	slices.Sort(listed)
	if !slices.Equal(listed, tags) {
		t.Errorf("listed %q, want the original's tags %q", listed, tags)
	}
	h := sha256.New()
	for _, c := range ix.Chunks {
		ch, err := s.GetChunk(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ch.Plain()
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	want, _ := os.ReadFile(filepath.Join(origDir, "in.bin.sha256"))
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.TrimSpace(string(want)) {
		t.Errorf("reassembled sha256 %s, want %s", got, want)
	}
}

// TestSameManifest: for the blob the original pushed under a tag, our
// store pushes the byte-identical manifest (so the same digest).
func TestSameManifest(t *testing.T) {
	noDocker(t)
	srv := ocitest.Start(t)
	s := open(t, srv.URL("ours/store"), storage.Options{})
	defer s.Close()
	for _, tag := range readTags(t) {
		orig, err := os.ReadFile(filepath.Join(origDir, "manifests", tag))
		if err != nil {
			t.Fatal(err)
		}
		var digest string
		if _, after, ok := strings.Cut(string(orig), `"layers":[{"mediaType":"application/octet-stream","digest":"sha256:`); ok {
			digest, _, _ = strings.Cut(after, `"`)
		}
		blob, err := os.ReadFile(filepath.Join(origDir, "blobs", digest))
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("%s/%s", tag[:4], tag)
		if err := s.Driver().Put(context.Background(), name, blob); err != nil {
			t.Fatal(err)
		}
		if got := rawManifest(t, srv, "ours/store", tag); !bytes.Equal(got, orig) {
			t.Errorf("our manifest for %s:\n%s\nthe original's:\n%s", tag, got, orig)
		}
	}
}
