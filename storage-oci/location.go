package ocistore

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"oras.land/oras-go/v2/registry"
)

// Location is a store location parsed: oci+https://host[:port]/repo/path
// (or oci+http:// for a registry without TLS).
type Location struct {
	Host       string // host[:port], as the registry API is addressed
	Repository string // the repository path, lower case
	PlainHTTP  bool   // oci+http
}

// ParseLocation checks a store location. The repository must be a valid
// (lower-case) OCI repository name; user info, a query or a fragment are
// refused (credentials come from the environment, config.json or the
// docker credential store, never the URL).
func ParseLocation(loc *url.URL) (Location, error) {
	var l Location
	switch loc.Scheme {
	case "oci+https":
	case "oci+http":
		l.PlainHTTP = true
	default:
		return l, fmt.Errorf("unsupported scheme %s, expected oci+https or oci+http", loc.Scheme)
	}
	if loc.User != nil {
		return l, fmt.Errorf("store %s: credentials in the URL are not supported (use DESYNC_OCI_USERNAME/DESYNC_OCI_PASSWORD, oci-credentials in config.json, or docker login)", loc.Redacted())
	}
	if loc.RawQuery != "" || loc.Fragment != "" {
		return l, fmt.Errorf("store %s: a query or fragment is not part of an OCI store location", loc.Redacted())
	}
	l.Host = loc.Host
	l.Repository = strings.Trim(loc.Path, "/")
	if l.Host == "" || l.Repository == "" {
		return l, fmt.Errorf("store %s: want %s://host[:port]/repository", loc.Redacted(), loc.Scheme)
	}
	ref := registry.Reference{Registry: l.Host, Repository: l.Repository}
	if err := ref.Validate(); err != nil {
		return l, fmt.Errorf("store %s: %w", loc.Redacted(), err)
	}
	return l, nil
}

// String is the location as a URL.
func (l Location) String() string {
	s := "oci+https://"
	if l.PlainHTTP {
		s = "oci+http://"
	}
	return s + l.Host + "/" + l.Repository
}

// loopback reports whether the registry host is a loopback address or
// "localhost": a token realm on loopback is then no redirection away
// from the registry, and is allowed.
func (l Location) loopback() bool {
	h := l.Host
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}
