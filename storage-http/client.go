package httpstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/folbricht/desync/storage"
)

// DefaultTimeout bounds one request (connecting, sending, and reading the
// whole response) when storage.Options.Timeout is 0. It is desync's default.
const DefaultTimeout = time.Minute

// newClient builds the HTTP client of one store from its options: an idle
// connection pool of o.N connections per host (so -n concurrent requests
// reuse their connections), the request timeout, and the TLS settings
// (CA file, client certificate, trust-insecure).
func newClient(o storage.Options) (*http.Client, error) {
	tc, err := storage.ClientTLS(o)
	if err != nil {
		return nil, err
	}
	n := o.N
	if n <= 0 {
		n = 10 // desync's -n default
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:           http.ProxyFromEnvironment,
		DialContext:     dialer.DialContext,
		TLSClientConfig: tc,
		// HTTP/1.1 on a pool of N connections, as desync: HTTP/2 would
		// multiplex the requests on one connection, and hides TLS
		// failures such as a refused client certificate behind
		// "client conn could not be established".
		ForceAttemptHTTP2:     false,
		MaxIdleConns:          max(100, n),
		MaxIdleConnsPerHost:   n,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Chunks are compressed already (or deliberately not); a
		// transparent gzip layer would only cost CPU.
		DisableCompression: true,
	}
	return &http.Client{Transport: tr, Timeout: o.RequestTimeout(DefaultTimeout)}, nil
}

// baseURL checks a store location and returns it with a trailing slash.
func baseURL(loc *url.URL) (*url.URL, error) {
	if loc.Scheme != "http" && loc.Scheme != "https" {
		return nil, fmt.Errorf("store location %s: scheme %q is not http or https", loc.Redacted(), loc.Scheme)
	}
	if loc.Host == "" {
		return nil, fmt.Errorf("store location %s: no host", loc.Redacted())
	}
	u := *loc
	u.Fragment, u.RawFragment = "", ""
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return &u, nil
}

// join returns base with the escaped relative path rel appended (rel holds
// only characters that need no escaping, or is escaped already). The
// query of base, if any, is kept: some CDNs sign URLs with one.
func join(base *url.URL, rel string) string {
	u := *base
	u.RawPath = base.EscapedPath() + rel
	p, err := url.PathUnescape(u.RawPath)
	if err != nil { // cannot happen: rel is escaped
		p = u.RawPath
	}
	u.Path = p
	return u.String()
}

// StatusError is an HTTP response whose status is not what the request
// expected. It names the method, the URL and the status. Statuses that may
// clear up on their own (5xx, 408, 429) are transient, so a
// storage.Retry repeats the request; other statuses are wrapped in
// storage.Permanent by the store methods.
type StatusError struct {
	Method string
	URL    string
	Code   int
	Status string // "503 Service Unavailable"
	Detail string // the start of the response body, sanitised; may be empty
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: %s", e.Method, e.URL, e.Status)
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// Transient reports whether repeating the request may succeed.
func (e *StatusError) Transient() bool {
	return storage.ClassifyStatus(e.Code) == storage.KindTransient
}

// maxDetail is how much of an error response's body a StatusError quotes.
const maxDetail = 120

// statusError reads a little of resp's body (a server's message is not
// trusted: it is cut short and stripped of anything but printable text)
// and returns the error, marked permanent unless it is transient.
func statusError(method, u string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxDetail))
	detail := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, string(b))
	status := resp.Status
	if status == "" {
		status = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	e := &StatusError{Method: method, URL: u, Code: resp.StatusCode, Status: status, Detail: strings.TrimSpace(detail)}
	if e.Transient() {
		return e
	}
	return storage.Permanent(e)
}

// drain reads what is left of a response body (up to a limit, so the
// connection can be reused) and closes it.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// redact returns u without a password, for messages.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Redacted()
}

// requestFailure is the failure of a request that got no response, named
// by what it was for ("store S: chunk X") and its method. The message leaves
// out the request's URL, which would name the store and the chunk again.
type requestFailure struct {
	what string
	err  *url.Error
}

func (e *requestFailure) Error() string {
	msg := strings.ToUpper(e.err.Op) + ": " + e.err.Err.Error()
	if e.what == "" {
		return msg
	}
	return e.what + ": " + msg
}

func (e *requestFailure) Unwrap() error { return e.err }

// requestError wraps the failure of a request that got no response. What
// storage.ClassifyNetwork calls permanent (TLS failures: an untrusted or
// mismatched certificate, the server refusing ours; a host that does not
// resolve) is marked permanent: repeating the request cannot fix it. The
// caller's cancelled context is left unmarked. Anything else (refused or
// reset connections, timeouts) is marked transient.
func requestError(what string, err error) error {
	if ue, ok := err.(*url.Error); ok {
		err = &requestFailure{what: what, err: ue}
	} else if what != "" {
		err = fmt.Errorf("%s: %w", what, err)
	}
	switch {
	case storage.ClassifyNetwork(err) == storage.KindPermanent:
		return storage.Permanent(err)
	case errors.Is(err, context.Canceled):
		return err
	}
	return storage.Transient(err)
}
