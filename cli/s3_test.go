package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/folbricht/desync/storage-s3/s3test"
)

// s3Env isolates a test from the user's config and environment and starts
// versitygw with one bucket; the config written for it holds the
// server's keys under s3-credentials, keyed by endpoint.
func s3Env(t *testing.T) (srv *s3test.Server, bucket, cfg string) {
	t.Helper()
	isolate(t)
	for _, k := range []string{"S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_SESSION_TOKEN", "S3_REGION",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		t.Setenv(k, "")
	}
	srv = s3test.Start(t)
	bucket = "desync"
	srv.Bucket(t, bucket)
	cfg = writeS3Config(t, srv, srv.Access, srv.Secret)
	return srv, bucket, cfg
}

// writeS3Config writes a config.json with the keys for srv's endpoint.
func writeS3Config(t *testing.T, srv *s3test.Server, access, secret string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"s3-credentials": map[string]any{
		"http://" + srv.Endpoint: map[string]string{"access-key": access, "secret-key": secret, "aws-region": "us-east-1"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, filepath.Join(t.TempDir(), "config.json"), b)
}

// TestS3MakeExtract: make with the chunks and the index in S3, extract
// with the index read back from S3 (with and without a local cache),
// all byte-exact; the bucket's backing directory holds exactly the
// index's chunks at <prefix>/<4hex>/<id>.cacnk, which the real casync
// extracts from as a local store.
func TestS3MakeExtract(t *testing.T) {
	srv, bucket, cfg := s3Env(t)
	dir := t.TempDir()
	data := genRandom(t, 8<<20, 14)
	input := writeFile(t, filepath.Join(dir, "input.bin"), data)
	store := srv.URL(bucket, "store")
	index := srv.URL(bucket, "indexes/input.caibx")

	mustRun(t, nil, "--config", cfg, "make", "-s", store, index, input)
	backing := filepath.Join(srv.Dir, bucket)
	localIndex := filepath.Join(backing, "indexes", "input.caibx")
	ix := readIndex(t, localIndex)
	ids := uniqueIDs(ix)
	assertSameIDs(t, "the bucket's store", storeChunks(t, filepath.Join(backing, "store")), ids)
	filepath.WalkDir(backing, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(backing, p)
			if rel != filepath.Join("indexes", "input.caibx") && !layout(rel) {
				t.Errorf("unexpected object %s in the bucket", rel)
			}
		}
		return nil
	})

	extractOK(t, data, index, "--config", cfg, "-s", store)
	cache := filepath.Join(dir, "cache")
	extractOK(t, data, index, "--config", cfg, "-s", store, "-c", cache)
	assertSameIDs(t, "the cache", storeChunks(t, cache), ids)
	assertNoTemp(t, cache)

	// A second make of the same input finds every chunk in the store.
	r := mustRun(t, nil, "--config", cfg, "make", "--print-stats", "-s", store, index, input)
	var stats map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &stats); err == nil {
		if n, ok := stats["chunks-stored"].(float64); ok && n != 0 {
			t.Errorf("second make stored %v chunks, want 0", n)
		}
	}

	if _, err := exec.LookPath("casync"); err == nil || required() {
		casync := casyncPath(t)
		out := filepath.Join(dir, "casync.out")
		execOK(t, casync, "extract", "--store="+filepath.Join(backing, "store"), localIndex, out)
		sameFiles(t, out, input)
	}
}

// layout reports whether rel (a path in the bucket) is store/<4hex>/<id>.cacnk.
func layout(rel string) bool {
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if len(parts) != 3 || parts[0] != "store" || len(parts[1]) != 4 {
		return false
	}
	id, ok := strings.CutSuffix(parts[2], ".cacnk")
	return ok && len(id) == 64 && strings.HasPrefix(id, parts[1])
}

// TestS3Failures: a wrong secret, a missing bucket and an endpoint where
// nothing listens each make make and extract fail with a message that
// names the store and says what is wrong, before a deadline well under
// 30 s, and write nothing.
func TestS3Failures(t *testing.T) {
	srv, bucket, cfg := s3Env(t)
	dir := t.TempDir()
	data := genRandom(t, 1<<20, 15)
	input := writeFile(t, filepath.Join(dir, "input.bin"), data)
	// A good index in the bucket, to extract with.
	mustRun(t, nil, "--config", cfg, "make", "-s", srv.URL(bucket, "store"), srv.URL(bucket, "ix/good.caibx"), input)
	goodIndex := filepath.Join(srv.Dir, bucket, "ix", "good.caibx")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	wrongSecret := writeS3Config(t, srv, srv.Access, "not-the-secret-1234")
	for _, tc := range []struct {
		name, cfg, store string
		want             []string
	}{
		{"WrongSecret", wrongSecret, srv.URL(bucket, "other"), []string{srv.URL(bucket, "other"), "wrong secret key"}},
		{"MissingBucket", cfg, srv.URL("no-such-bucket", "store"), []string{srv.URL("no-such-bucket", "store"), "bucket no-such-bucket does not exist"}},
		{"Unreachable", cfg, "s3+http://" + closed + "/" + bucket + "/store", []string{"s3+http://" + closed + "/" + bucket + "/store", "connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			runCtx := func(args ...string) result {
				var out, errb bytes.Buffer
				code := Run(ctx, args, Stdio{In: bytes.NewReader(nil), Out: &out, Err: &errb})
				return result{code, out.String(), errb.String()}
			}
			check := func(what string, r result) {
				t.Helper()
				if ctx.Err() != nil {
					t.Fatalf("%s: still failing after the 20 s deadline: %s", what, r.stderr)
				}
				if r.code == 0 {
					t.Fatalf("%s succeeded", what)
				}
				for _, w := range tc.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("%s: the message does not say %q: %s", what, w, r.stderr)
					}
				}
				if strings.Contains(r.stderr, "not-the-secret-1234") || strings.Contains(r.stderr, srv.Secret) {
					t.Errorf("%s: the message shows a secret: %s", what, r.stderr)
				}
			}
			idx := filepath.Join(dir, tc.name+".caibx")
			check("make", runCtx("--config", tc.cfg, "make", "-s", tc.store, idx, input))
			if _, err := os.Stat(idx); err == nil {
				t.Error("make wrote the index")
			}
			out := filepath.Join(dir, tc.name+".out")
			check("extract", runCtx("--config", tc.cfg, "extract", "-s", tc.store, goodIndex, out))
			if _, err := os.Stat(out); err == nil {
				t.Error("extract wrote the output")
			}
			if tc.name == "WrongSecret" {
				if _, err := os.Stat(filepath.Join(srv.Dir, bucket, "other")); err == nil {
					t.Error("objects were written with a wrong secret")
				}
				tc.want = []string{srv.URL(bucket, "ix"), "good.caibx", "wrong secret key"}
				check("extract with the index in S3", runCtx("--config", tc.cfg, "extract", "-s", srv.URL(bucket, "store"), srv.URL(bucket, "ix/good.caibx"), out))
			}
		})
	}
}
