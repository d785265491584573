package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/httpserver"
	"github.com/folbricht/desync/storage"
)

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

// storeFileFlag is --store-file of chunk-server and mount-index: a store
// file used instead of -s and -c, read again on SIGHUP.
type storeFileFlag struct{ path string }

func (f *storeFileFlag) add(fs *flag.FlagSet) {
	fs.StringVar(&f.path, "store-file", "", "JSON file with the stores and cache, re-read on SIGHUP")
}

// check refuses -s or -c beside a store file, and no store at all.
func (f storeFileFlag) check(cmd string, sf *storeFlags) error {
	if f.path != "" && (len(sf.stores) > 0 || sf.cache != "") {
		return usageErr("%s: --store-file replaces -s and -c; give one or the other", cmd)
	}
	if f.path == "" && len(sf.stores) == 0 {
		return usageErr("%s: no store given (-s or --store-file)", cmd)
	}
	return nil
}

// flags returns sf with the stores and cache of the store file, read now,
// or sf itself without one.
func (f storeFileFlag) flags(sf storeFlags) (storeFlags, error) {
	if f.path == "" {
		return sf, nil
	}
	file, err := readStoreFile(f.path)
	if err != nil {
		return sf, err
	}
	sf.stores, sf.cache = file.Stores, file.Cache
	return sf, nil
}

func (a *app) chunkServerCmd() *command {
	var f commonFlags
	var sf storeFlags
	var srv serverFlags
	var writable, uncompressed, skipVerifyRead, skipVerifyWrite bool
	var storeFile storeFileFlag
	var enc encryptionFlags
	c := a.newCommand(commandSpec{
		name:    "chunk-server",
		usage:   "desync chunk-server -s <store> [flags]",
		minArgs: 0,
		maxArgs: 0,
		short:   "serve chunk stores over HTTP(S)",
		long: `Serves the stores (-s, tried in order; "a|b" is a failover group) with the
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

With --encryption, chunks are served (and accepted) encrypted, whatever form
the upstream stores keep them in, at /<4 hex>/<id>.cacnk.<algorithm>-<key id>
(/<4 hex>/<id>.<algorithm>-<key id> with -u), as the original desync names
them. The key is read from $DESYNC_ENCRYPTION_KEY unless --encryption-key is
given; --encryption-key or --encryption-algorithm imply --encryption, the
environment variable alone does not.

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
  desync chunk-server -s /var/store -w -l 127.0.0.1:8080 --authorization "Bearer $TOKEN"`,
	})
	fs := c.FlagSet
	addStoreFlags(fs, &sf, storeFlagsUse{storeHelp: "upstream store to serve; repeat to add fallbacks", withCache: true})
	f.addConcurrency(fs)
	f.addChunkSize(fs)
	srv.add(fs)
	fs.BoolVar(&writable, "w", false, "accept chunk uploads (PUT)")
	fs.BoolVar(&writable, "writable", false, "accept chunk uploads (PUT)")
	fs.BoolVar(&writable, "writeable", false, "accept chunk uploads (PUT); the same as --writable")
	fs.BoolVar(&uncompressed, "u", false, "serve uncompressed chunks")
	fs.BoolVar(&uncompressed, "uncompressed", false, "serve uncompressed chunks")
	storeFile.add(fs)
	enc.add(fs)
	fs.BoolVar(&skipVerifyRead, "skip-verify-read", false, "do not verify chunks read from the upstream stores (nor local chunk files sent as they are); responses are then not marked immutable")
	fs.BoolVar(&skipVerifyWrite, "skip-verify-write", false, "accepted for desync compatibility; uploads are always verified")
	c.Exec = func(ctx context.Context, args []string) error {
		if err := srv.validate(); err != nil {
			return err
		}
		if err := storeFile.check("chunk-server", &sf); err != nil {
			return err
		}
		encryption, err := enc.settings("chunk-server")
		if err != nil {
			return err
		}
		if skipVerifyWrite {
			a.log.Warn("--skip-verify-write is ignored: uploaded chunks are always verified")
		}
		cfg, err := a.config()
		if err != nil {
			return err
		}
		setup := a.setup(storeSetup{digest: a.digest.d, concurrency: f.concurrency})
		// skipRead: whether any served store reads chunks unverified
		// (--skip-verify-read, or skip-verify in the config file); the
		// server then never marks a response immutable. A reload that
		// would turn it on is refused: the server was started verifying.
		skipRead := false
		var store chunk.Store
		open := func() (chunk.Store, error) {
			flags, err := storeFile.flags(sf)
			if err != nil {
				return nil, err
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
			if n, err := removeStaleTemps(ctx, store, sweepIfWriterDied); err != nil {
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
		cs, err := httpserver.NewChunkServer(store, httpserver.ChunkServerOptions{
			MaxChunkSize: maxChunk, Writable: writable, Uncompressed: uncompressed, Encryption: encryption, SkipVerifyRead: skipRead, Digest: a.digest.d,
			Authorization: srv.authorization, Metrics: httpserver.NewMetrics(), Logger: a.log, AccessLog: access,
		})
		if err != nil {
			store.Close()
			return err
		}
		defer cs.Close()
		if storeFile.path != "" {
			stop := onReload(func() {
				s, err := open()
				if err != nil {
					a.log.Error("chunk-server: reloading the store file failed; serving the old stores", "file", storeFile.path, "error", err)
					return
				}
				if err := cs.SetStore(s); err != nil {
					s.Close()
					a.log.Error("chunk-server: reloading the store file failed; serving the old stores", "file", storeFile.path, "error", err)
					return
				}
				a.log.Warn("chunk-server: reloaded the store file", "file", storeFile.path)
			})
			defer stop()
		}
		lns, err := a.listen("chunk-server", &srv)
		if err != nil {
			return err
		}
		return httpserver.Serve(ctx, cs, lns, srv.serveOptions(a.log))
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
