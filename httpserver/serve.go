package httpserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// ServeOptions configure [Serve].
type ServeOptions struct {
	// CertFile and KeyFile, PEM files, turn on TLS.
	CertFile, KeyFile string
	// MutualTLS requires a client certificate signed by a CA of
	// ClientCAFile, which it needs: without one, any certificate the
	// system's roots trust would be accepted.
	MutualTLS    bool
	ClientCAFile string
	// TLSConfig, if set, is used instead of loading the files above (a
	// caller that checked them with ServerTLSConfig passes its result).
	TLSConfig *tls.Config
	// Timeouts of the http.Server; 0 means the defaults below, negative
	// none. ReadTimeout covers the request body (a chunk upload),
	// WriteTimeout the response.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests once ctx is
	// done (0: DefaultShutdownTimeout); then connections are closed.
	ShutdownTimeout time.Duration
	// Logger receives the server's errors; nil discards them.
	Logger *slog.Logger
}

// Server defaults.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 2 * time.Minute
	DefaultWriteTimeout      = 2 * time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultShutdownTimeout   = 30 * time.Second
)

func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// OptionError is a combination of server options that cannot work, as
// opposed to a file that cannot be read.
type OptionError struct{ msg string }

func (e *OptionError) Error() string { return e.msg }

// ServerTLSConfig returns the TLS configuration of o, or nil without TLS.
// Options that do not go together are an *OptionError.
func ServerTLSConfig(o ServeOptions) (*tls.Config, error) {
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, &OptionError{"--cert and --key go together"}
	}
	if o.CertFile == "" {
		if o.MutualTLS || o.ClientCAFile != "" {
			return nil, &OptionError{"--mutual-tls and --client-ca need TLS (--cert and --key)"}
		}
		return nil, nil
	}
	if o.ClientCAFile != "" && !o.MutualTLS {
		return nil, &OptionError{"--client-ca needs --mutual-tls (otherwise client certificates are not checked)"}
	}
	if o.MutualTLS && o.ClientCAFile == "" {
		return nil, &OptionError{"--mutual-tls needs --client-ca (otherwise any client certificate the system's CAs trust would be accepted)"}
	}
	cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("server certificate %s / key %s: %w", o.CertFile, o.KeyFile, err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if o.MutualTLS {
		pem, err := os.ReadFile(o.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client-ca %s: no PEM certificate found", o.ClientCAFile)
		}
		tc.ClientAuth, tc.ClientCAs = tls.RequireAndVerifyClientCert, pool
	}
	return tc, nil
}

// Serve serves h on the listeners (with TLS if o has a certificate) until
// ctx is done, then shuts down gracefully: the listeners close at once,
// requests in flight finish (up to ShutdownTimeout), idle connections are
// closed. It returns nil after a shutdown caused by ctx, or the first
// listener's error (after shutting down the others). The listeners are
// closed when it returns.
func Serve(ctx context.Context, h http.Handler, lns []net.Listener, o ServeOptions) error {
	if len(lns) == 0 {
		return errors.New("serve: no listener")
	}
	tc := o.TLSConfig
	if tc == nil {
		var err error
		if tc, err = ServerTLSConfig(o); err != nil {
			for _, ln := range lns {
				ln.Close()
			}
			return err
		}
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: orDefault(o.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       orDefault(o.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:      orDefault(o.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:       orDefault(o.IdleTimeout, DefaultIdleTimeout),
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, len(lns))
	var wg sync.WaitGroup
	for _, ln := range lns {
		if tc != nil {
			// HTTP/1.1 only (no "h2" in ALPN), like the client.
			ln = tls.NewListener(ln, tc)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serving on %s: %w", ln.Addr(), err)
			}
		}()
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), orDefault(o.ShutdownTimeout, DefaultShutdownTimeout))
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown: closing connections with requests still running", "error", err)
		srv.Close()
	}
	wg.Wait()
	return serveErr
}

// Listen opens TCP listeners on the addresses (host:port; ":http" and
// ":https" name the ports). On failure the ones opened are closed.
func Listen(addrs []string) ([]net.Listener, error) {
	var lns []net.Listener
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}
