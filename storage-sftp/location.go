package sftpstore

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/folbricht/desync/storage/sshstore"
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

// parseTarget reads an sftp://[user@]host[:port]/path URL; the destination
// is checked as every ssh destination is (sshstore.ParseDestination: what
// ssh could take for an option, control characters and passwords are
// refused before anything runs). No path is the remote root.
func parseTarget(loc *url.URL) (target, error) {
	if loc.Scheme != "sftp" {
		return target{}, fmt.Errorf("not an sftp:// location: scheme %q", loc.Scheme)
	}
	l, err := sshstore.ParseDestination(loc)
	if err != nil {
		return target{}, err
	}
	p := l.Path
	if p == "" {
		p = "/"
	}
	return target{user: l.User, host: l.Host, port: l.Port, dir: path.Clean(p)}, nil
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
