package sshstore

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Location is a parsed ssh:// store location:
// ssh://[user@]host[:port]/path.
type Location struct {
	User string // empty: ssh's default
	Host string // a name or an address (IPv6 without brackets)
	Port string // empty: ssh's default
	Path string // the store's directory on the remote host, decoded
}

// ParseDestination reads the ssh destination of a URL of any scheme
// (ssh://, sftp://): [user@]host[:port] and the path, decoded. It refuses,
// before any ssh runs, what ssh could take for an option (a host or user
// starting with "-"; both reach ssh's argv after "--" anyway), spaces and
// control characters in them, passwords (ssh takes none on its command
// line: use keys or an agent), an opaque form, a bad port, queries and
// fragments. Errors name the URL without its password.
func ParseDestination(u *url.URL) (Location, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%s location %s: %s", u.Scheme, redacted(u), fmt.Sprintf(format, a...))
	}
	if u.Opaque != "" {
		return Location{}, bad("want %s://[user@]host[:port]/path", u.Scheme)
	}
	l := Location{Host: u.Hostname(), Port: u.Port(), Path: u.Path}
	if u.User != nil {
		l.User = u.User.Username()
		if _, set := u.User.Password(); set {
			return Location{}, bad("a password cannot be given in the location (use an ssh key or agent)")
		}
		if l.User == "" {
			return Location{}, bad("empty user name")
		}
	}
	for _, f := range []struct{ what, v string }{{"host", l.Host}, {"user", l.User}} {
		if strings.HasPrefix(f.v, "-") {
			return Location{}, bad("%s %q starts with '-': refused (ssh would read it as an option)", f.what, f.v)
		}
		if strings.ContainsFunc(f.v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return Location{}, bad("%s %q holds a space or control character: refused", f.what, f.v)
		}
	}
	if l.Host == "" {
		return Location{}, bad("no host")
	}
	if l.Port != "" {
		if p, err := strconv.Atoi(l.Port); err != nil || p < 1 || p > 65535 {
			return Location{}, bad("bad port %q", l.Port)
		}
	}
	if strings.ContainsRune(l.Path, 0) {
		return Location{}, bad("the path holds a NUL byte")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return Location{}, bad("%s locations take no query or fragment", u.Scheme)
	}
	return l, nil
}

// ParseLocation checks an ssh:// store location: an ssh destination
// (ParseDestination) with a store path.
func ParseLocation(u *url.URL) (Location, error) {
	if u.Scheme != "ssh" {
		return Location{}, fmt.Errorf("ssh location %s: scheme %q is not ssh", redacted(u), u.Scheme)
	}
	l, err := ParseDestination(u)
	if err != nil {
		return Location{}, err
	}
	if l.Path == "" || l.Path == "/" {
		return Location{}, fmt.Errorf("ssh location %s: no store path", redacted(u))
	}
	return l, nil
}

func redacted(u *url.URL) string {
	v := *u
	if v.User != nil {
		v.User = url.User(v.User.Username())
	}
	return v.String()
}

// String returns the location as a URL (never with a password).
func (l Location) String() string {
	u := url.URL{Scheme: "ssh", Host: l.Host, Path: l.Path}
	if strings.Contains(l.Host, ":") {
		u.Host = "[" + l.Host + "]"
	}
	if l.Port != "" {
		u.Host += ":" + l.Port
	}
	if l.User != "" {
		u.User = url.User(l.User)
	}
	return u.String()
}

// Args returns the arguments of the ssh command that runs the pull server
// for the store: [-p PORT] -- [USER@]HOST "REMOTE pull - - - 'PATH'".
// The last argument is a command line for the remote shell (sshd hands it
// to the login shell, as casync's and desync's remotes expect), so the
// path is quoted for a POSIX shell; remote (the program, from
// CASYNC_REMOTE_PATH) is taken as it is, as casync does.
func (l Location) Args(remote string) []string {
	var args []string
	if l.Port != "" {
		args = append(args, "-p", l.Port)
	}
	dest := l.Host
	if l.User != "" {
		dest = l.User + "@" + l.Host
	}
	return append(args, "--", dest, remote+" pull - - - "+ShellQuote(l.Path))
}

// ShellQuote quotes s as one word for a POSIX shell: in single quotes,
// inside which nothing is special; a single quote inside s ends the
// quoted part, is written escaped (backslash, quote) and a new part begins.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// errClosed is the failure of a call on a closed store.
var errClosed = errors.New("store is closed")
