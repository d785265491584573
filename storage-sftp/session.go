package sftpstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/folbricht/desync/storage"
	"github.com/pkg/sftp"
)

// SSHPathEnv names the environment variable holding the ssh program to run
// (as in casync and desync); unset or empty means "ssh", found in PATH.
const SSHPathEnv = "CASYNC_SSH_PATH"

// DefaultConnectTimeout bounds the start of a session (ssh connecting,
// authenticating and starting the sftp subsystem) when the store's
// Timeout is 0.
const DefaultConnectTimeout = 20 * time.Second

// session is one ssh process running the remote sftp subsystem, and the
// SFTP client speaking to it over the process's stdin and stdout.
type session struct {
	cmd    *exec.Cmd
	client *sftp.Client
	stderr *stderrTail
	stdin  io.WriteCloser
	stdout *os.File
	done   chan struct{} // closed once the process has exited
	dead   atomic.Bool   // the connection is lost: never reuse
	posix  bool          // the server renames with posix-rename@openssh.com
	once   sync.Once
}

// stderrTail keeps the first bytes ssh writes to its stderr, for messages.
type stderrTail struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const stderrKeep = 4 << 10

func (s *stderrTail) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if room := stderrKeep - s.buf.Len(); room > 0 {
		s.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// line returns the line of ssh's stderr that says what went wrong: the
// first that holds key if it is not empty, else the first one that is not
// a warning (ssh warns about hosts it adds to known_hosts, say), else the
// first.
func (s *stderrTail) line(key string) string {
	s.mu.Lock()
	text := s.buf.String()
	s.mu.Unlock()
	var first string
	for l := range strings.SplitSeq(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if key != "" {
			if strings.Contains(l, key) {
				return l
			}
			continue
		}
		if first == "" {
			first = l
		}
		if !strings.HasPrefix(l, "Warning:") && !strings.HasPrefix(l, "@") {
			return l
		}
	}
	return first
}

func (s *stderrTail) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// sshProgram is the ssh command to run.
func sshProgram() string {
	if p := os.Getenv(SSHPathEnv); p != "" {
		return p
	}
	return "ssh"
}

// dial starts ssh for t, opens the SFTP session and checks that the
// store's directory exists. It gives up (killing ssh) when ctx ends or
// after timeout (none if negative). Its errors are marked permanent or
// transient (see setupError).
func dial(ctx context.Context, t target, timeout time.Duration, opts []sftp.ClientOption) (*session, error) {
	prog := sshProgram()
	cmd := exec.Command(prog, t.sshArgs()...)
	s := &session{cmd: cmd, stderr: &stderrTail{}, done: make(chan struct{})}
	cmd.Stderr = s.stderr
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// Our own pipe for ssh's stdout, not cmd.StdoutPipe: Wait would close
	// its reader when ssh exits, maybe before the client has read all.
	r, pw, err := os.Pipe()
	if err != nil {
		w.Close()
		return nil, err
	}
	cmd.Stdout = pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		r.Close()
		return nil, storage.Permanent(fmt.Errorf("running %s (%s): %v", prog, SSHPathEnv, err))
	}
	s.stdin, s.stdout = w, r
	go func() {
		cmd.Wait()
		s.dead.Store(true)
		close(s.done)
	}()

	// Give up on the start when ctx ends or the timeout passes.
	var expired atomic.Bool
	stop := context.AfterFunc(ctx, s.kill)
	defer stop()
	if timeout >= 0 {
		if timeout == 0 {
			timeout = DefaultConnectTimeout
		}
		tm := time.AfterFunc(timeout, func() { expired.Store(true); s.kill() })
		defer tm.Stop()
	}

	fail := func(err error) (*session, error) {
		defer s.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if expired.Load() {
			return nil, storage.Permanent(fmt.Errorf("host unreachable: no ssh session within %v", timeout))
		}
		return nil, s.setupError(err)
	}
	c, err := sftp.NewClientPipe(r, w, opts...)
	if err != nil {
		return fail(err)
	}
	s.client = c
	go func() {
		c.Wait()
		s.dead.Store(true)
	}()
	_, s.posix = c.HasExtension("posix-rename@openssh.com")
	fi, err := c.Stat(t.dir)
	switch {
	case err == nil && !fi.IsDir():
		s.Close()
		return nil, storage.Permanent(fmt.Errorf("remote path %q is not a directory", t.dir))
	case errors.Is(err, os.ErrNotExist):
		s.Close()
		return nil, storage.Permanent(fmt.Errorf("remote directory %q does not exist", t.dir))
	case errors.Is(err, os.ErrPermission):
		s.Close()
		return nil, storage.Permanent(fmt.Errorf("remote directory %q: permission denied", t.dir))
	case err != nil:
		return fail(err)
	}
	return s, nil
}

// setupError says why a session did not start: ssh's exit and the line
// of its stderr that explains it, marked permanent (refused login, a host
// key that does not match, a host that refuses, does not answer or does
// not resolve, no sftp subsystem) or transient (a connection dropped
// during the handshake, as sshd does when too many start at once).
func (s *session) setupError(err error) error {
	// Wait for ssh to exit so that its stderr is complete.
	exited := false
	select {
	case <-s.done:
		exited = true
	case <-time.After(2 * time.Second):
	}
	all := s.stderr.text()
	msg, kind, key := "ssh session failed", storage.KindPermanent, ""
	for _, r := range setupReasons {
		for _, k := range r.keys {
			if key == "" && strings.Contains(all, k) {
				msg, kind, key = r.msg, r.kind, k
			}
		}
	}
	line := s.stderr.line(key)
	if code := s.cmd.ProcessState; exited && code != nil && !code.Success() {
		msg += fmt.Sprintf(" (ssh exit status %d)", code.ExitCode())
	}
	if line != "" {
		msg += ": ssh: " + strings.TrimPrefix(line, "ssh: ")
	} else {
		msg += fmt.Sprintf(": %v", err)
	}
	e := errors.New(msg)
	if kind == storage.KindTransient {
		return storage.Transient(e)
	}
	return storage.Permanent(e)
}

// setupReasons are the reasons a session does not start, told by what
// ssh writes to its stderr; the first that matches wins.
var setupReasons = []struct {
	keys []string
	msg  string
	kind storage.ErrorKind
}{
	{[]string{"Permission denied", "Too many authentication failures"}, "authentication failed", storage.KindPermanent},
	{[]string{"Host key verification failed", "HOST IDENTIFICATION HAS CHANGED", "No ED25519 host key is known", "host key is known"}, "host key verification failed", storage.KindPermanent},
	{[]string{"Connection refused", "Could not resolve", "Name or service not known", "No route to host", "Network is unreachable", "Connection timed out"}, "host unreachable", storage.KindPermanent},
	{[]string{"subsystem request failed"}, "no sftp subsystem on the server", storage.KindPermanent},
	{[]string{"kex_exchange_identification", "Connection closed", "Connection reset", "Broken pipe"}, "connection lost while starting the session", storage.KindTransient},
}

// kill ends the ssh process at once; every call in flight on the session
// fails as a lost connection.
func (s *session) kill() {
	s.dead.Store(true)
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
	}
}

// Close ends the session: it closes ssh's stdin (ssh then exits), and
// kills ssh if it has not exited a second later.
func (s *session) Close() error {
	s.once.Do(func() {
		s.dead.Store(true)
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			if s.client != nil {
				s.client.Close()
			} else {
				s.stdin.Close()
			}
		}()
		select {
		case <-s.done:
		case <-time.After(time.Second):
			s.kill()
			<-s.done
		}
		s.stdout.Close() // ends the client's reader if a child of ssh holds the pipe
		<-closed
	})
	return nil
}

var _ io.Closer = (*session)(nil)
