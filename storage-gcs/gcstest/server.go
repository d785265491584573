// Package gcstest starts a real GCS emulator for tests:
// github.com/fsouza/fake-gcs-server with its filesystem backend (object
// <name> of bucket <b> is the plain file <Root>/<b>/<name>), on a free
// loopback port, killed when the test ends. Missing, it skips the test,
// or fails it when CI=true. It also writes service account credentials
// for refused-credential tests. The tests of storage-gcs and cli use it.
package gcstest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gcs "cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/folbricht/desync/storage/storagetest"
)

// serverName is the test server: github.com/fsouza/fake-gcs-server (CI
// installs a pinned version, see .ci/run).
const serverName = "fake-gcs-server"

// Server is a fake-gcs-server on loopback with the filesystem backend:
// object <name> of bucket <b> is the plain file <Root>/<b>/<name>.
type Server struct {
	Addr   string // host:port, for STORAGE_EMULATOR_HOST
	Root   string
	client *gcs.Client
}

var bucketSeq atomic.Int64

// Start starts the test server on a free loopback port with a
// temporary root, killed when the test ends, and points the client
// library at it (STORAGE_EMULATOR_HOST, for the test's duration).
func Start(t testing.TB) *Server {
	t.Helper()
	bin := storagetest.GoProgram(t, serverName, "go install github.com/fsouza/fake-gcs-server@v1.56.1")
	root := t.TempDir()
	var lastErr error
	for range 5 { // another process may take the free port first
		addr := freePort(t)
		_, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(bin, "-scheme", "http", "-host", "127.0.0.1", "-port", port,
			"-backend", "filesystem", "-filesystem-root", root, "-log-level", "error")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		if err := waitReady(addr, exited); err != nil {
			cmd.Process.Kill()
			<-exited
			lastErr = fmt.Errorf("%w; its output:\n%s", err, out.String())
			continue
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
		})
		if s, ok := t.(interface{ Setenv(string, string) }); ok {
			s.Setenv("STORAGE_EMULATOR_HOST", addr)
		}
		client, err := gcs.NewClient(context.Background(), option.WithoutAuthentication(),
			option.WithEndpoint("http://"+addr+"/storage/v1/"), gcs.WithJSONReads())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { client.Close() })
		return &Server{Addr: addr, Root: root, client: client}
	}
	t.Fatalf("%s did not start: %v", serverName, lastErr)
	return nil
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitReady polls the server's bucket list until it answers; the bound
// only stops a server that never comes up.
func waitReady(addr string, exited <-chan struct{}) error {
	c := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			return fmt.Errorf("%s exited", serverName)
		default:
		}
		resp, err := c.Get("http://" + addr + "/storage/v1/b")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer on %s", serverName, addr)
}

// Bucket creates a new, empty bucket and returns its name.
func (s *Server) Bucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("bkt-%d", bucketSeq.Add(1))
	s.CreateBucket(t, name)
	return name
}

// CreateBucket creates the bucket name.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	if err := s.client.Bucket(name).Create(context.Background(), "desync-test", nil); err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
}

// Put writes an object as it is, bypassing the store.
func (s *Server) Put(t testing.TB, bucket, name string, b []byte) {
	t.Helper()
	w := s.client.Bucket(bucket).Object(name).NewWriter(context.Background())
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("writing %s/%s: %v", bucket, name, err)
	}
}

// ServiceAccountFile writes application default credentials of a service
// account with a new private key and tokenURL as its token endpoint. It
// returns the file and three lines of the key's base64, each a piece of
// the secret that no message may show.
func ServiceAccountFile(t testing.TB, tokenURL string) (path string, keyLines []string) {
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
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, strings.Split(pemKey, "\n")[1:4]
}
