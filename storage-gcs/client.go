package gcsstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/auth/httptransport"
	gcs "cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/folbricht/desync/storage"
)

// EmulatorEnv names the variable that points the client at an emulator
// (such as fake-gcs-server): "host:port" or "http://host:port". The
// client library reads it; with it set, no credentials are looked for.
const EmulatorEnv = "STORAGE_EMULATOR_HOST"

// ConnectTimeout bounds setting up one connection: the TCP dial, and
// the TLS handshake after it. Either takes well under a second with a
// reachable endpoint, so an endpoint that does not answer (a host that
// is down, a firewall that drops packets) fails in seconds, even after
// the retries (3 attempts by default: about 10 s in all), instead of
// waiting out the store's timeout on every attempt. What comes after
// the connection (the server's answer) is bounded by the store timeout
// only: a large listing page or upload may legitimately take longer.
const ConnectTimeout = 3 * time.Second

// scopes are the OAuth scopes the client asks for, the client library's
// own defaults.
var scopes = []string{gcs.ScopeFullControl, "https://www.googleapis.com/auth/cloud-platform"}

// newClient makes the JSON API client of a store: application default
// credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's application
// default login, or the metadata server), or none for an emulator, over
// the store's own transport (see [transport]). Reads use the JSON API
// too, so that every call goes to one endpoint and answers in one error
// form; client metrics and telemetry are off (a command line tool
// exports none).
func newClient(ctx context.Context, o storage.Options) (*gcs.Client, error) {
	base := transport(o)
	hc, err := httptransport.NewClient(&httptransport.Options{
		BaseRoundTripper:      base,
		DisableTelemetry:      true,
		DisableAuthentication: os.Getenv(EmulatorEnv) != "",
		Headers:               http.Header{"User-Agent": {"desync"}},
		DetectOpts: &credentials.DetectOptions{
			Scopes: scopes,
			// Tokens are fetched over the same bounded connections.
			Client: &http.Client{Transport: base},
		},
	})
	if err != nil {
		return nil, err // "credentials: could not find default credentials…"
	}
	return gcs.NewClient(ctx, option.WithHTTPClient(hc), gcs.WithJSONReads(), gcs.WithDisabledClientMetrics(), option.WithTelemetryDisabled())
}

// transport is the HTTP transport of one store: dial and TLS handshake
// bounded by [ConnectTimeout], and idle connections kept for the
// store's concurrency (-n, storage.Options.N; at least 16), so that N
// workers reuse N connections rather than dialling anew. It speaks
// HTTP/1.1: one connection per request in flight, no stream of one
// TCP connection holding up the others.
func transport(o storage.Options) *http.Transport {
	idle := max(o.N, 16) * 2
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dial,
		TLSHandshakeTimeout:   ConnectTimeout,
		MaxIdleConns:          idle,
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// dialer connects within ConnectTimeout.
var dialer = &net.Dialer{Timeout: ConnectTimeout, KeepAlive: 30 * time.Second}

// dial connects to addr; a connection that is not set up in time fails
// as a *ConnectError, which says the endpoint is unreachable.
func dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := dialer.DialContext(ctx, network, addr)
	var ne net.Error
	if err != nil && ctx.Err() == nil && errors.As(err, &ne) && ne.Timeout() {
		return nil, &ConnectError{Addr: addr, After: ConnectTimeout, Err: err}
	}
	return c, err
}

// ConnectError is a connection to the endpoint that could not be set up
// within ConnectTimeout: nothing answers there. It is transient, as any
// timeout (the retries are few and short).
type ConnectError struct {
	Addr  string
	After time.Duration
	Err   error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("endpoint %s unreachable: no connection within %v", e.Addr, e.After)
}

func (e *ConnectError) Unwrap() error   { return e.Err }
func (e *ConnectError) Timeout() bool   { return true }
func (e *ConnectError) Temporary() bool { return true }
func (e *ConnectError) Transient() bool { return true }
