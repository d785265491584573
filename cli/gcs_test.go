package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/folbricht/desync/storage/storagetest"
)

// fakeGCS starts github.com/fsouza/fake-gcs-server (filesystem backend:
// object <name> of bucket <b> is the file <root>/<b>/<name>) on a free
// loopback port, killed when the test ends, and points the GCS client at
// it with STORAGE_EMULATOR_HOST. Missing, it skips (fails in CI).
func fakeGCS(t *testing.T) (addr, root string) {
	t.Helper()
	bin, err := exec.LookPath("fake-gcs-server")
	for _, d := range []string{os.Getenv("GOBIN"), goPathBin()} {
		if err != nil && d != "" {
			bin = filepath.Join(d, "fake-gcs-server")
			_, err = os.Stat(bin)
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("fake-gcs-server is not installed, and CI requires it (go install github.com/fsouza/fake-gcs-server@v1.56.1)")
		}
		t.Skip("fake-gcs-server is not installed (go install github.com/fsouza/fake-gcs-server@v1.56.1)")
	}
	root = t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "-scheme", "http", "-host", "127.0.0.1", "-port", port,
		"-backend", "filesystem", "-filesystem-root", root, "-log-level", "error")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/storage/v1/b")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fake-gcs-server did not answer on %s", addr)
		}
	}
	t.Setenv("STORAGE_EMULATOR_HOST", addr)
	return addr, root
}

func goPathBin() string {
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return ""
	}
	return filepath.Join(strings.TrimSpace(string(out)), "bin")
}

// createBucket makes a bucket through the server's JSON API.
func createBucket(t *testing.T, addr, name string) {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/storage/v1/b?project=desync-test", "application/json",
		strings.NewReader(`{"name":"`+name+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("creating bucket %s: %s", name, resp.Status)
	}
}

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
	addr, root := fakeGCS(t)
	createBucket(t, addr, "bkt")
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

// serviceAccountFile writes application default credentials of a service
// account whose token endpoint (tokenURL) refuses it.
func serviceAccountFile(t *testing.T, tokenURL string) (path, secret string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "desync-test", "private_key_id": "k1", "private_key": pemKey,
		"client_email": "desync@desync-test.iam.gserviceaccount.com", "client_id": "1", "token_uri": tokenURL,
	})
	path = filepath.Join(t.TempDir(), "adc.json")
	writeFile(t, path, b)
	// Any line of the key's base64 is a piece of the secret.
	return path, strings.Split(pemKey, "\n")[2]
}

// TestGCSFailures: a missing bucket, refused credentials and an
// unreachable endpoint (refusing connections, dropping them, or silent
// in the TLS handshake) each fail make and extract with a message naming
// the store, writing nothing, with the default retries and store timeout
// (a minute) and well before a 30 s deadline: the connection setup has a
// bound of its own. The commands of a case run side by side.
func TestGCSFailures(t *testing.T) {
	isolate(t)
	addr, root := fakeGCS(t)
	createBucket(t, addr, "bkt")
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
	adc, secret := serviceAccountFile(t, refuser.URL)
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
				case strings.Contains(r.stderr, secret):
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
