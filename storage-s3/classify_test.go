package s3store

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/folbricht/desync/storage"
	"github.com/minio/minio-go/v7"
)

func s3err(code string, status int) error {
	return minio.ErrorResponse{Code: code, StatusCode: status, Message: "message of " + code}
}

func TestClassify(t *testing.T) {
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: &timeoutErr{}}
	for _, tc := range []struct {
		name string
		err  error
		want storage.ErrorKind
	}{
		{"NoSuchKey", s3err("NoSuchKey", 404), storage.KindMissing},
		{"NoSuchBucket", s3err("NoSuchBucket", 404), storage.KindPermanent},
		{"AccessDenied", s3err("AccessDenied", 403), storage.KindPermanent},
		{"InvalidAccessKeyId", s3err("InvalidAccessKeyId", 403), storage.KindPermanent},
		{"SignatureDoesNotMatch", s3err("SignatureDoesNotMatch", 403), storage.KindPermanent},
		{"ExpiredToken", s3err("ExpiredToken", 400), storage.KindPermanent},
		{"other 4xx", s3err("BadDigest", 400), storage.KindPermanent},
		{"SlowDown 503", s3err("SlowDown", 503), storage.KindTransient},
		{"429", s3err("", 429), storage.KindTransient},
		{"500", s3err("InternalError", 500), storage.KindTransient},
		{"502 without a code", s3err("502 Bad Gateway", 502), storage.KindTransient},
		{"RequestTimeout", s3err("RequestTimeout", 400), storage.KindTransient},
		{"wrapped", &Error{Op: "GET", Bucket: "b", Err: s3err("SlowDown", 503)}, storage.KindTransient},
		{"timeout", &url.Error{Op: "Get", URL: "http://x", Err: timeout}, storage.KindTransient},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), storage.KindTransient},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), storage.KindUnknown},
		{"reset", &url.Error{Op: "Put", URL: "http://x", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}, storage.KindTransient},
		{"refused", &url.Error{Op: "Put", URL: "http://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, storage.KindTransient},
		{"short body", io.ErrUnexpectedEOF, storage.KindTransient},
		{"no such host", &url.Error{Op: "Get", URL: "http://x", Err: &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}}, storage.KindPermanent},
		{"bad certificate", &url.Error{Op: "Get", URL: "https://x", Err: x509.UnknownAuthorityError{}}, storage.KindPermanent},
		{"marked permanent", storage.Permanent(errors.New("x")), storage.KindPermanent},
		{"plain", errors.New("what"), storage.KindUnknown},
		{"nil", nil, storage.KindUnknown},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("%s: classify(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

type timeoutErr struct{}

func (*timeoutErr) Error() string   { return "i/o timeout" }
func (*timeoutErr) Timeout() bool   { return true }
func (*timeoutErr) Temporary() bool { return true }

// TestErrorSaysWhich: the message of a refused request says what went
// wrong in words, with the S3 code and the HTTP status.
func TestErrorSaysWhich(t *testing.T) {
	for code, want := range map[string]string{
		"AccessDenied":          "access denied to bucket b",
		"InvalidAccessKeyId":    "wrong access key",
		"SignatureDoesNotMatch": "wrong secret key",
		"NoSuchBucket":          "bucket b does not exist",
		"SlowDown":              "throttled",
	} {
		e := &Error{Op: "PUT", Bucket: "b", Key: "p/abcd/abcd.cacnk", Err: s3err(code, http.StatusForbidden)}
		msg := e.Error()
		for _, w := range []string{want, code, "HTTP 403", "PUT b/p/abcd/abcd.cacnk"} {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q does not say %q", code, msg, w)
			}
		}
	}
}
