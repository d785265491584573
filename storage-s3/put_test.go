package s3store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/folbricht/desync/storage"
	s3store "github.com/folbricht/desync/storage-s3"
)

// TestPutSignsPayload: a PUT over plain HTTP carries the SHA-256 of its
// body in x-amz-content-sha256 (covered by the signature), as one plain
// body: not UNSIGNED-PAYLOAD, and not minio-go's default streaming
// signature (aws-chunked, one signature per 64 KiB).
func TestPutSignsPayload(t *testing.T) {
	type put struct{ sha, encoding, body string }
	got := make(chan put, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPut {
			got <- put{r.Header.Get("X-Amz-Content-Sha256"), r.Header.Get("Content-Encoding"), string(b)}
		}
		w.Header().Set("ETag", `"0"`)
	}))
	defer srv.Close()
	u, _ := url.Parse("s3+http://" + strings.TrimPrefix(srv.URL, "http://") + "/bucket/p")
	d, err := s3store.NewDriver(context.Background(), u, storage.Options{
		Credentials: keys{storage.Credential{ID: "k", Secret: "s", Attrs: map[string]string{"region": "us-east-1"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	data := strings.Repeat("chunk data ", 20000)
	if err := d.Put(context.Background(), "abcd/x.cacnk", []byte(data)); err != nil {
		t.Fatal(err)
	}
	p := <-got
	sum := sha256.Sum256([]byte(data))
	if p.sha != hex.EncodeToString(sum[:]) {
		t.Errorf("x-amz-content-sha256 = %q, want the body's SHA-256", p.sha)
	}
	if p.encoding != "" || p.body != data {
		t.Errorf("the body went as %q encoding (%d bytes), want it plain", p.encoding, len(p.body))
	}
}
