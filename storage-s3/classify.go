package s3store

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/folbricht/desync/storage"
	"github.com/minio/minio-go/v7"
)

// Error is a failed S3 request: the operation, the object's key in its
// bucket, and the server's answer (a minio.ErrorResponse) or the failure
// to get one. Its message says what the S3 error code means for the user
// (a wrong secret, a missing bucket, …); it never holds a credential.
type Error struct {
	Op     string // "GET", "HEAD", "PUT", "DELETE", "LIST", "HEAD bucket"
	Bucket string
	Key    string
	Err    error
}

func (e *Error) Error() string {
	what := e.Bucket
	if e.Key != "" {
		what += "/" + e.Key
	}
	var r minio.ErrorResponse
	if errors.As(e.Err, &r) && r.Code != "" {
		if hint, ok := hints[r.Code]; ok {
			return fmt.Sprintf("%s %s: %s: %s (%s, HTTP %d)", e.Op, what, fmt.Sprintf(hint, e.Bucket), r.Error(), r.Code, r.StatusCode)
		}
		return fmt.Sprintf("%s %s: %s (%s, HTTP %d)", e.Op, what, r.Error(), r.Code, r.StatusCode)
	}
	return fmt.Sprintf("%s %s: %v", e.Op, what, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// hints say what an S3 error code means, for the errors users see; %s is
// the bucket (or ignored with %.0s).
var hints = map[string]string{
	"AccessDenied":          "access denied to bucket %s (check the credentials and the bucket's policy)",
	"InvalidAccessKeyId":    "%.0sthe server does not know the access key (wrong access key)",
	"XAdminUserNotFound":    "%.0sthe server does not know the access key (wrong access key)",
	"SignatureDoesNotMatch": "%.0sthe request signature does not match (wrong secret key)",
	"NoSuchBucket":          "bucket %s does not exist",
	"InvalidBucketName":     "%q is not a valid bucket name",
	"ExpiredToken":          "%.0sthe session token has expired",
	"InvalidToken":          "%.0sthe session token is not valid",
	"AllAccessDisabled":     "all access to bucket %s is disabled",
	"AccountProblem":        "%.0sthe account has a problem that prevents access",
	"SlowDown":              "%.0sthe server asks to slow down (throttled)",
}

// permanentCodes are S3 error codes that repeating the request cannot
// cure, whatever their HTTP status.
var permanentCodes = map[string]bool{
	"AccessDenied": true, "InvalidAccessKeyId": true, "SignatureDoesNotMatch": true,
	"NoSuchBucket": true, "InvalidBucketName": true, "ExpiredToken": true, "InvalidToken": true,
	"AllAccessDisabled": true, "AccountProblem": true, "InvalidArgument": true,
	"AuthorizationHeaderMalformed": true, "InvalidRegion": true, "MethodNotAllowed": true,
	"NotImplemented": true, "InvalidObjectName": true, "InvalidRequest": true,
}

// transientCodes are S3 error codes worth another try (throttling, a busy
// or failing server).
var transientCodes = map[string]bool{
	"SlowDown": true, "SlowDownRead": true, "SlowDownWrite": true, "InternalError": true,
	"ServiceUnavailable": true, "RequestTimeout": true,
	"OperationAborted": true, "XMinioServerNotInitialized": true, "TooManyRequests": true,
}

// classify says what an error of the driver means:
//
//   - missing: NoSuchKey (the driver has made sure the bucket exists);
//   - permanent: refused credentials (AccessDenied, InvalidAccessKeyId,
//     SignatureDoesNotMatch, expired or bad tokens), NoSuchBucket, other
//     4xx answers, TLS and certificate failures, a host that does not
//     resolve, a request minio-go refuses to send;
//   - transient: throttling (503 SlowDown, 429), 5xx answers, 408,
//     timeouts, refused or reset connections, a connection that ends
//     early;
//   - unknown: anything else (a canceled context).
func classify(err error) storage.ErrorKind {
	if err == nil {
		return storage.KindUnknown
	}
	var r minio.ErrorResponse
	if errors.As(err, &r) && (r.Code != "" || r.StatusCode != 0) {
		switch {
		case r.Code == "NoSuchKey" || r.Code == "NoSuchVersion":
			return storage.KindMissing
		case transientCodes[r.Code]:
			return storage.KindTransient
		case permanentCodes[r.Code]:
			return storage.KindPermanent
		case r.StatusCode == http.StatusNotFound:
			return storage.KindPermanent // not NoSuchKey: a missing bucket or endpoint
		}
		if k := storage.ClassifyStatus(r.StatusCode); k != storage.KindUnknown {
			return k
		}
	}
	return storage.ClassifyNetwork(err)
}
