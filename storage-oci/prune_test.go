package ocistore_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage-oci/ocitest"
)

// pushForeign pushes an artifact that is not a desync chunk (artifact
// type application/vnd.example.other) under tag, with plain HTTP. Its
// blobs are the empty config, which a store's first push put there.
func pushForeign(t *testing.T, srv *ocitest.Server, repo, tag string) {
	t.Helper()
	base := "http://" + srv.Addr + "/v2/" + repo
	m := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.other","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}]}`
	if resp := do(t, http.MethodPut, base+"/manifests/"+tag, "application/vnd.oci.image.manifest.v1+json", []byte(m)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("foreign manifest: %s", resp.Status)
	}
}

// tagList returns the repository's tags, sorted.
func tagList(t *testing.T, s *storage.ObjectStore) []string {
	t.Helper()
	var tags []string
	for name, err := range s.Driver().List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		_, tag, _ := strings.Cut(name, "/")
		tags = append(tags, tag)
	}
	slices.Sort(tags)
	return tags
}

// TestPruneLeavesForeign: pruning deletes the chunk artifacts not kept and
// leaves an unrelated artifact under a chunk-shaped tag alone; reading that
// tag as a chunk is a permanent error that says what it is.
func TestPruneLeavesForeign(t *testing.T) {
	noDocker(t)
	srv := ocitest.Start(t)
	repo := newRepo()
	s := open(t, srv.URL(repo), storage.Options{})
	defer s.Close()
	ctx := context.Background()
	var ids []chunk.ID
	for _, p := range []string{"one", "two", "three"} {
		c := chunk.New(chunk.SHA512_256.Sum([]byte(p)), []byte(p))
		if err := s.StoreChunk(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID())
	}
	foreignID := chunk.SHA512_256.Sum([]byte("not a chunk"))
	foreignTag := foreignID.String() + ".cacnk"
	pushForeign(t, srv, repo, foreignTag)

	_, err := s.GetChunk(ctx, foreignID)
	if err == nil || !storage.IsPermanent(err) || !strings.Contains(err.Error(), "not a desync chunk artifact") {
		t.Errorf("GetChunk of the foreign artifact: %v, want a permanent error saying it is not a chunk", err)
	}
	if err := s.Prune(ctx, func(id chunk.ID) bool { return id == ids[0] }); err != nil {
		t.Fatal(err)
	}
	want := []string{ids[0].String() + ".cacnk", foreignTag}
	slices.Sort(want)
	if got := tagList(t, s); !slices.Equal(got, want) {
		t.Errorf("tags after prune: %q, want %q", got, want)
	}
}
