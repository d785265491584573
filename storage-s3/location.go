package s3store

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
)

// Location is a parsed store location:
// s3+http[s]://host[:port]/bucket[/prefix][?lookup=path|dns|auto].
type Location struct {
	Endpoint string // host[:port]
	Secure   bool   // s3+https
	Bucket   string
	Prefix   string // without leading or trailing "/"; "" for the bucket's root
	Lookup   minio.BucketLookupType
	scheme   string
	lookup   string // as given, for String
}

// ParseLocation reads an s3+http or s3+https URL. The first path element
// is the bucket (whatever the lookup style: minio-go puts it in the host
// name for dns lookups), the rest the prefix of every object name. A
// location holding a user or password is refused: credentials come from
// Options.Credentials (config.json's s3-credentials, the environment) and
// never from a URL, which is printed in messages.
func ParseLocation(u *url.URL) (*Location, error) {
	l := &Location{Endpoint: u.Host, scheme: u.Scheme}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("s3 location %s: "+format, append([]any{l.redacted(u)}, args...)...)
	}
	switch u.Scheme {
	case "s3+http":
	case "s3+https":
		l.Secure = true
	default:
		return nil, bad("scheme %q is not s3+http or s3+https", u.Scheme)
	}
	if u.User != nil {
		return nil, bad("credentials do not belong in the location (use config.json's s3-credentials or S3_ACCESS_KEY/S3_SECRET_KEY)")
	}
	if u.Host == "" {
		return nil, bad("no host")
	}
	if u.Opaque != "" {
		return nil, bad("not a hierarchical URL")
	}
	p := strings.Trim(u.Path, "/")
	bucket, prefix, _ := strings.Cut(p, "/")
	if bucket == "" {
		return nil, bad("no bucket (want %s://host/bucket[/prefix])", u.Scheme)
	}
	l.Bucket, l.Prefix = bucket, strings.Trim(prefix, "/")
	if strings.Contains(l.Prefix, "//") {
		return nil, bad("empty element in prefix %q", l.Prefix)
	}
	q := u.Query()
	for k := range q {
		if k != "lookup" {
			return nil, bad("unknown parameter %q (known: lookup)", k)
		}
	}
	l.lookup = q.Get("lookup")
	switch l.lookup {
	case "", "auto":
		l.Lookup = minio.BucketLookupAuto
	case "path":
		l.Lookup = minio.BucketLookupPath
	case "dns":
		l.Lookup = minio.BucketLookupDNS
	default:
		return nil, bad("lookup=%q: want path, dns or auto", l.lookup)
	}
	return l, nil
}

// redacted names u without its password (for the errors of parsing).
func (l *Location) redacted(u *url.URL) string {
	v := *u
	if v.User != nil {
		v.User = url.User("[redacted]")
	}
	return v.String()
}

// String is the location as a user writes it, without credentials:
// s3+http://host:port/bucket/prefix (and the lookup if one was given).
func (l *Location) String() string {
	s := l.scheme + "://" + l.Endpoint + "/" + l.Bucket
	if l.Prefix != "" {
		s += "/" + l.Prefix
	}
	if l.lookup != "" {
		s += "?lookup=" + l.lookup
	}
	return s
}

// Key is the object key of name (relative, "/"-separated) in the store.
func (l *Location) Key(name string) string {
	if l.Prefix == "" {
		return name
	}
	return l.Prefix + "/" + name
}

// listPrefix is the key prefix under which the objects whose names start
// with prefix are found.
func (l *Location) listPrefix(prefix string) string {
	if l.Prefix == "" {
		return prefix
	}
	return l.Prefix + "/" + prefix
}

// Name is the store's name of key, and false for a key outside the store.
func (l *Location) Name(key string) (string, bool) {
	if l.Prefix == "" {
		return key, true
	}
	return strings.CutPrefix(key, l.Prefix+"/")
}
