package cli

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/folbricht/desync/storage-gcs/gcstest"
	"github.com/folbricht/desync/storage/storagetest"
)

// files lists the files under dir, relative, with "/" separators.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	return names
}

var gcsChunkName = regexp.MustCompile(`^([0-9a-f]{4})/([0-9a-f]{64})\.cacnk$`)

// TestGCS: make with chunks and index in a GCS bucket (fake-gcs-server),
// extract with the index read back from it, exact; extract -c fills the
// cache with every chunk; the objects are casync's layout, which casync
// itself extracts from as a local store; prune removes exactly the chunks
// no index given names.
func TestGCS(t *testing.T) {
	isolate(t)
	srv := gcstest.Start(t)
	srv.CreateBucket(t, "bkt")
	root := srv.Root
	dir := t.TempDir()
	in := writeFile(t, filepath.Join(dir, "in"), genRandom(t, 6<<20, 14))
	const store, index = "gs://bkt/store", "gs://bkt/indexes/in.caibx"

	mustRun(t, nil, "make", "-s", store, index, in)
	storeDir, indexFile := filepath.Join(root, "bkt", "store"), filepath.Join(root, "bkt", "indexes", "in.caibx")
	chunks := files(t, storeDir)
	if len(chunks) < 10 {
		t.Fatalf("%d chunks in the bucket, want a few dozen", len(chunks))
	}
	for _, c := range chunks {
		if m := gcsChunkName.FindStringSubmatch(c); m == nil || m[1] != m[2][:4] {
			t.Errorf("object store/%s is not <4hex>/<id>.cacnk", c)
		}
	}
	if _, err := os.Stat(indexFile); err != nil {
		t.Fatalf("the index is not in the bucket: %v", err)
	}

	out := filepath.Join(dir, "out")
	mustRun(t, nil, "extract", "-s", store, index, out)
	sameFiles(t, out, in)

	cache := filepath.Join(dir, "cache")
	out2 := filepath.Join(dir, "out2")
	mustRun(t, nil, "extract", "-s", store, "-c", cache, index, out2)
	sameFiles(t, out2, in)
	cached := files(t, cache)
	if strings.Join(cached, "\n") != strings.Join(chunks, "\n") {
		t.Errorf("the cache holds %d chunk files, the store %d objects: want the same names", len(cached), len(chunks))
	}

	if _, err := exec.LookPath("casync"); err == nil || required() {
		casync := casyncPath(t)
		out3 := filepath.Join(dir, "out3")
		execOK(t, casync, "extract", "--store="+storeDir, indexFile, out3)
		sameFiles(t, out3, in)
	} else {
		t.Log("casync is not installed: the bucket's layout is checked by name only")
	}

	// A second file's chunks join the store; prune with the first index
	// (read back from the bucket) takes exactly them out again.
	in2 := writeFile(t, filepath.Join(dir, "in2"), genRandom(t, 2<<20, 16))
	mustRun(t, nil, "make", "-s", store, "gs://bkt/indexes/in2.caibx", in2)
	if n := len(files(t, storeDir)); n <= len(chunks) {
		t.Fatalf("%d objects after a second make, want more than %d", n, len(chunks))
	}
	mustRun(t, nil, "prune", "-s", store, "-y", index)
	if after := files(t, storeDir); strings.Join(after, "\n") != strings.Join(chunks, "\n") {
		t.Errorf("after prune: %d objects, want the first file's %d", len(after), len(chunks))
	}
	mustRun(t, nil, "extract", "-s", store, index, filepath.Join(dir, "out4"))
	sameFiles(t, filepath.Join(dir, "out4"), in)
}

// TestGCSFailures: a missing bucket, refused credentials and an
// unreachable endpoint (refusing connections, dropping them, or silent
// in the TLS handshake) each fail make and extract with a message naming
// the store, writing nothing, with the default retries and store timeout
// (a minute) and well before a 30 s deadline: the connection setup has a
// bound of its own. The commands of a case run side by side.
func TestGCSFailures(t *testing.T) {
	isolate(t)
	srv := gcstest.Start(t)
	srv.CreateBucket(t, "bkt")
	root := srv.Root
	dir := t.TempDir()
	in := writeFile(t, filepath.Join(dir, "in"), genRandom(t, 1<<20, 15))
	localIndex := filepath.Join(dir, "in.caibx")
	mustRun(t, nil, "make", "-s", filepath.Join(dir, "local"), localIndex, in)

	refuser := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
	}))
	defer refuser.Close()
	adc, keyLines := gcstest.ServiceAccountFile(t, refuser.URL)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	silent := storagetest.SilentEndpoint(t)

	for _, tc := range []struct {
		name, store string
		env         func() map[string]string
		want        string
	}{
		{"MissingBucket", "gs://no-such-bucket/store", nil, "bucket doesn't exist"},
		{"RefusedCredentials", "gs://bkt/store", func() map[string]string {
			return map[string]string{"STORAGE_EMULATOR_HOST": "", "GOOGLE_APPLICATION_CREDENTIALS": adc}
		}, "invalid_grant"},
		{"Unreachable", "gs://bkt/store", func() map[string]string {
			return map[string]string{"STORAGE_EMULATOR_HOST": closedAddr}
		}, "connection refused"},
		{"DroppedConnections", "gs://bkt/store", func() map[string]string {
			return map[string]string{"STORAGE_EMULATOR_HOST": storagetest.DroppingEndpoint(t)}
		}, "unreachable: no connection within"},
		{"SilentTLS", "gs://bkt/store", func() map[string]string {
			return map[string]string{"STORAGE_EMULATOR_HOST": "https://" + silent}
		}, "TLS handshake timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != nil {
				for k, v := range tc.env() {
					t.Setenv(k, v)
				}
			}
			idx := strings.TrimSuffix(tc.store, "store") + "idx/" + tc.name + ".caibx"
			cmds := [][]string{
				{"extract", "-s", tc.store, localIndex, filepath.Join(dir, tc.name+".out1")},
				{"extract", "-s", tc.store, idx, filepath.Join(dir, tc.name+".out2")},
				{"make", "-s", tc.store, idx, in},
			}
			results := make([]result, len(cmds))
			// The deadline is a backstop: a command must fail with its
			// own message before it, never by it.
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
				case !strings.Contains(r.stderr, strings.TrimSuffix(tc.store, "/store")):
					t.Errorf("%v: the message does not name the store: %s", args, r.stderr)
				case !strings.Contains(r.stderr, tc.want):
					t.Errorf("%v: the message does not say %q: %s", args, tc.want, r.stderr)
				case slices.ContainsFunc(keyLines, func(l string) bool { return strings.Contains(r.stderr, l) }):
					t.Errorf("%v: the message shows the credential's key: %s", args, r.stderr)
				}
				if args[0] == "extract" {
					if _, err := os.Stat(args[len(args)-1]); err == nil {
						t.Errorf("%v wrote %s", args, args[len(args)-1])
					}
				}
				t.Logf("%v: exit %d: %s", args, r.code, strings.TrimSpace(r.stderr))
			}
			if written := files(t, filepath.Join(root, "bkt")); len(written) > 0 {
				t.Errorf("objects written to the bucket: %v", written)
			}
		})
	}
}
