package s3store

import (
	"net/url"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

func TestParseLocation(t *testing.T) {
	for _, tc := range []struct {
		in             string
		endpoint       string
		secure         bool
		bucket, prefix string
		lookup         minio.BucketLookupType
		str            string
	}{
		{"s3+http://127.0.0.1:9000/bucket", "127.0.0.1:9000", false, "bucket", "", minio.BucketLookupAuto, "s3+http://127.0.0.1:9000/bucket"},
		{"s3+http://127.0.0.1:9000/bucket/", "127.0.0.1:9000", false, "bucket", "", minio.BucketLookupAuto, "s3+http://127.0.0.1:9000/bucket"},
		{"s3+https://s3.amazonaws.com/b/some/prefix/", "s3.amazonaws.com", true, "b", "some/prefix", minio.BucketLookupAuto, "s3+https://s3.amazonaws.com/b/some/prefix"},
		{"s3+https://h/b/p?lookup=path", "h", true, "b", "p", minio.BucketLookupPath, "s3+https://h/b/p?lookup=path"},
		{"s3+https://h/b/p?lookup=dns", "h", true, "b", "p", minio.BucketLookupDNS, "s3+https://h/b/p?lookup=dns"},
		{"s3+https://h/b/p?lookup=auto", "h", true, "b", "p", minio.BucketLookupAuto, "s3+https://h/b/p?lookup=auto"},
	} {
		u, err := url.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		l, err := ParseLocation(u)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if l.Endpoint != tc.endpoint || l.Secure != tc.secure || l.Bucket != tc.bucket || l.Prefix != tc.prefix || l.Lookup != tc.lookup {
			t.Errorf("%s: got %+v", tc.in, l)
		}
		if l.String() != tc.str {
			t.Errorf("%s: String() = %q, want %q", tc.in, l.String(), tc.str)
		}
	}
}

func TestParseLocationRefused(t *testing.T) {
	for in, want := range map[string]string{
		"s3+http://host":                         "no bucket",
		"s3+http://host/":                        "no bucket",
		"s3+http:///bucket":                      "no host",
		"s3+http://host/b?lookup=virtual":        "lookup",
		"s3+http://host/b?region=x":              `unknown parameter "region"`,
		"s3+http://key:topsecret@host/b":         "credentials do not belong",
		"s3://host/b":                            "not s3+http or s3+https",
		"s3+http://host/b/a//c":                  "empty element",
		"s3+https://key:topsecret@host/b?lookup": "credentials do not belong",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseLocation(u)
		switch {
		case err == nil:
			t.Errorf("%s: accepted", in)
		case !strings.Contains(err.Error(), want):
			t.Errorf("%s: %v, want it to say %q", in, err, want)
		case strings.Contains(err.Error(), "topsecret"):
			t.Errorf("%s: the error shows the password: %v", in, err)
		}
	}
}

func TestLocationNames(t *testing.T) {
	for _, tc := range []struct {
		prefix, name, key string
	}{
		{"", "abcd/abcdef.cacnk", "abcd/abcdef.cacnk"},
		{"p/q", "abcd/abcdef.cacnk", "p/q/abcd/abcdef.cacnk"},
	} {
		l := &Location{Bucket: "b", Prefix: tc.prefix}
		if k := l.Key(tc.name); k != tc.key {
			t.Errorf("prefix %q: Key(%q) = %q, want %q", tc.prefix, tc.name, k, tc.key)
		}
		if n, ok := l.Name(tc.key); !ok || n != tc.name {
			t.Errorf("prefix %q: Name(%q) = %q, %v", tc.prefix, tc.key, n, ok)
		}
	}
	l := &Location{Bucket: "b", Prefix: "p"}
	if _, ok := l.Name("pq/abcd/x.cacnk"); ok {
		t.Error("a key of the sibling prefix pq/ is in the store of prefix p")
	}
	if p := l.listPrefix(""); p != "p/" {
		t.Errorf("listPrefix = %q, want p/", p)
	}
}
