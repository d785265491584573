package httpstore_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	httpstore "github.com/folbricht/desync/storage-http"
	"github.com/folbricht/desync/storage/storagetest"
)

// backends remembers the local store behind each client under test, so
// Corrupt and Check can reach it.
type backends struct {
	mu sync.Mutex
	m  map[chunk.Store]*storage.Local
}

func (b *backends) set(s chunk.Store, l *storage.Local) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[chunk.Store]*storage.Local{}
	}
	b.m[s] = l
}

func (b *backends) get(s chunk.Store) *storage.Local {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[s]
}

func checkNoTemp(t *testing.T, l *storage.Local) {
	t.Helper()
	l.Close()
	filepath.WalkDir(l.String(), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".tmp") {
			t.Errorf("temporary file left in the server's store: %s", p)
		}
		return nil
	})
}

// servers remembers the object server behind each client under test, so
// Corrupt and Check can reach it.
type servers struct {
	mu sync.Mutex
	m  map[chunk.Store]*objectServer
}

func (v *servers) set(s chunk.Store, o *objectServer) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = map[chunk.Store]*objectServer{}
	}
	v.m[s] = o
}

func (v *servers) get(s chunk.Store) *objectServer {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m[s]
}

// checkOnlyChunks fails if the server holds an object that is not a chunk
// named as the layout names it: the client writes nothing else.
func checkOnlyChunks(t *testing.T, o *objectServer, layout storage.ChunkLayout) {
	t.Helper()
	for name, err := range o.List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		if id, ok := layout.Parse(name); !ok || layout.Name(id) != name {
			t.Errorf("the client left %q on the server, not a chunk", name)
		}
	}
}

// TestConformance runs the chunk store conformance suite on the HTTP
// client against a writable HTTP object server (objectServer: it stores
// what is PUT and sends it back as it is, so the suite's corrupt chunks
// reach the client, whose verification is under test) in four
// configurations, directly and as storage.Open returns it (with retries).
// The same suite against our chunk-server is in module httpserver.
func TestConformance(t *testing.T) {
	zstd, err := chunk.NewZstd(chunk.ZstdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    storage.Options
		conv chunk.Converter
	}{
		{"Zstd", storage.Options{}, zstd},
		{"Uncompressed", storage.Options{Uncompressed: true}, chunk.Uncompressed{}},
		{"SHA256", storage.Options{Digest: chunk.SHA256}, zstd},
		{"SkipVerify", storage.Options{SkipVerify: true}, zstd},
	} {
		layout := storage.ChunkLayout{Suffix: storage.SuffixCompressed}
		if tc.o.Uncompressed {
			layout.Suffix = storage.SuffixPlain
		}
		for _, viaOpen := range []bool{false, true} {
			name := tc.name
			if viaOpen {
				name += "/Open"
			}
			t.Run(name, func(t *testing.T) {
				var v servers
				storagetest.Run(t, storagetest.Harness{
					New: func(t *testing.T) chunk.Store {
						objs := newObjectServer(t)
						var s chunk.Store
						if viaOpen {
							o := tc.o
							o.ErrorRetry, o.ErrorRetryBaseInterval = 2, 1
							var err error
							if s, err = storage.Open(context.Background(), objs.URL, o); err != nil {
								t.Fatal(err)
							}
							if _, ok := s.(*storage.Retry); !ok {
								t.Fatalf("storage.Open(%s) = %T, want a *storage.Retry", objs.URL, s)
							}
						} else {
							s = newClient(t, objs.URL, tc.o)
						}
						v.set(s, objs)
						return s
					},
					Digest:     tc.o.Digest,
					SkipVerify: tc.o.SkipVerify,
					Converter:  tc.conv,
					Corrupt: func(t *testing.T, s chunk.Store, id chunk.ID, stored []byte) {
						v.get(s).SetObject(layout.Name(id), stored)
					},
					Check: func(t *testing.T, s chunk.Store) { checkOnlyChunks(t, v.get(s), layout) },
				})
			})
		}
	}
}

// flushingLocal makes every chunk visible in the directory at once, as a
// static web server needs.
type flushingLocal struct{ *storage.Local }

func (f flushingLocal) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	if err := f.Local.StoreChunk(ctx, c); err != nil {
		return err
	}
	return f.Local.Flush(ctx)
}

// TestConformanceStaticServer runs the suite on the client reading a
// casync store from a plain static web server (http.FileServer on a
// loopback port), which the suite fills through a local store.
func TestConformanceStaticServer(t *testing.T) {
	zstd, err := chunk.NewZstd(chunk.ZstdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, uncompressed := range []bool{false, true} {
		name, conv := "Zstd", chunk.Converter(zstd)
		if uncompressed {
			name, conv = "Uncompressed", chunk.Uncompressed{}
		}
		t.Run(name, func(t *testing.T) {
			var b backends
			storagetest.Run(t, storagetest.Harness{
				New: func(t *testing.T) chunk.Store {
					l := newLocal(t, storage.LocalOptions{Uncompressed: uncompressed})
					if err := os.MkdirAll(l.String(), 0o777); err != nil {
						t.Fatal(err)
					}
					srv := httptest.NewServer(http.FileServer(http.Dir(l.String())))
					t.Cleanup(srv.Close)
					s := newClient(t, srv.URL+"/", storage.Options{Uncompressed: uncompressed})
					b.set(s, l)
					return s
				},
				Writer:    func(s chunk.Store) chunk.WriteStore { return flushingLocal{b.get(s)} },
				Converter: conv,
				Corrupt: func(t *testing.T, s chunk.Store, id chunk.ID, stored []byte) {
					storagetest.CorruptLocal(t, b.get(s), id, stored)
				},
				Check: func(t *testing.T, s chunk.Store) { checkNoTemp(t, b.get(s)) },
			})
		})
	}
}

// TestIndexConformance runs the index store suite on the HTTP index store
// against an HTTP object server, directly and as storage.OpenIndexStore
// returns it (with retries). The server takes any name, so names with
// directories are in the suite too. (The suite against our index-server is
// in module httpserver.)
func TestIndexConformance(t *testing.T) {
	for _, viaOpen := range []bool{false, true} {
		name := "Direct"
		if viaOpen {
			name = "Open"
		}
		t.Run(name, func(t *testing.T) {
			storagetest.RunIndex(t, storagetest.IndexHarness{
				New: func(t *testing.T) storage.IndexStore {
					objs := newObjectServer(t)
					if viaOpen {
						o := storage.DefaultOptions()
						o.ErrorRetryBaseInterval = 1
						s, err := storage.OpenIndexStore(context.Background(), objs.URL, o)
						if err != nil {
							t.Fatal(err)
						}
						return s
					}
					s, err := httpstore.NewIndexStore(mustURL(t, objs.URL), storage.Options{})
					if err != nil {
						t.Fatal(err)
					}
					return s
				},
			})
		})
	}
}

// TestUnreachableHost checks that a store on a host that does not exist
// fails permanently, with one request however many retries are allowed.
// It needs a resolver that answers "no such host" for the reserved
// .invalid domain; where there is none (no network) it is skipped.
func TestUnreachableHost(t *testing.T) {
	const host = "desync-storagetest.invalid"
	var dnsErr *net.DNSError
	if _, err := net.LookupHost(host); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Skipf("the resolver does not say %s does not exist (%v)", host, err)
	}
	storagetest.RunUnreachable(t, newClient(t, "http://"+host+"/store/", storage.Options{}))
}

// BenchmarkHTTP runs the store benchmarks on the HTTP client against an
// in-memory object server: the client's and HTTP's own cost. (With our
// chunk-server, which verifies uploads, see module httpserver.)
func BenchmarkHTTP(b *testing.B) {
	storagetest.RunBenchmarks(b, storagetest.BenchHarness{
		New: func(b *testing.B) chunk.Store {
			objs := newObjectServer(b)
			s, err := httpstore.NewStore(mustURL(b, objs.URL), storage.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
	})
}

// TestOpen runs the open and registration suite on a registry of the HTTP
// backend alone: the password of a store's URL is in no String and no
// error, for a store that works and for one that refuses the credential.
func TestOpen(t *testing.T) {
	r := storage.NewRegistry()
	httpstore.Register(r)
	base := newObjectServer(t).URL
	deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad credentials", http.StatusUnauthorized)
	}))
	t.Cleanup(deny.Close)
	const secret = "pa55-word-XYZ"
	withPassword := func(loc string) string {
		u := mustURL(t, loc)
		u.User = url.UserPassword("user", secret)
		return u.String()
	}
	storagetest.RunOpen(t, storagetest.OpenHarness{
		Registry: r,
		Location: withPassword(base),
		Fail:     withPassword(deny.URL + "/store/"),
		Options:  storage.Options{ErrorRetry: 2, ErrorRetryBaseInterval: 1},
		Secret:   secret,
	})
}
