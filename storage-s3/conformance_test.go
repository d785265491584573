package s3store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	s3store "github.com/folbricht/desync/storage-s3"
	"github.com/folbricht/desync/storage-s3/s3test"
	"github.com/folbricht/desync/storage/storagetest"
)

// keys hands every store the server's root keys, as the command line's
// s3-credentials would.
type keys struct{ C storage.Credential }

func (k keys) Credential(context.Context, *url.URL) (storage.Credential, error) { return k.C, nil }

func rootKeys(srv *s3test.Server) storage.Credentials {
	return keys{storage.Credential{ID: srv.Access, Secret: storage.Secret(srv.Secret), Attrs: map[string]string{"region": "us-east-1"}}}
}

var buckets atomic.Int64

// newBucket creates a fresh bucket on srv and returns its name.
func newBucket(t testing.TB, srv *s3test.Server) string {
	name := fmt.Sprintf("b%d-%d", time.Now().UnixNano()%1e6, buckets.Add(1))
	srv.Bucket(t, name)
	return name
}

func open(t testing.TB, location string, o storage.Options) *storage.ObjectStore {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	s, err := s3store.NewStore(context.Background(), u, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the chunk store suite against versitygw, in a
// bucket's root and under a prefix, compressed and plain, directly and
// as storage.Open returns it (with a Retry).
func TestConformance(t *testing.T) {
	srv := s3test.Start(t)
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
		name    string
		prefix  string
		o       storage.Options
		conv    chunk.Converter
		viaOpen bool
	}{
		{"Zstd", "store/chunks", storage.Options{}, zstd, false},
		{"BucketRoot", "", storage.Options{}, zstd, false},
		{"Uncompressed", "plain", storage.Options{Uncompressed: true}, chunk.Uncompressed{}, false},
		{"Open", "opened", storage.Options{ErrorRetry: 2, ErrorRetryBaseInterval: time.Millisecond}, zstd, true},
		{"Encrypted", "enc", storage.Options{Encryption: true, EncryptionKey: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", EncryptionAlgorithm: chunk.AES256GCM}, encConv, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drivers := map[chunk.Store]*storage.ObjectStore{}
			storagetest.Run(t, storagetest.Harness{
				New: func(t *testing.T) chunk.Store {
					o := tc.o
					o.Credentials = rootKeys(srv)
					loc := srv.URL(newBucket(t, srv), tc.prefix)
					if !tc.viaOpen {
						s := open(t, loc, o)
						drivers[s] = s
						return s
					}
					s, err := storage.Open(context.Background(), loc, o)
					if err != nil {
						t.Fatal(err)
					}
					if _, ok := s.(*storage.Retry); !ok {
						t.Fatalf("storage.Open(%s) = %T, want a *storage.Retry", loc, s)
					}
					drivers[s] = open(t, loc, o)
					return s
				},
				Converter: tc.conv,
				// Corrupt writes the object's file in the posix backend (a new
				// file, renamed over the old one). Not through the S3 API:
				// versitygw v1.8.0 answers a PUT of an empty body twice, the
				// second time on a connection the client thinks idle.
				Corrupt: func(t *testing.T, s chunk.Store, id chunk.ID, stored []byte) {
					st := drivers[s]
					d := st.Driver().(*s3store.Driver)
					writeObject(t, filepath.Join(srv.Dir, d.Location().Bucket, d.Location().Key(st.Name(id))), stored)
				},
			})
		})
	}
}

// writeObject replaces the file at p with one holding b.
func writeObject(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := p + ".new"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

// TestIndexConformance runs the index store suite against versitygw.
func TestIndexConformance(t *testing.T) {
	srv := s3test.Start(t)
	storagetest.RunIndex(t, storagetest.IndexHarness{
		New: func(t *testing.T) storage.IndexStore {
			u, _ := url.Parse(srv.URL(newBucket(t, srv), "indexes"))
			s, err := s3store.NewIndexStore(context.Background(), u, storage.Options{Credentials: rootKeys(srv)})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	})
}

// TestUnreachable: a store in a bucket that does not exist fails at
// once, permanently, naming the store.
func TestUnreachable(t *testing.T) {
	srv := s3test.Start(t)
	storagetest.RunUnreachable(t, open(t, srv.URL("no-such-bucket", "p"), storage.Options{Credentials: rootKeys(srv)}))
}

// TestRefused: a wrong secret, a wrong access key and a missing bucket
// are permanent errors that say which, name the store, and are not
// missing chunks; the secret is never shown.
func TestRefused(t *testing.T) {
	srv := s3test.Start(t)
	bucket := newBucket(t, srv)
	for _, tc := range []struct {
		name, bucket, id, secret, want string
	}{
		{"WrongSecret", bucket, srv.Access, "wrong-secret-4242", "wrong secret key"},
		{"WrongKey", bucket, "NOSUCHKEY", "wrong-secret-4242", "wrong access key"},
		{"MissingBucket", "no-such-bucket", srv.Access, srv.Secret, "bucket no-such-bucket does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// With the region given, minio-go asks no bucket location first:
			// HasChunk is a bare HEAD.
			region := map[string]string{"region": "us-east-1"}
			s := open(t, srv.URL(tc.bucket, "p"), storage.Options{Credentials: keys{storage.Credential{ID: tc.id, Secret: storage.Secret(tc.secret), Attrs: region}}})
			defer s.Close()
			ctx := context.Background()
			c := chunk.New(chunk.SHA512_256.Sum([]byte("x")), []byte("x"))
			calls := map[string]func() error{
				"GetChunk":   func() error { _, err := s.GetChunk(ctx, c.ID()); return err },
				"HasChunk":   func() error { _, err := s.HasChunk(ctx, c.ID()); return err },
				"StoreChunk": func() error { return s.StoreChunk(ctx, c) },
				"ListChunks": func() error {
					for _, err := range s.ListChunks(ctx) {
						return err
					}
					return nil
				},
			}
			for name, call := range calls {
				err := call()
				switch {
				case err == nil:
					t.Errorf("%s: no error", name)
				case !storage.IsPermanent(err):
					t.Errorf("%s: %v is not permanent", name, err)
				case errors.Is(err, chunk.ErrMissing):
					t.Errorf("%s: %v is a missing chunk", name, err)
				case !strings.Contains(err.Error(), tc.want):
					t.Errorf("%s: %v does not say %q", name, err, tc.want)
				case !strings.Contains(err.Error(), s.String()):
					t.Errorf("%s: %v does not name the store %s", name, err, s)
				case strings.Contains(err.Error(), tc.secret) || strings.Contains(err.Error(), srv.Secret):
					t.Errorf("%s: %v shows the secret", name, err)
				}
			}
		})
	}
}

// TestOpen runs the registration and secrets suite on the s3 schemes.
func TestOpen(t *testing.T) {
	srv := s3test.Start(t)
	r := storage.NewRegistry()
	s3store.Register(r)
	storagetest.RunOpen(t, storagetest.OpenHarness{
		Registry: r,
		Location: srv.URL(newBucket(t, srv), "p"),
		Fail:     srv.URL("no-such-bucket", "p"),
		Secret:   "a-secret-that-must-not-show",
	})
}

var layout = regexp.MustCompile(`^[0-9a-f]{4}/[0-9a-f]{64}\.cacnk$`)

// TestLayout: the objects a store writes are exactly
// <prefix>/<4 hex>/<id>.cacnk, as the server's backing directory shows,
// so the directory is a casync store.
func TestLayout(t *testing.T) {
	srv := s3test.Start(t)
	bucket := newBucket(t, srv)
	s := open(t, srv.URL(bucket, "a/b"), storage.Options{Credentials: rootKeys(srv)})
	defer s.Close()
	ctx := context.Background()
	want := map[string]bool{}
	for i := range 20 {
		p := bytes.Repeat([]byte{byte(i)}, 1000+i)
		c := chunk.New(chunk.SHA512_256.Sum(p), p)
		if err := s.StoreChunk(ctx, c); err != nil {
			t.Fatal(err)
		}
		want[c.ID().String()[:4]+"/"+c.ID().String()+".cacnk"] = true
	}
	root := filepath.Join(srv.Dir, bucket)
	got := map[string]bool{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			got[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	for name := range got {
		rest, ok := strings.CutPrefix(name, "a/b/")
		if !ok || !layout.MatchString(rest) || !want[rest] {
			t.Errorf("unexpected file %s in the bucket", name)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d files in the bucket, want %d", len(got), len(want))
	}
	// The backing directory reads as a local casync store.
	l, err := storage.NewLocal(filepath.Join(root, "a", "b"), storage.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for name := range want {
		id, err := chunk.ParseID(strings.TrimSuffix(name[5:], ".cacnk"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.GetChunk(ctx, id); err != nil {
			t.Errorf("the local store on the bucket's directory: %v", err)
		}
	}
}

// TestListPages: listing streams more than one page of keys (the server
// returns 1000 at a time), each chunk once, and skips what is not a
// chunk.
func TestListPages(t *testing.T) {
	srv := s3test.Start(t)
	bucket := newBucket(t, srv)
	dir := filepath.Join(srv.Dir, bucket, "p")
	const n = 1234
	want := map[chunk.ID]bool{}
	for i := range n {
		id := chunk.SHA512_256.Sum([]byte(fmt.Sprint(i)))
		want[id] = true
		p := filepath.Join(dir, id.String()[:4], id.String()+".cacnk")
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("not checked by listing"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "README"), []byte("not a chunk"), 0o644)
	os.WriteFile(filepath.Join(srv.Dir, bucket, "pq"), []byte("outside the prefix"), 0o644)
	s := open(t, srv.URL(bucket, "p"), storage.Options{Credentials: rootKeys(srv)})
	defer s.Close()
	seen := map[chunk.ID]int{}
	for id, err := range s.ListChunks(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		seen[id]++
	}
	if len(seen) != n {
		t.Errorf("listed %d chunks, want %d", len(seen), n)
	}
	for id, k := range seen {
		if !want[id] || k != 1 {
			t.Errorf("chunk %s listed %d times, stored: %v", id, k, want[id])
		}
	}
	// Stopping early ends the listing (no goroutine left paging).
	k := 0
	for _, err := range s.ListChunks(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if k++; k == 10 {
			break
		}
	}
}

// BenchmarkS3 measures GetChunk and StoreChunk of 64 KiB chunks against
// versitygw on loopback.
func BenchmarkS3(b *testing.B) {
	srv := s3test.Start(b)
	storagetest.RunBenchmarks(b, storagetest.BenchHarness{
		New: func(b *testing.B) chunk.Store {
			return open(b, srv.URL(newBucket(b, srv), "bench"), storage.Options{Credentials: rootKeys(srv)})
		},
	})
}
