package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	httpstore "github.com/folbricht/desync/storage-http"
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
	fs.DurationVar(&f.readTimeout, "read-timeout", httpstore.DefaultReadTimeout, "limit on reading a request, body included (negative: none)")
	fs.DurationVar(&f.writeTimeout, "write-timeout", httpstore.DefaultWriteTimeout, "limit on writing a response (negative: none)")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", httpstore.DefaultIdleTimeout, "how long an idle keep-alive connection is kept (negative: none)")
}

func (f *serverFlags) serveOptions(log *slog.Logger) httpstore.ServeOptions {
	return httpstore.ServeOptions{
		CertFile: f.cert, KeyFile: f.key, MutualTLS: f.mutualTLS, ClientCAFile: f.clientCA, TLSConfig: f.tls,
		ReadTimeout: f.readTimeout, WriteTimeout: f.writeTimeout, IdleTimeout: f.idleTimeout, Logger: log,
	}
}

// validate checks the TLS flags (as desync does) and loads the
// certificates once, and fills in the defaults: the listen address and the Authorization value from
// DESYNC_HTTP_AUTH.
func (f *serverFlags) validate() error {
	tc, err := httpstore.ServerTLSConfig(httpstore.ServeOptions{CertFile: f.cert, KeyFile: f.key, MutualTLS: f.mutualTLS, ClientCAFile: f.clientCA})
	var oe *httpstore.OptionError
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
	lns, err := httpstore.Listen(f.listen)
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

// storeFile is desync's --store-file: the stores and the cache of a
// chunk-server, re-read on SIGHUP.
type storeFile struct {
	Stores []string `json:"stores"`
	Cache  string   `json:"cache"`
}

func readStoreFile(p string) (storeFile, error) {
	var sf storeFile
	b, err := os.ReadFile(p)
	if err != nil {
		return sf, fmt.Errorf("store file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sf); err != nil {
		return sf, fmt.Errorf("store file %s: %w", p, err)
	}
	if len(sf.Stores) == 0 {
		return sf, fmt.Errorf("store file %s: no stores", p)
	}
	return sf, nil
}

func (a *app) chunkServerCmd() *command {
	var f commonFlags
	var sf storeFlags
	var srv serverFlags
	var writable, uncompressed, skipVerifyRead, skipVerifyWrite bool
	var storeFilePath string
	c := a.newCommand("chunk-server", "desync chunk-server -s <store> [flags]",
		"serve chunk stores over HTTP(S)",
		`Serves the stores (-s, tried in order; "a|b" is a failover group) with the
cache (-c) in front, in the layout of a casync store (/<4 hex>/<id>.cacnk), so
casync, desync and this desync read from it as from any HTTP store. It is
read-only unless -w is given; then one store (no cache) is served and PUT
stores chunks, each decoded and verified against its ID first (always: a
chunk that does not match is refused with 422 and not stored). An upload
larger than a chunk of the maximum size can be (its zstd worst case) is
refused with 413 before it is read; the maximum is that of -m (the chunk
sizes the uploading clients make with, e.g. -m 16:64:256; casync's 128 MiB
limit without it), so a writable server given -m holds little memory for a
hostile upload. -u serves and accepts uncompressed chunks (/<4 hex>/<id>),
converting as needed. HEAD answers whether a chunk exists. /metrics has Prometheus metrics.

Every chunk sent is verified first (a local store's chunk file the first time
it is sent), and marked immutable (Cache-Control) for caches and CDNs in
front; a corrupt chunk is an error (500), never sent. --skip-verify-read sends
chunks unverified, and then with "no-cache" instead.

--store-file names a JSON file {"stores": [...], "cache": "..."} used instead
of -s and -c; it is read again on SIGHUP (requests in flight finish with the
old stores). SIGTERM or SIGINT stop the server gracefully: listeners close and
requests in flight finish.

With --authorization (or $DESYNC_HTTP_AUTH) every request must carry that
Authorization header value. --cert and --key serve HTTPS; --mutual-tls
requires client certificates signed by a CA of --client-ca, which it needs.

Example:
  desync chunk-server -s /var/store -c /var/cache -l :8080
  desync chunk-server -s /var/store -w -l 127.0.0.1:8080 --authorization "Bearer $TOKEN"`, 0, 0)
	fs := c.FlagSet
	addStoreFlags(fs, &sf, "upstream store to serve; repeat to add fallbacks", true)
	f.addConcurrency(fs)
	f.addChunkSize(fs)
	srv.add(fs)
	fs.BoolVar(&writable, "w", false, "accept chunk uploads (PUT)")
	fs.BoolVar(&writable, "writable", false, "accept chunk uploads (PUT)")
	fs.BoolVar(&writable, "writeable", false, "accept chunk uploads (PUT); the same as --writable")
	fs.BoolVar(&uncompressed, "u", false, "serve uncompressed chunks")
	fs.BoolVar(&uncompressed, "uncompressed", false, "serve uncompressed chunks")
	fs.StringVar(&storeFilePath, "store-file", "", "JSON file with the stores and cache, re-read on SIGHUP")
	fs.BoolVar(&skipVerifyRead, "skip-verify-read", false, "do not verify chunks read from the upstream stores (nor local chunk files sent as they are); responses are then not marked immutable")
	fs.BoolVar(&skipVerifyWrite, "skip-verify-write", false, "accepted for desync compatibility; uploads are always verified")
	c.Exec = func(ctx context.Context, args []string) error {
		if err := srv.validate(); err != nil {
			return err
		}
		if storeFilePath != "" && (len(sf.stores) > 0 || sf.cache != "") {
			return usageErr("chunk-server: --store-file replaces -s and -c; give one or the other")
		}
		if storeFilePath == "" && len(sf.stores) == 0 {
			return usageErr("chunk-server: no store given (-s or --store-file)")
		}
		if skipVerifyWrite {
			a.log.Warn("--skip-verify-write is ignored: uploaded chunks are always verified")
		}
		cfg, err := a.config()
		if err != nil {
			return err
		}
		setup := a.setup(a.digest.d, 0, 0, f.concurrency)
		// skipRead: whether any served store reads chunks unverified
		// (--skip-verify-read, or skip-verify in the config file); the
		// server then never marks a response immutable. A reload that
		// would turn it on is refused: the server was started verifying.
		skipRead := false
		var store chunk.Store
		open := func() (chunk.Store, error) {
			flags := sf
			if storeFilePath != "" {
				file, err := readStoreFile(storeFilePath)
				if err != nil {
					return nil, err
				}
				flags.stores, flags.cache = file.Stores, file.Cache
			}
			skip, err := flags.skipsVerify(cfg, setup)
			if err != nil {
				return nil, err
			}
			if skip && !skipRead {
				if store != nil { // a reload
					return nil, fmt.Errorf("the new stores read chunks unverified (skip-verify) and the server was started verifying them; restart it to serve them")
				}
				skipRead = true
			}
			return openServed(ctx, &flags, cfg, setup, writable)
		}
		store, err = open()
		if err != nil {
			return err
		}
		if writable {
			// The uploads a killed server left half-stored go now.
			if n, err := removeStaleTemps(ctx, store, false); err != nil {
				a.log.Warn("chunk-server: removing stale temporary files failed", "store", store, "error", err)
			} else if n > 0 {
				a.log.Info("chunk-server: removed stale temporary files", "store", store, "count", n)
			}
		}
		access, closeLog, err := srv.accessLog(a.io.Err)
		if err != nil {
			store.Close()
			return err
		}
		defer closeLog()
		maxChunk := 0 // casync's limit, chunk.MaxSize
		if sf.isSet("m", "chunk-size") {
			maxChunk = int(f.params.p.Max)
		}
		cs, err := httpstore.NewChunkServer(store, httpstore.ChunkServerOptions{
			MaxChunkSize: maxChunk, Writable: writable, Uncompressed: uncompressed, SkipVerifyRead: skipRead, Digest: a.digest.d,
			Authorization: srv.authorization, Metrics: httpstore.NewMetrics(), Logger: a.log, AccessLog: access,
		})
		if err != nil {
			store.Close()
			return err
		}
		defer cs.Close()
		if storeFilePath != "" {
			stop := onReload(func() {
				s, err := open()
				if err != nil {
					a.log.Error("chunk-server: reloading the store file failed; serving the old stores", "file", storeFilePath, "error", err)
					return
				}
				if err := cs.SetStore(s); err != nil {
					s.Close()
					a.log.Error("chunk-server: reloading the store file failed; serving the old stores", "file", storeFilePath, "error", err)
					return
				}
				a.log.Warn("chunk-server: reloaded the store file", "file", storeFilePath)
			})
			defer stop()
		}
		lns, err := a.listen("chunk-server", &srv)
		if err != nil {
			return err
		}
		return httpstore.Serve(ctx, cs, lns, srv.serveOptions(a.log))
	}
	return c
}

// openServed opens what a chunk-server serves: read-only, the stores of
// f as a router with the cache (as extract reads them, without the index's
// null chunk); writable, the one store of f, without a cache, as desync
// requires. Concurrent requests for one chunk share one fetch.
func openServed(ctx context.Context, f *storeFlags, cfg *config, s storeSetup, writable bool) (chunk.Store, error) {
	if writable {
		if f.cache != "" {
			return nil, usageErr("chunk-server: -w serves one store and no cache (cache %q)", f.cache)
		}
		w, err := f.openWrite(ctx, cfg, s)
		if err != nil {
			return nil, err
		}
		return storage.NewDedup(w), nil
	}
	return openReadOnly(ctx, f, cfg, s, nil)
}

func (a *app) indexServerCmd() *command {
	var srv serverFlags
	var dir string
	var writable bool
	c := a.newCommand("index-server", "desync index-server -s <dir> [flags]",
		"serve index files over HTTP(S)",
		`Serves the index files of one directory (-s): GET and HEAD /<name>, and PUT
/<name> with -w (the upload must be a valid index; it is written to a temporary
file and renamed into place). Only index files are served or written: a name
must end in .caibx or .caidx and a file must be an index; other requests get
400, so other files in the directory stay private. Names are single path
elements; a request cannot reach outside the directory ("..", encoded slashes
and symbolic links leading out are refused). /metrics has Prometheus metrics. TLS, mutual TLS,
--authorization ($DESYNC_HTTP_AUTH), --log and signals are as for
chunk-server.

Example:
  desync index-server -s /var/indexes -l :8080
  desync extract -s http://host:8081/ http://host:8080/image.caibx image.raw`, 0, 0)
	fs := c.FlagSet
	fs.StringVar(&dir, "s", "", "directory of the index files")
	fs.StringVar(&dir, "store", "", "directory of the index files")
	fs.BoolVar(&writable, "w", false, "accept index uploads (PUT)")
	fs.BoolVar(&writable, "writable", false, "accept index uploads (PUT)")
	fs.BoolVar(&writable, "writeable", false, "accept index uploads (PUT); the same as --writable")
	srv.add(fs)
	c.Exec = func(ctx context.Context, args []string) error {
		if err := srv.validate(); err != nil {
			return err
		}
		if dir == "" {
			return usageErr("index-server: no index directory given (-s)")
		}
		if strings.Contains(dir, "://") && !strings.HasPrefix(dir, "file://") {
			return usageErr("index-server: -s %s: only a local directory can be served", dir)
		}
		dir = strings.TrimPrefix(dir, "file://")
		access, closeLog, err := srv.accessLog(a.io.Err)
		if err != nil {
			return err
		}
		defer closeLog()
		is, err := httpstore.NewIndexServer(dir, httpstore.IndexServerOptions{
			Writable: writable, Authorization: srv.authorization, Metrics: httpstore.NewMetrics(),
			Logger: a.log, AccessLog: access,
		})
		if err != nil {
			return err
		}
		defer is.Close()
		lns, err := a.listen("index-server", &srv)
		if err != nil {
			return err
		}
		return httpstore.Serve(ctx, is, lns, srv.serveOptions(a.log))
	}
	return c
}
