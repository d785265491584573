package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/folbricht/desync/storage-oci/ocitest"
)

// ociIsolate keeps the user's docker login and DESYNC_OCI_* out of a test.
func ociIsolate(t *testing.T) {
	t.Helper()
	isolate(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("DESYNC_OCI_USERNAME", "")
	t.Setenv("DESYNC_OCI_PASSWORD", "")
}

// ociTags returns the tags of repo on the anonymous registry at addr,
// sorted ([] if the registry does not know the repository).
func ociTags(t *testing.T, addr, repo string) []string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/v2/" + repo + "/tags/list?n=100000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	var page struct{ Tags []string }
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	slices.Sort(page.Tags)
	return page.Tags
}

// chunkTags is the set of "<id>.cacnk" of an index, sorted, from list-chunks.
func chunkTags(t *testing.T, index string) []string {
	t.Helper()
	var tags []string
	for _, id := range strings.Fields(mustRun(t, nil, "list-chunks", index).stdout) {
		tags = append(tags, id+".cacnk")
	}
	slices.Sort(tags)
	return slices.Compact(tags)
}

// ociPushForeign tags an artifact that is not a desync chunk (another
// artifact type; its blob the empty config a make pushed) with tag.
func ociPushForeign(t *testing.T, addr, repo, tag string) {
	t.Helper()
	m := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.other","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}]}`
	req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/v2/"+repo+"/manifests/"+tag, strings.NewReader(m))
	req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("pushing the foreign artifact: %s", resp.Status)
	}
}

// TestOCI: make into a registry (the distribution registry) leaves exactly
// the index's chunks as tags; extract from it is exact and -c fills the
// cache; verify passes; prune with another index deletes exactly the
// other chunk tags and leaves an unrelated artifact with a chunk-shaped
// tag alone; an index location on the registry is refused.
func TestOCI(t *testing.T) {
	ociIsolate(t)
	srv := ocitest.Start(t)
	const repo = "desync/store"
	store := srv.URL(repo)
	dir := t.TempDir()
	in := writeFile(t, filepath.Join(dir, "in"), genRandom(t, 4<<20, 21))
	index := filepath.Join(dir, "in.caibx")

	mustRun(t, nil, "make", "-s", store, index, in)
	want := chunkTags(t, index)
	if len(want) < 10 {
		t.Fatalf("%d chunks, want a few dozen", len(want))
	}
	if got := ociTags(t, srv.Addr, repo); !slices.Equal(got, want) {
		t.Fatalf("registry tags after make (%d) differ from the index's chunks (%d):\n%q\n%q", len(got), len(want), got, want)
	}

	out := filepath.Join(dir, "out")
	mustRun(t, nil, "extract", "-s", store, index, out)
	sameFiles(t, out, in)

	cache := filepath.Join(dir, "cache")
	out2 := filepath.Join(dir, "out2")
	mustRun(t, nil, "extract", "-s", store, "-c", cache, index, out2)
	sameFiles(t, out2, in)
	var cached []string
	for _, f := range files(t, cache) {
		cached = append(cached, filepath.Base(f))
	}
	slices.Sort(cached)
	if !slices.Equal(cached, want) {
		t.Errorf("the cache holds %d chunk files, want the %d chunks of the index", len(cached), len(want))
	}

	mustRun(t, nil, "verify", "-s", store)

	// A second file's chunks and a foreign artifact join the repository;
	// prune with the first index takes out exactly the second's chunks.
	in2 := writeFile(t, filepath.Join(dir, "in2"), genRandom(t, 1<<20, 22))
	index2 := filepath.Join(dir, "in2.caibx")
	mustRun(t, nil, "make", "-s", store, index2, in2)
	foreign := strings.Repeat("ab", 32) + ".cacnk"
	ociPushForeign(t, srv.Addr, repo, foreign)
	if n := len(ociTags(t, srv.Addr, repo)); n <= len(want)+1 {
		t.Fatalf("%d tags after a second make, want more than %d", n, len(want)+1)
	}
	mustRun(t, nil, "prune", "-s", store, "-y", index)
	wantAfter := slices.Sorted(slices.Values(append(slices.Clone(want), foreign)))
	if got := ociTags(t, srv.Addr, repo); !slices.Equal(got, wantAfter) {
		t.Errorf("tags after prune: %d, want the first index's %d and the foreign one", len(got), len(want))
	}
	out3 := filepath.Join(dir, "out3")
	mustRun(t, nil, "extract", "-s", store, index, out3)
	sameFiles(t, out3, in)

	// Index stores on a registry are refused, as the original refuses them.
	r := run(t, nil, "make", "-s", store, store+"/in.caibx", in)
	if r.code == 0 || !strings.Contains(r.stderr, "Index storage is not supported by oci registry stores") {
		t.Errorf("make with the index on the registry: exit %d: %s", r.code, r.stderr)
	}
	r = run(t, nil, "extract", "-s", store, store+"/in.caibx", filepath.Join(dir, "out4"))
	if r.code == 0 || !strings.Contains(r.stderr, "Index storage is not supported by oci registry stores") {
		t.Errorf("extract with the index on the registry: exit %d: %s", r.code, r.stderr)
	}
}

// TestOCIFailures: refused credentials (basic auth registry), a
// repository the login may not use (bearer token registry, login from
// config.json's oci-credentials), and an unreachable registry each fail
// extract and make with a message naming the store, writing nothing,
// with the default retries and timeout, well before a 30 s deadline.
func TestOCIFailures(t *testing.T) {
	ociIsolate(t)
	basic := ocitest.StartBasic(t)
	bearer := ocitest.StartBearer(t, "desync/allowed")
	dir := t.TempDir()
	in := writeFile(t, filepath.Join(dir, "in"), genRandom(t, 1<<20, 23))
	localIndex := filepath.Join(dir, "in.caibx")
	mustRun(t, nil, "make", "-s", filepath.Join(dir, "local"), localIndex, in)
	cfg := writeFile(t, filepath.Join(dir, "config.json"), []byte(`{"oci-credentials":{"oci+http://`+bearer.Addr+`/*/*":{"username":"`+bearer.User+`","secret":"`+bearer.Pass+`"}}}`))

	for _, tc := range []struct {
		name, store string
		env         map[string]string
		want        string
		root        string // the registry's storage, which must stay without repositories
	}{
		{"WrongCredentials", basic.URL("desync/store"), map[string]string{"DESYNC_OCI_USERNAME": basic.User, "DESYNC_OCI_PASSWORD": "wrong"}, "refused the credentials", basic.Root},
		{"NoCredentials", basic.URL("desync/store"), nil, "wants credentials", basic.Root},
		{"MissingRepository", bearer.URL("desync/missing"), nil, "401", bearer.Root},
		{"Unreachable", "oci+http://" + ocitest.FreeAddr(t) + "/desync/store", nil, "connection refused", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cmds := [][]string{
				{"--config", cfg, "extract", "-s", tc.store, localIndex, filepath.Join(dir, tc.name+".out")},
				{"--config", cfg, "make", "-s", tc.store, filepath.Join(dir, tc.name+".caibx"), in},
			}
			results := make([]result, len(cmds))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			for i, args := range cmds {
				wg.Go(func() {
					var out, errb bytes.Buffer
					code := Run(ctx, args, Stdio{In: bytes.NewReader(nil), Out: &out, Err: &errb})
					results[i] = result{code, out.String(), errb.String()}
				})
			}
			wg.Wait()
			if ctx.Err() != nil {
				t.Errorf("the 30 s deadline passed before the commands failed by themselves")
			}
			for i, args := range cmds {
				r := results[i]
				switch {
				case r.code == 0:
					t.Errorf("%v succeeded", args)
				case !strings.Contains(r.stderr, tc.store):
					t.Errorf("%v: the message does not name the store %s: %s", args, tc.store, r.stderr)
				case !strings.Contains(r.stderr, tc.want):
					t.Errorf("%v: the message does not say %q: %s", args, tc.want, r.stderr)
				case strings.Contains(r.stderr, "wrong") || strings.Contains(r.stderr, bearer.Pass) || strings.Contains(r.stderr, basic.Pass):
					t.Errorf("%v: the message shows a password: %s", args, r.stderr)
				}
				if p := args[len(args)-1]; args[2] == "extract" {
					if _, err := os.Stat(p); err == nil {
						t.Errorf("%v wrote %s", args, p)
					}
				} else if _, err := os.Stat(args[len(args)-2]); err == nil {
					t.Errorf("%v wrote the index %s", args, args[len(args)-2])
				}
				t.Logf("%v: exit %d: %s", args, r.code, strings.TrimSpace(r.stderr))
			}
			if tc.root != "" {
				if written := files(t, tc.root); len(written) > 0 {
					t.Errorf("files written to the registry: %v", written)
				}
			}
		})
	}

	// The login of config.json's oci-credentials gets the bearer token
	// for the repository it may use.
	allowedIndex := filepath.Join(dir, "allowed.caibx")
	mustRun(t, nil, "--config", cfg, "make", "-s", bearer.URL("desync/allowed"), allowedIndex, in)
	if got, want := ociTags(t, bearer.Backend.Addr, "desync/allowed"), chunkTags(t, allowedIndex); !slices.Equal(got, want) {
		t.Errorf("make with the config's login: %d tags, want the %d chunks", len(got), len(want))
	}
	if bearer.Tokens() == 0 {
		t.Error("no bearer token was handed out")
	}
}
