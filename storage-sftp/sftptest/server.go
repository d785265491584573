package sftptest

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is a running sshd.
type Server struct {
	// Root is a directory of the test that stores go under (created empty).
	Root string
	// Port is the port sshd listens on, at 127.0.0.1.
	Port int
	// User is the login name (the current user).
	User string
	// SSH is a wrapper of ssh to set as CASYNC_SSH_PATH: it logs in with
	// the authorized key and checks the server's host key.
	SSH string
	// WrongKeySSH logs in with a key the server does not accept.
	WrongKeySSH string
	// WrongHostKeySSH expects another host key than the server's.
	WrongHostKeySSH string
	log             *lockedWriter
}

// Log returns what sshd has logged so far.
func (s *Server) Log() string {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return s.log.b.String()
}

// find looks for a program in PATH, then in the system directories sshd
// lives in.
func find(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		if p := filepath.Join(d, name); isExec(p) {
			return p
		}
	}
	return ""
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func need(t testing.TB, name string) string {
	t.Helper()
	p := find(name)
	if p == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (CI=true: install openssh-server and openssh-client)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// quote makes s one word for /bin/sh.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Start starts sshd for the test and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	sshd := need(t, "sshd")
	keygen := need(t, "ssh-keygen")
	sshPath := need(t, "ssh")
	if !filepath.IsAbs(sshd) {
		var err error
		if sshd, err = filepath.Abs(sshd); err != nil {
			t.Fatal(err)
		}
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// sshd running as root wants its privilege separation directory,
		// which the system creates when it starts the ssh service.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc")
	s := &Server{Root: filepath.Join(dir, "root"), User: u.Username, Port: freePort(t), log: &lockedWriter{b: &bytes.Buffer{}}}
	for _, d := range []string{etc, s.Root} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p := func(name string) string { return filepath.Join(etc, name) }
	for _, k := range []string{"host", "other-host", "user", "other-user"} {
		run(t, keygen, "-q", "-t", "ed25519", "-N", "", "-C", k, "-f", p(k))
	}
	copyFile(t, p("user.pub"), p("authorized_keys"))
	config := fmt.Sprintf(`ListenAddress 127.0.0.1
Port %d
HostKey %s
AuthorizedKeysFile %s
PidFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel VERBOSE
`, s.Port, p("host"), p("authorized_keys"), p("sshd.pid"))
	write(t, p("sshd_config"), config, 0o600)

	cmd := exec.Command(sshd, "-D", "-e", "-f", p("sshd_config"))
	cmd.Stderr = s.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.Log())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not listen on port %d: %v\n%s", s.Port, err, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}

	hostPub := readFile(t, p("host.pub"))
	otherPub := readFile(t, p("other-host.pub"))
	hostField := fmt.Sprintf("[127.0.0.1]:%d", s.Port)
	write(t, p("known_hosts"), hostField+" "+hostPub, 0o600)
	write(t, p("other_known_hosts"), hostField+" "+otherPub, 0o600)
	s.SSH = wrapper(t, sshPath, p, "ssh", "user", "known_hosts")
	s.WrongKeySSH = wrapper(t, sshPath, p, "ssh-wrong-key", "other-user", "known_hosts")
	s.WrongHostKeySSH = wrapper(t, sshPath, p, "ssh-wrong-host-key", "user", "other_known_hosts")
	return s
}

// wrapper writes an ssh configuration and a script running ssh with it.
func wrapper(t testing.TB, sshPath string, p func(string) string, name, key, knownHosts string) string {
	conf := fmt.Sprintf(`Host *
	IdentityFile %s
	IdentitiesOnly yes
	IdentityAgent none
	UserKnownHostsFile %s
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	BatchMode yes
	LogLevel ERROR
`, quote(p(key)), quote(p(knownHosts)))
	write(t, p(name+"_config"), conf, 0o600)
	script := fmt.Sprintf("#!/bin/sh\nexec %s -F %s \"$@\"\n", quote(sshPath), quote(p(name+"_config")))
	write(t, p(name), script, 0o755)
	return p(name)
}

// Location returns the URL of the directory rel under Root:
// sftp://user@127.0.0.1:port/<Root>/<rel>, each element escaped.
func (s *Server) Location(rel string) string {
	u := url.URL{Scheme: "sftp", User: url.User(s.User), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)),
		Path: filepath.ToSlash(filepath.Join(s.Root, rel)) + "/"}
	return u.String()
}

// Dir returns the local path of the directory rel under Root.
func (s *Server) Dir(rel string) string { return filepath.Join(s.Root, rel) }

func write(t testing.TB, name, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func copyFile(t testing.TB, from, to string) { write(t, to, readFile(t, from), 0o600) }
