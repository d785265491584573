package gcsstore

import (
	"fmt"
	"net/url"
	"strings"
)

// location is a parsed gs://bucket/prefix URL.
type location struct {
	bucket string
	prefix string // without leading or trailing "/"; "" for the bucket's root
}

// parseLocation reads gs://bucket[/prefix]. A user, password, port, query
// or fragment is refused: a bucket is named by its host part alone, and
// credentials never travel in a location. Errors show the location
// redacted.
func parseLocation(loc *url.URL, kind string) (location, error) {
	bad := func(why string) (location, error) {
		return location{}, fmt.Errorf("%s %s: %s", kind, loc.Redacted(), why)
	}
	switch {
	case loc.Scheme != Scheme:
		return bad("not a " + Scheme + ":// location")
	case loc.Host == "":
		return bad("no bucket (want gs://bucket/prefix)")
	case loc.User != nil:
		return bad("a user or password has no place in a gs:// location (credentials come from the environment)")
	case loc.Port() != "":
		return bad("a bucket name has no port")
	case loc.RawQuery != "" || loc.Fragment != "":
		return bad("unexpected query or fragment")
	}
	p := strings.Trim(loc.Path, "/")
	if strings.Contains(p, "//") {
		return bad("empty element in the prefix")
	}
	return location{bucket: loc.Host, prefix: p}, nil
}

// object returns the object name of name (relative to the store).
func (l location) object(name string) string {
	if l.prefix == "" {
		return name
	}
	return l.prefix + "/" + name
}

// listPrefix is the object name prefix of the store's names that start
// with prefix.
func (l location) listPrefix(prefix string) string { return l.object(prefix) }

// relative turns an object name back into the store's name, false if it
// is outside the store.
func (l location) relative(object string) (string, bool) {
	if l.prefix == "" {
		return object, true
	}
	return strings.CutPrefix(object, l.prefix+"/")
}

// String is the location without anything secret: gs://bucket/prefix.
func (l location) String() string {
	if l.prefix == "" {
		return Scheme + "://" + l.bucket
	}
	return Scheme + "://" + l.bucket + "/" + l.prefix
}
