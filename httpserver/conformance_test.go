package httpserver_test

import (
	"context"
	"io/fs"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/httpserver"
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

// TestConformance runs the chunk store conformance suite on the HTTP
// client (storage-http) against our chunk-server (writable, backed by a
// local store, not verifying what it sends) in four configurations, directly and as storage.Open returns it (with
// retries).
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
		for _, viaOpen := range []bool{false, true} {
			name := tc.name
			if viaOpen {
				name += "/Open"
			}
			t.Run(name, func(t *testing.T) {
				var b backends
				storagetest.Run(t, storagetest.Harness{
					New: func(t *testing.T) chunk.Store {
						l := newLocal(t, storage.LocalOptions{Digest: tc.o.Digest, Uncompressed: tc.o.Uncompressed})
						// SkipVerifyRead: the server sends its store's bytes as
						// they are, so the suite's corrupt chunks reach the
						// client, whose verification is under test here (the
						// server's own is TestVerifiedReads').
						_, base := startChunkServer(t, l, httpserver.ChunkServerOptions{
							Writable: true, Uncompressed: tc.o.Uncompressed, Digest: tc.o.Digest, SkipVerifyRead: true,
						})
						var s chunk.Store
						if viaOpen {
							o := tc.o
							o.ErrorRetry, o.ErrorRetryBaseInterval = 2, 1
							var err error
							if s, err = storage.Open(context.Background(), base, o); err != nil {
								t.Fatal(err)
							}
							if _, ok := s.(*storage.Retry); !ok {
								t.Fatalf("storage.Open(%s) = %T, want a *storage.Retry", base, s)
							}
						} else {
							s = newClient(t, base, tc.o)
						}
						b.set(s, l)
						return s
					},
					Digest:     tc.o.Digest,
					SkipVerify: tc.o.SkipVerify,
					Converter:  tc.conv,
					Corrupt: func(t *testing.T, s chunk.Store, id chunk.ID, stored []byte) {
						storagetest.CorruptLocal(t, b.get(s), id, stored)
					},
					Check: func(t *testing.T, s chunk.Store) { checkNoTemp(t, b.get(s)) },
				})
			})
		}
	}
}

// TestIndexConformance runs the index store suite on the HTTP index store
// (storage-http) against our index-server, directly and as
// storage.OpenIndexStore returns it (with retries).
func TestIndexConformance(t *testing.T) {
	for _, viaOpen := range []bool{false, true} {
		name := "Direct"
		if viaOpen {
			name = "Open"
		}
		t.Run(name, func(t *testing.T) {
			storagetest.RunIndex(t, storagetest.IndexHarness{
				Flat: true,
				New: func(t *testing.T) storage.IndexStore {
					is, err := httpserver.NewIndexServer(t.TempDir(), httpserver.IndexServerOptions{Writable: true})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { is.Close() })
					srv := httptest.NewServer(is)
					t.Cleanup(srv.Close)
					if viaOpen {
						o := storage.DefaultOptions()
						o.ErrorRetryBaseInterval = 1
						s, err := storage.OpenIndexStore(context.Background(), srv.URL+"/", o)
						if err != nil {
							t.Fatal(err)
						}
						return s
					}
					s, err := httpstore.NewIndexStore(mustURL(t, srv.URL+"/"), storage.Options{})
					if err != nil {
						t.Fatal(err)
					}
					return s
				},
			})
		})
	}
}

// BenchmarkChunkServer runs the store benchmarks on the HTTP client
// against a writable chunk-server over a local store: the whole HTTP path,
// the server's verification of uploads included.
func BenchmarkChunkServer(b *testing.B) {
	storagetest.RunBenchmarks(b, storagetest.BenchHarness{
		New: func(b *testing.B) chunk.Store {
			l, err := storage.NewLocal(filepath.Join(b.TempDir(), "store"), storage.LocalOptions{})
			if err != nil {
				b.Fatal(err)
			}
			cs, err := httpserver.NewChunkServer(l, httpserver.ChunkServerOptions{Writable: true})
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(cs)
			b.Cleanup(srv.Close)
			s, err := httpstore.NewStore(&url.URL{Scheme: "http", Host: srv.Listener.Addr().String(), Path: "/"}, storage.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
	})
}
