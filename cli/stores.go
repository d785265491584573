package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// setup completes what a command knows about the stores it opens with the
// logger their warnings go to.
func (a *app) setup(s storeSetup) storeSetup {
	s.log = a.log
	return s
}

// openRead reads the config and opens the stores of sf for reading the
// chunks of ix.
func (a *app) openRead(ctx context.Context, sf *storeFlags, ix *caindex.Index, n int) (chunk.Store, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	return openReadOnly(ctx, sf, cfg, a.setup(storeSetup{digest: ix.Digest(), maxChunk: ix.Max, concurrency: n}), ix)
}

// storeFlags are desync's store options on the command line. Flags given
// explicitly override the config file, which overrides the defaults.
type storeFlags struct {
	fs             *flag.FlagSet
	stores         multiFlag
	cache          string
	clientCert     string
	clientKey      string
	caCert         string
	trustInsecure  bool
	cacheRepair    bool
	errorRetry     int
	errorRetryBase time.Duration
}

// storeFlagsUse says how a command uses its stores, for addStoreFlags.
type storeFlagsUse struct {
	storeHelp string // the help of -s: what the command does with the store
	withCache bool   // -c and -r: a cache in front of the stores read from
}

// addStoreFlags registers the store options of a command that uses its
// stores as use says.
func addStoreFlags(fs *flag.FlagSet, f *storeFlags, use storeFlagsUse) {
	f.fs = fs
	fs.Var(&f.stores, "s", use.storeHelp)
	fs.Var(&f.stores, "store", use.storeHelp)
	if use.withCache {
		fs.StringVar(&f.cache, "c", "", "store to use as a cache (a local directory)")
		fs.StringVar(&f.cache, "cache", "", "store to use as a cache (a local directory)")
		f.cacheRepair = true
		fs.BoolVar(&f.cacheRepair, "r", true, "replace invalid chunks in the cache from the stores")
		fs.BoolVar(&f.cacheRepair, "cache-repair", true, "replace invalid chunks in the cache from the stores")
	}
	fs.StringVar(&f.clientCert, "client-cert", "", "client certificate for TLS authentication")
	fs.StringVar(&f.clientKey, "client-key", "", "client key for TLS authentication")
	fs.StringVar(&f.caCert, "ca-cert", "", "trust the CAs in this file instead of the system's")
	fs.BoolVar(&f.trustInsecure, "t", false, "trust invalid TLS certificates")
	fs.BoolVar(&f.trustInsecure, "trust-insecure", false, "trust invalid TLS certificates")
	f.errorRetry, f.errorRetryBase = storage.DefaultErrorRetry, storage.DefaultErrorRetryBaseInterval
	fs.Var((*countFlag)(&f.errorRetry), "e", "times a failing call to a remote store is tried in all (0 and 1: once, no retry)")
	fs.Var((*countFlag)(&f.errorRetry), "error-retry", "times a failing call to a remote store is tried in all (0 and 1: once, no retry)")
	fs.DurationVar(&f.errorRetryBase, "b", f.errorRetryBase, "wait before the first retry; it grows linearly with each retry")
	fs.DurationVar(&f.errorRetryBase, "error-retry-base-interval", f.errorRetryBase, "wait before the first retry; it grows linearly with each retry")
}

// isSet reports whether any of the named flags was given.
func (f *storeFlags) isSet(names ...string) bool {
	set := false
	f.fs.Visit(func(fl *flag.Flag) {
		for _, n := range names {
			set = set || fl.Name == n
		}
	})
	return set
}

// boolOptions are the boolean flags with a store-options counterpart: given
// on the command line, true or false, they replace the config file's value.
// (-r/--cache-repair and chunk-server's -u have none: the cache's repair and
// the served layout are not store options.)
var boolOptions = []struct {
	names []string // the flag's spellings
	field func(*storage.Options) *bool
}{
	{[]string{"t", "trust-insecure"}, func(o *storage.Options) *bool { return &o.TrustInsecure }},
	{[]string{"skip-verify-read"}, func(o *storage.Options) *bool { return &o.SkipVerify }}, // chunk-server's
}

// givenBool returns the value of the boolean flag given under one of names,
// and false if none was given (or the command has no such flag).
func (f *storeFlags) givenBool(names []string) (value, given bool) {
	f.fs.Visit(func(fl *flag.Flag) {
		if g, ok := fl.Value.(flag.Getter); ok && slices.Contains(names, fl.Name) {
			value, given = g.Get().(bool)
		}
	})
	return value, given
}

func (f *storeFlags) validate() error {
	if (f.clientCert == "") != (f.clientKey == "") {
		return usageErr("--client-cert and --client-key go together")
	}
	return nil
}

// storeSetup is what a command knows about the stores it opens, beyond
// the store flags and the config file. A field left zero takes the
// default given with it.
type storeSetup struct {
	digest      chunk.Digest // of the chunk IDs (the index's, or --digest)
	maxChunk    uint64       // caps decoded chunks (the index's max); 0: chunk.MaxSize
	level       int          // zstd level of written chunks; 0: chunk.DefaultLevel
	concurrency int          // -n, for stores whose config file entry sets no "n"
	// uploads: chunks written to a remote store (or a remote -c cache) go
	// through a storage.Uploads queue with storage.UploaderCount(n)
	// uploaders of its own (make, chop, cache). The store keeps the N of
	// -n: an sftp:// store opens no more ssh sessions than that (each
	// costs a login's CPU; measured, more sessions were slower on a small
	// box), and uploaders beyond them wait for one. Local stores batch
	// their writes already and are never wrapped.
	uploads bool
	// noSync: a local store written to does not make its chunks durable
	// (make and tar --no-sync).
	noSync bool
	log    *slog.Logger // where store warnings go; app.setup fills it in
}

// options returns the options of one store location: config, then flags.
func (f *storeFlags) options(cfg *config, s storeSetup) func(string) (storage.Options, error) {
	return func(location string) (storage.Options, error) {
		o, err := cfg.storeOptions(location)
		if err != nil {
			return o, err
		}
		if o.N == 0 {
			o.N = s.concurrency
		}
		if f.isSet("client-cert") {
			o.ClientCert, o.ClientKey = f.clientCert, f.clientKey
		}
		if f.isSet("ca-cert") {
			o.CACert = f.caCert
		}
		for _, b := range boolOptions {
			if v, given := f.givenBool(b.names); given {
				*b.field(&o) = v
			}
		}
		if f.isSet("e", "error-retry") {
			o.ErrorRetry = f.errorRetry
		}
		if f.isSet("b", "error-retry-base-interval") {
			o.ErrorRetryBaseInterval = f.errorRetryBase
		}
		o.Digest, o.MaxChunkSize, o.CompressionLevel, o.Logger = s.digest, int(s.maxChunk), s.level, s.log
		if s.noSync {
			o.Syncer = storage.NoSync{}
		}
		return o, nil
	}
}

// openRead opens the stores of -s as a router, in order, with the -c cache
// in front, concurrent requests for a chunk merged, and the index's
// all-zero chunk answered without a fetch (when ix is not nil).
func (f *storeFlags) openRead(ctx context.Context, cfg *config, s storeSetup, ix *caindex.Index) (chunk.Store, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	if len(f.stores) == 0 {
		return nil, usageErr("no store given (-s)")
	}
	opts := f.options(cfg, s)
	var stores []chunk.Store
	closeAll := func() {
		for _, st := range stores {
			st.Close()
		}
	}
	for _, loc := range f.stores {
		st, err := storage.OpenWith(ctx, loc, opts)
		if err != nil {
			closeAll()
			return nil, err
		}
		stores = append(stores, st)
	}
	var st chunk.Store = stores[0]
	if len(stores) > 1 {
		st = storage.NewRouter(stores...)
	}
	if f.cache != "" {
		c, err := storage.OpenWith(ctx, f.cache, opts)
		if err != nil {
			closeAll()
			return nil, err
		}
		w, ok := c.(chunk.WriteStore)
		if !ok {
			closeAll()
			c.Close()
			return nil, fmt.Errorf("cache %s does not accept chunks", f.cache)
		}
		if s.uploads && isRemote(f.cache) {
			w = storage.NewUploads(ctx, w, storage.UploadOptions{Uploaders: storage.UploaderCount(s.concurrency)})
		}
		st = storage.NewCache(st, w, storage.CacheOptions{Repair: f.cacheRepair, Logger: s.log})
	}
	st = storage.NewDedup(st)
	if ix != nil {
		st = storage.NewNullChunk(st, ix.Digest(), int(ix.Max))
	}
	return st, nil
}

// openWrite opens the single store of -s that a command writes to.
func (f *storeFlags) openWrite(ctx context.Context, cfg *config, s storeSetup) (chunk.WriteStore, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	switch {
	case len(f.stores) == 0:
		return nil, usageErr("no store given (-s)")
	case len(f.stores) > 1:
		return nil, usageErr("%d stores given; chunks are written to one store (-s)", len(f.stores))
	}
	queue := s.uploads && isRemote(f.stores[0])
	st, err := storage.OpenWith(ctx, f.stores[0], f.options(cfg, s))
	if err != nil {
		return nil, err
	}
	w, ok := st.(chunk.WriteStore)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("store %s does not accept chunks", f.stores[0])
	}
	if queue {
		w = storage.NewUploads(ctx, w, storage.UploadOptions{Uploaders: storage.UploaderCount(s.concurrency)})
	}
	return w, nil
}

// isRemote reports whether a store location (or a member of a "|" group)
// is not a local directory.
func isRemote(location string) bool {
	for _, loc := range strings.Split(location, "|") {
		if _, local := storage.LocalPath(loc); !local {
			return true
		}
	}
	return false
}

// skipsVerify reports whether any store or the cache of f reads chunks
// without verifying them (skip-verify, from the flags or the config file).
func (f *storeFlags) skipsVerify(cfg *config, s storeSetup) (bool, error) {
	opts := f.options(cfg, s)
	locations := slices.Clone([]string(f.stores))
	if f.cache != "" {
		locations = append(locations, f.cache)
	}
	for _, group := range locations {
		for _, loc := range strings.Split(group, "|") {
			o, err := opts(loc)
			if err != nil {
				return false, err
			}
			if o.SkipVerify {
				return true, nil
			}
		}
	}
	return false, nil
}

// tempSweep is how far removeStaleTemps looks.
type tempSweep bool

const (
	// sweepIfWriterDied goes through the chunk directories only if a
	// writer of the store died; next to free after clean runs (make,
	// chunk-server -w at start).
	sweepIfWriterDied tempSweep = false
	// sweepEverything goes through every chunk directory, and removes
	// other programs' temporary files older than an hour too (verify -r).
	sweepEverything tempSweep = true
)

// removeStaleTemps removes the temporary files that writers which died
// left in a local store (storage.Local.RemoveStaleTemps, which never
// touches a live writer's); other stores have none of ours to clean. It
// returns how many it removed.
func removeStaleTemps(ctx context.Context, s chunk.Store, sweep tempSweep) (int, error) {
	if l, ok := storage.As[*storage.Local](s); ok {
		return l.RemoveStaleTemps(ctx, bool(sweep))
	}
	return 0, nil
}

// openReadOnly opens the stores of f that a command only reads from (see
// storeFlags.openRead), and fails at once, naming it, for a local store
// that does not exist (storage.CheckExists), rather than for every chunk
// as missing from it.
func openReadOnly(ctx context.Context, f *storeFlags, cfg *config, s storeSetup, ix *caindex.Index) (chunk.Store, error) {
	st, err := f.openRead(ctx, cfg, s, ix)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckExists(st); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}
