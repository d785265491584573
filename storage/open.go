package storage

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
)

// Backend opens the stores of a URL scheme. A backend module registers
// itself from an init function, so a program gets exactly the schemes of
// the backends it imports.
type Backend struct {
	// ChunkStore opens a chunk store; nil if the scheme has none.
	ChunkStore func(ctx context.Context, loc *url.URL, o Options) (chunk.Store, error)
	// IndexStore opens an index store; nil if the scheme has none.
	IndexStore func(ctx context.Context, loc *url.URL, o Options) (IndexStore, error)
	// Remote backends are wrapped in a [Retry] built from the options.
	Remote bool
}

var (
	backendsMu sync.RWMutex
	backends   = map[string]Backend{}
)

// Register makes a backend available to [Open] under a URL scheme ("http",
// "s3+https", …). It panics if the scheme is registered twice.
func Register(scheme string, b Backend) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if _, dup := backends[scheme]; dup {
		panic("storage: scheme registered twice: " + scheme)
	}
	backends[scheme] = b
}

// Schemes lists the registered URL schemes, sorted.
func Schemes() []string {
	backendsMu.RLock()
	defer backendsMu.RUnlock()
	var s []string
	for k := range backends {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

// parseLocation splits a store location into a URL of a registered scheme,
// or returns nil for a local path. Windows drive letters ("C:\store") are
// paths, as is anything without "://".
func parseLocation(location string) (*url.URL, Backend, error) {
	if !strings.Contains(location, "://") {
		return nil, Backend{}, nil
	}
	u, err := url.Parse(location)
	if err != nil {
		return nil, Backend{}, fmt.Errorf("bad store location %q: %w", location, err)
	}
	if u.Scheme == "file" {
		return nil, Backend{}, nil
	}
	backendsMu.RLock()
	b, ok := backends[u.Scheme]
	backendsMu.RUnlock()
	if !ok {
		known := "none"
		if s := Schemes(); len(s) > 0 {
			known = strings.Join(s, ", ")
		}
		return nil, Backend{}, fmt.Errorf("store location %q: unknown scheme %q (known schemes: %s; or a local path)", location, u.Scheme, known)
	}
	return u, b, nil
}

// localPath is the directory of a local location (a path or a file:// URL).
func localPath(location string) string {
	if p, ok := strings.CutPrefix(location, "file://"); ok {
		return filepath.FromSlash(p)
	}
	return location
}

// LocalPath returns the path of a location that is local (a path or a
// file:// URL), and false for the URL of a remote store or index.
func LocalPath(location string) (string, bool) {
	if u, _, err := parseLocation(location); err != nil || u != nil {
		return "", false
	}
	return localPath(location), true
}

// Open opens the chunk store at location with options o: a local path, a
// URL of a registered scheme, or locations joined by "|", a [Failover]
// group. Remote stores are wrapped in a [Retry] that makes each call at
// most o.ErrorRetry times (at least once).
func Open(ctx context.Context, location string, o Options) (chunk.Store, error) {
	return OpenWith(ctx, location, func(string) (Options, error) { return o, nil })
}

// OpenWith is [Open] with options looked up per store location (as the
// command line does in the config file): a failover group's members may
// have different options.
func OpenWith(ctx context.Context, location string, options func(location string) (Options, error)) (chunk.Store, error) {
	members := strings.Split(location, "|")
	stores := make([]chunk.Store, 0, len(members))
	var logger *slog.Logger
	for _, m := range members {
		if m == "" {
			return nil, fmt.Errorf("store location %q: empty member of a failover group", location)
		}
		o, err := options(m)
		if err != nil {
			return nil, err
		}
		logger = o.Logger
		s, err := openOne(ctx, m, o)
		if err != nil {
			for _, s := range stores {
				s.Close()
			}
			return nil, err
		}
		stores = append(stores, s)
	}
	if len(stores) == 1 {
		return stores[0], nil
	}
	return NewFailover(logger, stores...), nil
}

func openOne(ctx context.Context, location string, o Options) (chunk.Store, error) {
	u, b, err := parseLocation(location)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return NewLocal(localPath(location), LocalOptions{
			Digest: o.Digest, MaxChunkSize: o.MaxChunkSize, CompressionLevel: o.CompressionLevel,
			Uncompressed: o.Uncompressed, SkipVerify: o.SkipVerify, Logger: o.Logger,
		})
	}
	if b.ChunkStore == nil {
		return nil, fmt.Errorf("store location %q: scheme %q has no chunk stores", location, u.Scheme)
	}
	s, err := b.ChunkStore(ctx, u, o)
	if err != nil {
		return nil, err
	}
	if b.Remote {
		s = NewRetry(s, RetryOptions{Attempts: o.ErrorRetry, BaseInterval: o.ErrorRetryBaseInterval, Logger: o.Logger})
	}
	return s, nil
}

// OpenIndexStore opens the index store at location: a local directory or a
// URL of a registered scheme. Remote index stores are retried as chunk
// stores are ([WrapIndexRetry]), keeping their write and copy
// capabilities.
func OpenIndexStore(ctx context.Context, location string, o Options) (IndexStore, error) {
	u, b, err := parseLocation(location)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return NewLocalIndex(localPath(location)), nil
	}
	if b.IndexStore == nil {
		return nil, fmt.Errorf("store location %q: scheme %q has no index stores", location, u.Scheme)
	}
	s, err := b.IndexStore(ctx, u, o)
	if err != nil || !b.Remote {
		return s, err
	}
	return WrapIndexRetry(s, RetryOptions{Attempts: o.ErrorRetry, BaseInterval: o.ErrorRetryBaseInterval, Logger: o.Logger}), nil
}

// SplitIndexLocation splits the location of an index into its index store
// and its name in that store: "https://host/dir/x.caibx" is the store
// "https://host/dir/" and the name "x.caibx". A local path is its directory
// and base name.
func SplitIndexLocation(location string) (store, name string, err error) {
	u, _, err := parseLocation(location)
	if err != nil {
		return "", "", err
	}
	if u == nil {
		p := localPath(location)
		return filepath.Dir(p), filepath.Base(p), nil
	}
	dir, name := path.Split(u.Path)
	if name == "" {
		return "", "", fmt.Errorf("index location %q names a directory, not an index", location)
	}
	v := *u
	v.Path, v.RawPath = dir, ""
	return v.String(), name, nil
}

// ReadIndex reads the index at location, a local path or a URL of a
// registered scheme that has index stores.
func ReadIndex(ctx context.Context, location string, o Options) (*caindex.Index, error) {
	u, _, err := parseLocation(location)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return caindex.ReadFile(localPath(location))
	}
	dir, name, err := SplitIndexLocation(location)
	if err != nil {
		return nil, err
	}
	s, err := OpenIndexStore(ctx, dir, o)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.GetIndex(ctx, name)
}
