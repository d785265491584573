package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
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
// itself with [DefaultRegistry] from an init function, so a program gets
// exactly the schemes of the backends it imports (and may build its own
// [Registry] instead).
type Backend struct {
	// ChunkStore opens a chunk store; nil if the scheme has none.
	ChunkStore func(ctx context.Context, loc *url.URL, o Options) (chunk.Store, error)
	// IndexStore opens an index store; nil if the scheme has none.
	IndexStore func(ctx context.Context, loc *url.URL, o Options) (IndexStore, error)
	// Remote backends are wrapped in a [Retry] built from the options.
	Remote bool
	// ParseOptions, if set, reads the backend's own keys of a
	// store-options entry (those that are not [Options] fields) into its
	// typed options, which the opening functions then find in
	// Options.Backend. It must refuse keys it does not know (with
	// [DecodeOptions], an *[OptionError]). Without it such keys are
	// errors.
	ParseOptions func(raw map[string]json.RawMessage) (any, error)
}

// Registry is a set of backends by URL scheme: what [Registry.Open] can
// open. [DefaultRegistry] is the one backend modules register with when
// imported and the package-level functions ([Open], [Register], …) use; a
// program or a test can build its own with [NewRegistry], holding just the
// backends it wants.
type Registry struct {
	mu       sync.RWMutex
	backends map[string]Backend
}

// NewRegistry returns a registry without backends (it still opens local
// paths and file:// URLs).
func NewRegistry() *Registry { return &Registry{backends: map[string]Backend{}} }

// DefaultRegistry is the registry of the package-level functions, which
// backend modules register themselves with from an init function.
var DefaultRegistry = NewRegistry()

// Register makes a backend available under a URL scheme ("http",
// "s3+https", …). It panics if the scheme is registered twice.
func (r *Registry) Register(scheme string, b Backend) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.backends[scheme]; dup {
		panic("storage: scheme registered twice: " + scheme)
	}
	r.backends[scheme] = b
}

// Schemes lists the registered URL schemes, sorted.
func (r *Registry) Schemes() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := slices.Collect(maps.Keys(r.backends))
	slices.Sort(s)
	return s
}

// Register registers a backend with [DefaultRegistry].
func Register(scheme string, b Backend) { DefaultRegistry.Register(scheme, b) }

// Schemes lists the schemes of [DefaultRegistry].
func Schemes() []string { return DefaultRegistry.Schemes() }

// parseLocation splits a store location into a URL of a registered scheme,
// or returns nil for a local path. Windows drive letters ("C:\store") are
// paths, as is anything without "://".
func (r *Registry) parseLocation(location string) (*url.URL, Backend, error) {
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
	r.mu.RLock()
	b, ok := r.backends[u.Scheme]
	r.mu.RUnlock()
	if !ok {
		known := "none"
		if s := r.Schemes(); len(s) > 0 {
			known = strings.Join(s, ", ")
		}
		return nil, Backend{}, fmt.Errorf("store location %s: unknown scheme %q (known schemes: %s; or a local path)", u.Redacted(), u.Scheme, known)
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
func LocalPath(location string) (string, bool) { return DefaultRegistry.LocalPath(location) }

// LocalPath is [LocalPath] with the schemes of r.
func (r *Registry) LocalPath(location string) (string, bool) {
	if u, _, err := r.parseLocation(location); err != nil || u != nil {
		return "", false
	}
	return localPath(location), true
}

// Open opens the chunk store at location with options o: a local path, a
// URL of a registered scheme, or locations joined by "|", a [Failover]
// group. Remote stores are wrapped in a [Retry] that makes each call at
// most o.ErrorRetry times (at least once).
func Open(ctx context.Context, location string, o Options) (chunk.Store, error) {
	return DefaultRegistry.Open(ctx, location, o)
}

// Open is [Open] with the backends of r.
func (r *Registry) Open(ctx context.Context, location string, o Options) (chunk.Store, error) {
	return r.OpenWith(ctx, location, func(string) (Options, error) { return o, nil })
}

// OpenWith is [Open] with options looked up per store location (as the
// command line does in the config file): a failover group's members may
// have different options.
func OpenWith(ctx context.Context, location string, options func(location string) (Options, error)) (chunk.Store, error) {
	return DefaultRegistry.OpenWith(ctx, location, options)
}

// OpenWith is [OpenWith] with the backends of r.
func (r *Registry) OpenWith(ctx context.Context, location string, options func(location string) (Options, error)) (chunk.Store, error) {
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
		s, err := r.openOne(ctx, m, o)
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

func (r *Registry) openOne(ctx context.Context, location string, o Options) (chunk.Store, error) {
	u, b, err := r.parseLocation(location)
	if err != nil {
		return nil, err
	}
	if u == nil {
		enc, err := o.EncryptionSettings()
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", location, err)
		}
		return NewLocal(localPath(location), LocalOptions{
			Digest: o.Digest, MaxChunkSize: o.MaxChunkSize, CompressionLevel: o.CompressionLevel,
			Uncompressed: o.Uncompressed, SkipVerify: o.SkipVerify, Logger: o.Logger, Syncer: o.Syncer,
			Encryption: enc,
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
	return DefaultRegistry.OpenIndexStore(ctx, location, o)
}

// OpenIndexStore is [OpenIndexStore] with the backends of r.
func (r *Registry) OpenIndexStore(ctx context.Context, location string, o Options) (IndexStore, error) {
	if err := CheckIndexOptions(location, o); err != nil {
		return nil, err
	}
	u, b, err := r.parseLocation(location)
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
	return DefaultRegistry.SplitIndexLocation(location)
}

// SplitIndexLocation is [SplitIndexLocation] with the schemes of r.
func (r *Registry) SplitIndexLocation(location string) (store, name string, err error) {
	u, _, err := r.parseLocation(location)
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
	return DefaultRegistry.ReadIndex(ctx, location, o)
}

// ReadIndex is [ReadIndex] with the backends of r.
func (r *Registry) ReadIndex(ctx context.Context, location string, o Options) (*caindex.Index, error) {
	if err := CheckIndexOptions(location, o); err != nil {
		return nil, err
	}
	u, _, err := r.parseLocation(location)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return caindex.ReadFile(localPath(location))
	}
	dir, name, err := r.SplitIndexLocation(location)
	if err != nil {
		return nil, err
	}
	s, err := r.OpenIndexStore(ctx, dir, o)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.GetIndex(ctx, name)
}
