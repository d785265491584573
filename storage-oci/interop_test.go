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
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage-oci/ocitest"
)

// The original's artifacts: a plain casync store, and an encrypted one.
const (
	origDir    = "testdata/orig"
	origEncDir = "testdata/orig-enc"
	encSuffix  = ".cacnk.xchacha20-poly1305-630dcd29"
	// origEncKey is the key of testdata/orig-enc/cfg.json.
	origEncKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
)

// loadOrig puts the original's artifacts into repo with plain HTTP
// requests: each blob by a monolithic upload, each manifest by PUT of its
// exact bytes under its tag.
func loadOrig(t *testing.T, srv *ocitest.Server, dir, repo string) []string {
	t.Helper()
	blobs, err := os.ReadDir(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + srv.Addr + "/v2/" + repo
	for _, e := range blobs {
		b, err := os.ReadFile(filepath.Join(dir, "blobs", e.Name()))
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
	tags := readTags(t, dir)
	for _, tag := range tags {
		m, err := os.ReadFile(filepath.Join(dir, "manifests", tag))
		if err != nil {
			t.Fatal(err)
		}
		if resp := do(t, http.MethodPut, base+"/manifests/"+tag, "application/vnd.oci.image.manifest.v1+json", m); resp.StatusCode != http.StatusCreated {
			t.Fatalf("putting manifest %s: %s", tag, resp.Status)
		}
	}
	return tags
}

func readTags(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "tags.txt"))
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
	tags := loadOrig(t, srv, origDir, "vec/store")
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
	checkReassembled(t, s, ix, origDir)
}

// checkReassembled reads the chunks of ix from s in order and compares the
// sha256 of their content with the one of the original's input in dir.
func checkReassembled(t *testing.T, s chunk.Store, ix *caindex.Index, dir string) {
	t.Helper()
	h := sha256.New()
	for _, c := range ix.Chunks {
		ch, err := s.GetChunk(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ch.Plain()
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "in.bin.sha256"))
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.TrimSpace(string(want)) {
		t.Errorf("reassembled sha256 %s, want %s", got, want)
	}
}

// TestReadOriginalEncrypted: the tags of the original's encrypted store
// are listed by a store whose layout has the encryption suffix, each reads
// back as the blob the original pushed, and a store opened with the
// original's encryption options decrypts them into the original's input.
func TestReadOriginalEncrypted(t *testing.T) {
	noDocker(t)
	srv := ocitest.Start(t)
	tags := loadOrig(t, srv, origEncDir, "vec/enc")
	s := openFormat(t, srv.URL("vec/enc"), storage.FormatOptions{Suffix: encSuffix})
	defer s.Close()
	ctx := context.Background()
	var listed []string
	for id, err := range s.ListChunks(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, id.String()+encSuffix)
	}
	slices.Sort(listed)
	if !slices.Equal(listed, tags) {
		t.Errorf("listed %q, want the original's tags %q", listed, tags)
	}
	for _, tag := range tags {
		got, err := s.Driver().Get(ctx, tag[:4]+"/"+tag, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := os.ReadFile(filepath.Join(origEncDir, "blobs", layerDigest(t, origEncDir, tag))); !bytes.Equal(got, want) {
			t.Errorf("tag %s: read %d bytes, not the original's blob of %d", tag, len(got), len(want))
		}
	}
	// With the original's store options (its cfg.json), the chunks
	// decrypt and reassemble the original's input.
	enc := open(t, srv.URL("vec/enc"), storage.Options{Encryption: true, EncryptionKey: origEncKey})
	defer enc.Close()
	ix, err := caindex.ReadFile(filepath.Join(origEncDir, "in.caibx"))
	if err != nil {
		t.Fatal(err)
	}
	checkReassembled(t, enc, ix, origEncDir)
	// A store without the suffix sees none of them.
	plain := open(t, srv.URL("vec/enc"), storage.Options{})
	defer plain.Close()
	for id := range plain.ListChunks(ctx) {
		t.Errorf("a .cacnk store lists %s of the encrypted store", id)
	}
}

// layerDigest returns the hex sha256 of the one layer of a manifest of dir.
func layerDigest(t *testing.T, dir, tag string) string {
	t.Helper()
	m, err := os.ReadFile(filepath.Join(dir, "manifests", tag))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(m), `"layers":[{"mediaType":"application/octet-stream","digest":"sha256:`)
	if !ok {
		t.Fatalf("manifest %s has no octet-stream layer", tag)
	}
	d, _, _ := strings.Cut(after, `"`)
	return d
}

// TestSameManifest: for each blob the original pushed under a tag (plain
// and encrypted stores), our driver pushes the byte-identical manifest
// (so the same digest).
func TestSameManifest(t *testing.T) {
	noDocker(t)
	srv := ocitest.Start(t)
	s := open(t, srv.URL("ours/store"), storage.Options{})
	defer s.Close()
	for _, dir := range []string{origDir, origEncDir} {
		for _, tag := range readTags(t, dir) {
			orig, err := os.ReadFile(filepath.Join(dir, "manifests", tag))
			if err != nil {
				t.Fatal(err)
			}
			blob, err := os.ReadFile(filepath.Join(dir, "blobs", layerDigest(t, dir, tag)))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Driver().Put(context.Background(), fmt.Sprintf("%s/%s", tag[:4], tag), blob); err != nil {
				t.Fatal(err)
			}
			if got := rawManifest(t, srv, "ours/store", tag); !bytes.Equal(got, orig) {
				t.Errorf("our manifest for %s:\n%s\nthe original's:\n%s", tag, got, orig)
			}
		}
	}
}
