// Package s3test starts a real S3 server for tests: versitygw with its
// posix backend in a temporary directory, on a free port of 127.0.0.1,
// killed when the test ends. Its objects are files under
// <Dir>/<bucket>/<key>, so a test can check what a store wrote, and a
// casync store under a bucket's prefix is a local store too.
package s3test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/folbricht/desync/storage/storagetest"
)

// Binary is the server's command name; Version the one CI installs
// (go install github.com/versity/versitygw/cmd/versitygw@Version).
const (
	Binary  = "versitygw"
	Version = "v1.8.0"
)

// Server is a running versitygw.
type Server struct {
	Endpoint string // 127.0.0.1:port
	Dir      string // the posix backend's root: bucket b is Dir/b
	Access   string // the root user's access key
	Secret   string // and its secret key
}

// Start starts a server for t, or skips t when versitygw is not installed
// (fails it instead when the environment has CI=true: CI installs it).
func Start(t testing.TB) *Server {
	t.Helper()
	bin := storagetest.GoProgram(t, Binary, "go install github.com/versity/versitygw/cmd/versitygw@"+Version)
	s := &Server{Dir: t.TempDir(), Access: "desynctestkey", Secret: "desync-test-secret-0123456789"}
	var last error
	for range 5 { // the free port may be taken between probe and start
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s.Endpoint = fmt.Sprintf("127.0.0.1:%d", port)
		cmd := exec.Command(bin, "--access", s.Access, "--secret", s.Secret, "--port", s.Endpoint,
			"--keep-alive", "--quiet", "posix", s.Dir)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting %s: %v", bin, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if last = waitListening(s.Endpoint, exited); last == nil {
			t.Cleanup(func() {
				cmd.Process.Kill()
				<-exited
			})
			return s
		}
		cmd.Process.Kill()
		<-exited
		last = fmt.Errorf("%w; output: %s", last, out.String())
	}
	t.Fatalf("versitygw did not start: %v", last)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitListening waits up to 15 s for addr to accept connections.
func waitListening(addr string, exited <-chan error) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited: %v", err)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s after 15s", addr)
}

// Client returns a minio-go client of the root user.
func (s *Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.Access, s.Secret, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Bucket creates bucket name and returns its directory.
func (s *Server) Bucket(t testing.TB, name string) string {
	t.Helper()
	if err := s.Client(t).MakeBucket(context.Background(), name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
	return filepath.Join(s.Dir, name)
}

// URL is the location of prefix in bucket: s3+http://endpoint/bucket/prefix.
func (s *Server) URL(bucket, prefix string) string {
	u := "s3+http://" + s.Endpoint + "/" + bucket
	if prefix != "" {
		u += "/" + prefix
	}
	return u
}
