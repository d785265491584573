package sftpstore

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// target is where a store lives: the ssh destination and the remote
// directory. It holds no credential (ssh finds keys itself; a password in
// the URL is refused).
type target struct {
	user string // "" for ssh's default
	host string // without brackets
	port string // "" for ssh's default
	dir  string // remote directory, cleaned, without a trailing "/"
}

// parseTarget reads an sftp://[user@]host[:port]/path URL. It refuses, before
// anything is run, what ssh could take for an option (a user or host that
// starts with "-"), control characters in user or host, and a password (ssh
// takes none on its command line; keys and the agent are the way).
func parseTarget(loc *url.URL) (target, error) {
	var t target
	if loc.Scheme != "sftp" {
		return t, fmt.Errorf("not an sftp:// location: scheme %q", loc.Scheme)
	}
	if loc.Opaque != "" {
		return t, errors.New("sftp location: want sftp://[user@]host[:port]/path")
	}
	if loc.User != nil {
		if _, has := loc.User.Password(); has {
			return t, errors.New("sftp location: a password in the URL is not supported (ssh uses your keys and agent)")
		}
		t.user = loc.User.Username()
		if t.user == "" {
			return t, errors.New("sftp location: empty user name")
		}
	}
	t.host, t.port = loc.Hostname(), loc.Port()
	if t.host == "" {
		return t, errors.New("sftp location: no host")
	}
	for what, v := range map[string]string{"user": t.user, "host": t.host} {
		if strings.HasPrefix(v, "-") {
			return t, fmt.Errorf("sftp location: %s %q starts with \"-\": refused (ssh would read it as an option)", what, v)
		}
		if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return t, fmt.Errorf("sftp location: %s %q holds control characters: refused", what, v)
		}
	}
	if loc.RawQuery != "" || loc.Fragment != "" {
		return t, errors.New("sftp location: query and fragment are not supported")
	}
	p := loc.Path
	if p == "" {
		p = "/"
	}
	t.dir = path.Clean(p)
	return t, nil
}

// sshArgs is the argument vector (after the program name) that opens the
// sftp subsystem on t: ssh [-p PORT] [-l USER] -s -- HOST sftp. No shell
// ever sees it; "--" ends ssh's options, so the host cannot be one.
func (t target) sshArgs() []string {
	var a []string
	if t.port != "" {
		a = append(a, "-p", t.port)
	}
	if t.user != "" {
		a = append(a, "-l", t.user)
	}
	return append(a, "-s", "--", t.host, "sftp")
}

// String is the location as sftp://[user@]host[:port]/dir/, for messages.
func (t target) String() string {
	u := url.URL{Scheme: "sftp", Host: t.host, Path: t.dir}
	if strings.Contains(t.host, ":") {
		u.Host = "[" + t.host + "]"
	}
	if t.port != "" {
		u.Host += ":" + t.port
	}
	if t.user != "" {
		u.User = url.User(t.user)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.String()
}

// remote is the remote path of the object name (relative, "/"-separated).
func (t target) remote(name string) string { return path.Join(t.dir, name) }
