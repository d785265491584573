package storage

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
)

// ClassifyStatus is what an HTTP error status means for a store call, the
// same for every backend that speaks HTTP (HTTP, S3, GCS): 404 missing;
// 408, 429 and 5xx transient (timeouts, throttling, a failing server);
// other 4xx permanent (refused credentials, a missing bucket, a bad
// request); anything else unknown.
func ClassifyStatus(code int) ErrorKind {
	switch {
	case code == http.StatusNotFound:
		return KindMissing
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		return KindTransient
	case code >= 400:
		return KindPermanent
	}
	return KindUnknown
}

// ClassifyNetwork is what a failure below a backend's protocol means, for
// drivers that call over the network; a driver asks it after classifying
// its own protocol's errors. Errors marked [Permanent] or [Transient] keep
// their mark. A certificate not trusted, a TLS alert or an endpoint that
// does not speak TLS, and a host that does not resolve are permanent:
// asking again cannot help. Timeouts, refused, reset or closed
// connections, a body cut short and any other net.Error are transient.
// The caller's cancelled context, and anything else, is unknown.
func ClassifyNetwork(err error) ErrorKind {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return KindUnknown
	case IsPermanent(err):
		return KindPermanent
	case IsTransient(err):
		return KindTransient
	case isTLSFailure(err), errors.As(err, &dns) && dns.IsNotFound:
		return KindPermanent
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, net.ErrClosed), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.As(err, &ne):
		return KindTransient
	}
	return KindUnknown
}

// isTLSFailure reports a TLS failure that repeating cannot fix: the
// server's certificate is not trusted or not for the host, the server
// refused ours (an alert, which a net.OpError "remote error" carries),
// or the endpoint does not speak TLS.
func isTLSFailure(err error) bool {
	var (
		ua     x509.UnknownAuthorityError
		hn     x509.HostnameError
		ci     x509.CertificateInvalidError
		cv     *tls.CertificateVerificationError
		alert  tls.AlertError
		header tls.RecordHeaderError
		op     *net.OpError
	)
	return errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &cv) ||
		errors.As(err, &alert) || errors.As(err, &header) || errors.As(err, &op) && op.Op == "remote error"
}
