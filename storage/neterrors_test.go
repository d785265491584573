package storage

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
)

func TestClassifyStatus(t *testing.T) {
	for code, want := range map[int]ErrorKind{
		200: KindUnknown, 304: KindUnknown, 400: KindPermanent, 401: KindPermanent, 403: KindPermanent,
		404: KindMissing, 408: KindTransient, 429: KindTransient, 500: KindTransient, 503: KindTransient,
	} {
		if got := ClassifyStatus(code); got != want {
			t.Errorf("ClassifyStatus(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestClassifyNetwork(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("store x: %w", err) }
	for _, tc := range []struct {
		name string
		err  error
		want ErrorKind
	}{
		{"nil", nil, KindUnknown},
		{"canceled", wrap(context.Canceled), KindUnknown},
		{"unclassified", errors.New("something"), KindUnknown},
		{"marked permanent", Permanent(errors.New("no")), KindPermanent},
		{"marked transient", Transient(errors.New("later")), KindTransient},
		{"untrusted certificate", wrap(x509.UnknownAuthorityError{}), KindPermanent},
		{"TLS alert from the server", wrap(&net.OpError{Op: "remote error", Err: errors.New("tls: certificate required")}), KindPermanent},
		{"host not found", wrap(&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}), KindPermanent},
		{"DNS server failing", wrap(&net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}), KindTransient},
		{"deadline", wrap(context.DeadlineExceeded), KindTransient},
		{"refused", wrap(syscall.ECONNREFUSED), KindTransient},
		{"reset", wrap(&net.OpError{Op: "read", Err: syscall.ECONNRESET}), KindTransient},
		{"cut short", wrap(io.ErrUnexpectedEOF), KindTransient},
	} {
		if got := ClassifyNetwork(tc.err); got != tc.want {
			t.Errorf("%s: ClassifyNetwork(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
