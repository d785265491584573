package ocistore

import (
	"net"
	"net/http"
	"net/netip"
	"time"

	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/folbricht/desync/storage"
)

// DefaultTimeout bounds one request when storage.Options.Timeout is 0,
// desync's default.
const DefaultTimeout = time.Minute

// ConnectTimeout bounds setting up a connection: the TCP dial, and the TLS
// handshake after it. A reachable registry takes well under a second for
// either, so one that does not answer (a host that is down, a firewall
// that drops packets, a port that accepts and stays silent) fails within
// seconds even after the retries, instead of waiting out the request
// timeout on every attempt.
const ConnectTimeout = 3 * time.Second

// newHTTPClient is the HTTP client of one store: a pool of o.N idle
// connections (desync's -n, 10 if unset), the request timeout, and the
// TLS settings of the options (ca-cert, client-cert/-key, trust-insecure)
// as every HTTP backend has them. No retries here: storage.Retry retries
// what Classify calls transient.
func newHTTPClient(o storage.Options) (*http.Client, error) {
	tc, err := storage.ClientTLS(o)
	if err != nil {
		return nil, err
	}
	n := o.N
	if n <= 0 {
		n = 10
	}
	dialer := &net.Dialer{Timeout: ConnectTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tc,
		MaxIdleConns:          max(100, n),
		MaxIdleConnsPerHost:   n,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   ConnectTimeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true, // chunks are compressed already, or meant not to be
	}
	return &http.Client{Transport: tr, Timeout: o.RequestTimeout(DefaultTimeout)}, nil
}

// newAuthClient wraps hc in oras's auth client: it answers the registry's
// challenges (basic, or the bearer token exchange with the realm the
// registry names) with the credentials of cred and caches the tokens.
// The realm denylist is oras's default, except that a registry on
// loopback may name a realm on loopback.
func newAuthClient(hc *http.Client, l Location, cred auth.CredentialFunc) *auth.Client {
	c := &auth.Client{
		Client:     hc,
		Header:     http.Header{"User-Agent": {"desync"}},
		Cache:      auth.NewCache(),
		Credential: cred,
	}
	if l.loopback() {
		var keep []netip.Prefix
		for _, p := range auth.DefaultBlockedRealmPrefixes() {
			if !p.Addr().IsLoopback() {
				keep = append(keep, p)
			}
		}
		c.BlockedRealmPrefixes = keep
	}
	return c
}
