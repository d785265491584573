// Package ocitest starts a real OCI registry for tests: the distribution
// registry (github.com/distribution/distribution/v3/cmd/registry, the
// pinned Version), on a free port of 127.0.0.1, with its filesystem
// storage in a temporary directory and manifest deletion enabled, killed
// when the test ends. Missing, it skips the test, or fails it when
// CI=true (CI installs it, see .ci/run).
//
// Three flavours: Start, anonymous; StartBasic, behind htpasswd basic
// auth (the registry's own, bcrypt hashes written by the test); and
// StartBearer, the anonymous registry behind a small reverse proxy of
// this package that plays a token-authenticated registry (the registry's
// own "auth: token" mode needs a signing token server, this is smaller):
// requests without a valid bearer token get 401 with
// `WWW-Authenticate: Bearer realm=…,service=…,scope=…`, and the proxy's
// token endpoint hands out tokens for basic credentials, only for the
// repositories it is told to allow.
package ocitest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/folbricht/desync/storage/storagetest"
)

// Binary is the registry's command name; Version the one CI installs.
const (
	Binary  = "registry"
	Version = "v3.0.0"
	Install = "go install github.com/distribution/distribution/v3/cmd/registry@" + Version
)

// Server is a running registry.
type Server struct {
	Addr string // 127.0.0.1:port
	Root string // the filesystem storage's root directory
	User string // for StartBasic and StartBearer: the login that works
	Pass string
}

// URL is the store location of repo: oci+http://Addr/repo.
func (s *Server) URL(repo string) string { return "oci+http://" + s.Addr + "/" + repo }

// Start starts an anonymous registry for t.
func Start(t testing.TB) *Server { return start(t, "") }

// StartBasic starts a registry that wants basic auth with User and Pass.
func StartBasic(t testing.TB) *Server {
	t.Helper()
	dir := t.TempDir()
	user, pass := "desync", "desync-test-password-42"
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, fmt.Sprintf("auth:\n  htpasswd:\n    realm: desync-test\n    path: %s\n", htpasswd))
	s.User, s.Pass = user, pass
	return s
}

func start(t testing.TB, authYAML string) *Server {
	t.Helper()
	bin := storagetest.GoProgram(t, Binary, Install)
	dir := t.TempDir()
	s := &Server{Root: filepath.Join(dir, "root")}
	var last error
	for range 5 { // the free port may be taken between probe and start
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		cfg := filepath.Join(dir, "config.yml")
		yml := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n%s",
			s.Root, s.Addr, authYAML)
		if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", cfg)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none")
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting %s: %v", bin, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if last = waitReady(s.Addr, exited); last == nil {
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
	t.Fatalf("registry did not start: %v", last)
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

// waitReady waits up to 15 s for the registry to answer GET /v2/.
func waitReady(addr string, exited <-chan error) error {
	deadline := time.Now().Add(15 * time.Second)
	c := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("registry exited: %v", err)
		default:
		}
		if resp, err := c.Get("http://" + addr + "/v2/"); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no registry answers on %s after 15s", addr)
}

// FreeAddr returns a loopback address nothing listens on (a port that was
// free a moment ago): an unreachable registry.
func FreeAddr(t testing.TB) string {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}
