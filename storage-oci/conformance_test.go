package ocistore_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	ocistore "github.com/folbricht/desync/storage-oci"
	"github.com/folbricht/desync/storage-oci/ocitest"
	"github.com/folbricht/desync/storage/storagetest"
)

var repos atomic.Int64

// newRepo names a fresh repository.
func newRepo() string { return fmt.Sprintf("desync/t%d-%d", time.Now().UnixNano()%1e6, repos.Add(1)) }

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// noDocker points the docker credential store at an empty directory, so
// that the tests never use the login of whoever runs them.
func noDocker(t testing.TB) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv(ocistore.EnvUsername, "")
	t.Setenv(ocistore.EnvPassword, "")
}

func open(t testing.TB, location string, o storage.Options) *storage.ObjectStore {
	t.Helper()
	s, err := ocistore.NewStore(context.Background(), mustURL(t, location), o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openFormat opens the store with its chunk format made from fo (for a
// suffix with an encryption part).
func openFormat(t testing.TB, location string, fo storage.FormatOptions) *storage.ObjectStore {
	t.Helper()
	d, err := ocistore.NewDriver(context.Background(), mustURL(t, location), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := storage.NewChunkFormat(fo)
	if err != nil {
		t.Fatal(err)
	}
	return storage.NewObjectStoreFormat(d, f, nil)
}

// TestConformance runs the chunk store suite against the distribution
// registry: compressed, plain, with a suffix that has an encryption part
// (the driver takes it from the layout), through storage.Open (with a
// Retry), and behind bearer-token auth; the variants run side by side.
func TestConformance(t *testing.T) {
	noDocker(t)
	srv := ocitest.Start(t)
	bearer := ocitest.StartBearer(t, "desync/bearer")
	zstd, err := chunk.NewZstd(chunk.ZstdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// (Basic auth: TestCredentialOrder and TestOpen.)
	login := func(s *ocitest.Server) storage.Credentials {
		return storage.StaticCredentials{s.Addr: {ID: s.User, Secret: storage.Secret(s.Pass)}}
	}
	t.Run("Variants", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			new  func(t *testing.T) *storage.ObjectStore
			wrap bool // open through storage.Open
			conv chunk.Converter
			loc  func() string
		}{
			{name: "Zstd", conv: zstd, new: func(t *testing.T) *storage.ObjectStore { return open(t, srv.URL(newRepo()), storage.Options{}) }},
			{name: "Uncompressed", conv: chunk.Uncompressed{}, new: func(t *testing.T) *storage.ObjectStore {
				return open(t, srv.URL(newRepo()), storage.Options{Uncompressed: true})
			}},
			{name: "EncryptionSuffix", conv: zstd, new: func(t *testing.T) *storage.ObjectStore {
				return openFormat(t, srv.URL(newRepo()), storage.FormatOptions{Suffix: ".cacnk.xchacha20-poly1305-630dcd29"})
			}},
			{name: "Bearer", conv: zstd, new: func(t *testing.T) *storage.ObjectStore {
				return open(t, bearer.URL("desync/bearer"), storage.Options{Credentials: login(bearer.Server)})
			}},
			{name: "Open", conv: zstd, wrap: true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel() // each variant in its own repositories; the registry's latency dominates
				var mu sync.Mutex
				drivers := map[chunk.Store]*storage.ObjectStore{}
				storagetest.Run(t, storagetest.Harness{
					New: func(t *testing.T) chunk.Store {
						if tc.wrap {
							loc := srv.URL(newRepo())
							s, err := storage.Open(context.Background(), loc, storage.Options{ErrorRetry: 2, ErrorRetryBaseInterval: time.Millisecond})
							if err != nil {
								t.Fatal(err)
							}
							if _, ok := s.(*storage.Retry); !ok {
								t.Fatalf("storage.Open(%s) = %T, want a *storage.Retry", loc, s)
							}
							mu.Lock()
							drivers[s] = open(t, loc, storage.Options{})
							mu.Unlock()
							return s
						}
						s := tc.new(t)
						if tc.name == "Bearer" {
							// One repository for every subtest: empty it.
							if err := s.Prune(context.Background(), func(chunk.ID) bool { return false }); err != nil {
								t.Fatal(err)
							}
						}
						mu.Lock()
						drivers[s] = s
						mu.Unlock()
						return s
					},
					Converter: tc.conv,
					// Corrupt pushes the bytes as the chunk's blob, through the
					// registry API like any chunk.
					Corrupt: func(t *testing.T, s chunk.Store, id chunk.ID, stored []byte) {
						mu.Lock()
						st := drivers[s]
						mu.Unlock()
						if err := st.Driver().Put(context.Background(), st.Name(id), stored); err != nil {
							t.Fatal(err)
						}
					},
				})
			})
		}
	})
	if bearer.Tokens() == 0 {
		t.Error("the bearer registry handed out no token")
	}
}

// TestUnreachable: no registry at the address (a refused connection) is
// a permanent failure naming the store, made once through a Retry.
func TestUnreachable(t *testing.T) {
	noDocker(t)
	storagetest.RunUnreachable(t, open(t, "oci+http://"+ocitest.FreeAddr(t)+"/desync/store", storage.Options{}))
}

// TestUnreachableDenied: a repository the login may not use (the bearer
// registry grants no token for it) is permanent too.
func TestUnreachableDenied(t *testing.T) {
	noDocker(t)
	bearer := ocitest.StartBearer(t, "desync/allowed")
	creds := storage.StaticCredentials{bearer.Addr: {ID: bearer.User, Secret: storage.Secret(bearer.Pass)}}
	storagetest.RunUnreachable(t, open(t, bearer.URL("desync/other"), storage.Options{Credentials: creds}))
}

// TestOpen: registration, unknown schemes, and no secret in names,
// errors or printed options.
func TestOpen(t *testing.T) {
	noDocker(t)
	basic := ocitest.StartBasic(t)
	r := storage.NewRegistry()
	ocistore.Register(r)
	storagetest.RunOpen(t, storagetest.OpenHarness{
		Registry: r,
		Location: basic.URL(newRepo()),
		Fail:     basic.URL(newRepo()),
		Secret:   "oci-secret-never-shown-31337",
	})
}

// BenchmarkOCI runs the store benchmarks against the registry.
func BenchmarkOCI(b *testing.B) {
	noDocker(b)
	srv := ocitest.Start(b)
	storagetest.RunBenchmarks(b, storagetest.BenchHarness{
		New: func(b *testing.B) chunk.Store { return open(b, srv.URL(newRepo()), storage.Options{}) },
	})
}

// TestSilentRegistry: a registry address that accepts connections and
// never answers (a hung host, a firewall that swallows the handshake)
// fails within seconds, retries included, naming the store, instead of
// waiting out the minute of the request timeout on every attempt.
func TestSilentRegistry(t *testing.T) {
	noDocker(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent, until the test ends
		}
	}()
	s := open(t, "oci+https://"+ln.Addr().String()+"/desync/store", storage.Options{})
	defer s.Close()
	r := storage.NewRetry(s, storage.RetryOptions{Attempts: storage.DefaultErrorRetry, BaseInterval: storage.DefaultErrorRetryBaseInterval})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	_, err = r.GetChunk(ctx, chunk.SHA512_256.Sum([]byte("silent")))
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), s.String()) {
		t.Fatalf("GetChunk from a silent registry: %v, want an error naming %s", err, s)
	}
	// 3 attempts of at most ConnectTimeout each, and the waits between.
	if bound := storage.DefaultErrorRetry*ocistore.ConnectTimeout + 2*time.Second; took > bound {
		t.Errorf("a silent registry took %v to fail, more than %v", took.Round(time.Millisecond), bound)
	}
}
