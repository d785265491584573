package sftpstore_test

import (
	"context"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	sftpstore "github.com/folbricht/desync/storage-sftp"
	"github.com/folbricht/desync/storage-sftp/sftptest"
	"github.com/folbricht/desync/storage/storagetest"
)

// start starts sshd and points CASYNC_SSH_PATH at its ssh wrapper.
func start(t testing.TB) *sftptest.Server {
	t.Helper()
	srv := sftptest.Start(t)
	if tt, ok := t.(interface{ Setenv(k, v string) }); ok {
		tt.Setenv(sftpstore.SSHPathEnv, srv.SSH)
	} else {
		os.Setenv(sftpstore.SSHPathEnv, srv.SSH)
		t.Cleanup(func() { os.Unsetenv(sftpstore.SSHPathEnv) })
	}
	return srv
}

// newDir makes a fresh store directory under the server's root, named
// with a space and a quote: remote paths must reach the server intact.
func newDir(t testing.TB, srv *sftptest.Server) (loc, dir string) {
	t.Helper()
	dir, err := os.MkdirTemp(srv.Root, "it's a store *")
	if err != nil {
		t.Fatal(err)
	}
	return srv.Location(filepath.Base(dir)), dir
}

func mustParse(t testing.TB, loc string) *url.URL {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// backing remembers the server directory behind each store under test.
type backing struct {
	mu sync.Mutex
	m  map[chunk.Store]string
}

func (b *backing) set(s chunk.Store, dir string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[chunk.Store]string{}
	}
	b.m[s] = dir
}

func (b *backing) get(s chunk.Store) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[s]
}

// local opens the server's directory as a local store, as casync would.
func local(t testing.TB, dir string, o storage.Options) *storage.Local {
	t.Helper()
	enc, err := o.EncryptionSettings()
	if err != nil {
		t.Fatal(err)
	}
	l, err := storage.NewLocal(dir, storage.LocalOptions{Digest: o.Digest, Uncompressed: o.Uncompressed, Encryption: enc})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// noTemp fails if an upload left a temporary file in dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".tmp") {
			t.Errorf("temporary file left on the server: %s", p)
		}
		return nil
	})
}

// TestConformance runs the chunk store suite against a real sshd, with the
// driver's store directly and as storage.Open returns it (with retries),
// in the stored forms a store can have.
func TestConformance(t *testing.T) {
	srv := start(t)
	zstd, err := chunk.NewZstd(chunk.ZstdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	encKey, _ := chunk.ParseEncryptionKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	encConv, err := chunk.NewEncrypted(zstd, chunk.AES256GCM, encKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    storage.Options
		conv chunk.Converter
	}{
		{"Zstd", storage.Options{N: 3}, zstd},
		{"Uncompressed", storage.Options{Uncompressed: true, N: 2}, chunk.Uncompressed{}},
		{"SHA256", storage.Options{Digest: chunk.SHA256, N: 1}, zstd},
		{"Encrypted", storage.Options{Encryption: true, EncryptionKey: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", EncryptionAlgorithm: chunk.AES256GCM, N: 2}, encConv},
	} {
		for _, viaOpen := range []bool{false, true} {
			name := tc.name
			if viaOpen {
				name += "/Open"
			}
			t.Run(name, func(t *testing.T) {
				var b backing
				storagetest.Run(t, storagetest.Harness{
					New: func(t *testing.T) chunk.Store {
						loc, dir := newDir(t, srv)
						var s chunk.Store
						var err error
						if viaOpen {
							o := tc.o
							o.ErrorRetry, o.ErrorRetryBaseInterval = 2, 1
							s, err = storage.Open(context.Background(), loc, o)
						} else {
							s, err = sftpstore.NewStore(mustParse(t, loc), tc.o)
						}
						if err != nil {
							t.Fatal(err)
						}
						b.set(s, dir)
						return s
					},
					Digest:    tc.o.Digest,
					Converter: tc.conv,
					Corrupt: func(t *testing.T, s chunk.Store, id chunk.ID, stored []byte) {
						storagetest.CorruptLocal(t, local(t, b.get(s), tc.o), id, stored)
					},
					Check: func(t *testing.T, s chunk.Store) { noTemp(t, b.get(s)) },
				})
			})
		}
	}
}

// TestIndexConformance runs the index store suite against a real sshd.
func TestIndexConformance(t *testing.T) {
	srv := start(t)
	for _, viaOpen := range []bool{false, true} {
		name := "Direct"
		if viaOpen {
			name = "Open"
		}
		t.Run(name, func(t *testing.T) {
			storagetest.RunIndex(t, storagetest.IndexHarness{
				New: func(t *testing.T) storage.IndexStore {
					loc, dir := newDir(t, srv)
					t.Cleanup(func() { noTemp(t, dir) })
					if viaOpen {
						o := storage.DefaultOptions()
						o.ErrorRetryBaseInterval = 1
						s, err := storage.OpenIndexStore(context.Background(), loc, o)
						if err != nil {
							t.Fatal(err)
						}
						return s
					}
					s, err := sftpstore.NewIndexStore(mustParse(t, loc), storage.Options{N: 2})
					if err != nil {
						t.Fatal(err)
					}
					return s
				},
			})
		})
	}
}

// BenchmarkSFTP measures GetChunk and StoreChunk over a real sshd on
// loopback.
func BenchmarkSFTP(b *testing.B) {
	srv := start(b)
	storagetest.RunBenchmarks(b, storagetest.BenchHarness{
		New: func(b *testing.B) chunk.Store {
			loc, _ := newDir(b, srv)
			s, err := sftpstore.NewStore(mustParse(b, loc), storage.Options{N: 4})
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
	})
}
