package cli

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/folbricht/desync/httpserver"
)

// serverFlags are the HTTP server options chunk-server and index-server
// share, under desync's names.
type serverFlags struct {
	listen        multiFlag
	cert, key     string
	mutualTLS     bool
	clientCA      string
	authorization string
	logFile       string
	readTimeout   time.Duration
	writeTimeout  time.Duration
	idleTimeout   time.Duration
	tls           *tls.Config // loaded by validate
}

func (f *serverFlags) add(fs *flag.FlagSet) {
	const listenHelp = "listen address, host:port (default :http); repeatable"
	fs.Var(&f.listen, "l", listenHelp)
	fs.Var(&f.listen, "listen", listenHelp)
	fs.StringVar(&f.cert, "cert", "", "server certificate file (PEM) for HTTPS; needs --key")
	fs.StringVar(&f.key, "key", "", "server key file (PEM) for HTTPS; needs --cert")
	fs.BoolVar(&f.mutualTLS, "mutual-tls", false, "require a client certificate signed by a CA of --client-ca (needs it)")
	fs.StringVar(&f.clientCA, "client-ca", "", "CA certificates (PEM) client certificates must be signed by; needs --mutual-tls")
	fs.StringVar(&f.authorization, "authorization", "", "required value of the Authorization header (default $DESYNC_HTTP_AUTH)")
	fs.StringVar(&f.logFile, "log", "", `request log file, or "-" for stderr (default: none)`)
	fs.DurationVar(&f.readTimeout, "read-timeout", httpserver.DefaultReadTimeout, "limit on reading a request, body included (negative: none)")
	fs.DurationVar(&f.writeTimeout, "write-timeout", httpserver.DefaultWriteTimeout, "limit on writing a response (negative: none)")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", httpserver.DefaultIdleTimeout, "how long an idle keep-alive connection is kept (negative: none)")
}

func (f *serverFlags) serveOptions(log *slog.Logger) httpserver.ServeOptions {
	return httpserver.ServeOptions{
		CertFile: f.cert, KeyFile: f.key, MutualTLS: f.mutualTLS, ClientCAFile: f.clientCA, TLSConfig: f.tls,
		ReadTimeout: f.readTimeout, WriteTimeout: f.writeTimeout, IdleTimeout: f.idleTimeout, Logger: log,
	}
}

// validate checks the TLS flags (as desync does) and loads the
// certificates once, and fills in the defaults: the listen address and the Authorization value from
// DESYNC_HTTP_AUTH.
func (f *serverFlags) validate() error {
	tc, err := httpserver.ServerTLSConfig(httpserver.ServeOptions{CertFile: f.cert, KeyFile: f.key, MutualTLS: f.mutualTLS, ClientCAFile: f.clientCA})
	var oe *httpserver.OptionError
	if errors.As(err, &oe) {
		return usageErr("%v", err)
	} else if err != nil {
		return err
	}
	f.tls = tc
	if len(f.listen) == 0 {
		f.listen = multiFlag{":http"}
		if f.cert != "" {
			f.listen = multiFlag{":https"}
		}
	}
	if f.authorization == "" {
		f.authorization = os.Getenv("DESYNC_HTTP_AUTH")
	}
	return nil
}

// accessLog opens the --log destination; close it when done.
func (f *serverFlags) accessLog(stderr io.Writer) (*slog.Logger, func(), error) {
	switch f.logFile {
	case "":
		return nil, func() {}, nil
	case "-":
		return slog.New(slog.NewTextHandler(stderr, nil)), func() {}, nil
	}
	file, err := os.OpenFile(f.logFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return slog.New(slog.NewTextHandler(file, nil)), func() { file.Close() }, nil
}

// listen opens the listeners and says where on stderr.
func (a *app) listen(name string, f *serverFlags) ([]net.Listener, error) {
	lns, err := httpserver.Listen(f.listen)
	if err != nil {
		return nil, err
	}
	scheme := "http"
	if f.cert != "" {
		scheme = "https"
	}
	for _, ln := range lns {
		fmt.Fprintf(a.io.Err, "desync %s: listening on %s://%s/\n", name, scheme, ln.Addr())
	}
	return lns, nil
}
