package storage

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ClientTLS is the client side TLS of o for a backend that speaks TLS
// (HTTP, S3): TLS 1.2 at least, o.CACert as the only trusted roots when
// set, the o.ClientCert/o.ClientKey pair as the client certificate, and
// verification on unless o.TrustInsecure is set.
func ClientTLS(o Options) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.TrustInsecure}
	if o.CACert != "" {
		pem, err := os.ReadFile(o.CACert)
		if err != nil {
			return nil, fmt.Errorf("ca-cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca-cert %s: no PEM certificate found", o.CACert)
		}
		tc.RootCAs = pool
	}
	if (o.ClientCert == "") != (o.ClientKey == "") {
		return nil, errors.New("client-cert and client-key go together")
	}
	if o.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(o.ClientCert, o.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("client certificate %s / key %s: %w", o.ClientCert, o.ClientKey, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
