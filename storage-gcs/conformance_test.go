package gcsstore_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	gcsstore "github.com/folbricht/desync/storage-gcs"
	"github.com/folbricht/desync/storage-gcs/gcstest"
	"github.com/folbricht/desync/storage/storagetest"
)

// where is a store under test: its bucket and prefix on the server.
type where struct {
	bucket, prefix string
	uncompressed   bool
	encrypted      bool // with the test key (630dcd29) and AES-256-GCM
}

// objectName is the object of chunk id, written out here rather than
// asked of the store: <prefix>/<4 hex>/<id>.cacnk (no suffix uncompressed).
func (w where) objectName(id chunk.ID) string {
	h := id.String()
	name := h[:4] + "/" + h
	if !w.uncompressed {
		name += ".cacnk"
	}
	if w.encrypted {
		name += ".aes-256-gcm-630dcd29"
	}
	if w.prefix != "" {
		name = w.prefix + "/" + name
	}
	return name
}

// chunkFile matches what a store may leave under its prefix: chunk files
// in the directory of their first 4 hex digits (64 hex: SHA-512/256 and
// SHA-256 IDs alike).
var chunkFile = regexp.MustCompile(`^([0-9a-f]{4})/([0-9a-f]{64})(\.cacnk)?(\.aes-256-gcm-630dcd29)?$`)

// checkLayout walks the server's files of the store and wants nothing but
// chunk objects named as casync names them (and with the right suffix).
func checkLayout(t *testing.T, srv *gcstest.Server, w where) {
	t.Helper()
	dir := filepath.Join(srv.Root, w.bucket, filepath.FromSlash(w.prefix))
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		m := chunkFile.FindStringSubmatch(filepath.ToSlash(rel))
		switch {
		case m == nil:
			t.Errorf("object %q in the store is not <4hex>/<id>[.cacnk]", rel)
		case m[1] != m[2][:4]:
			t.Errorf("object %q is not in the directory of its first 4 hex digits", rel)
		case (m[3] == "") != w.uncompressed || (m[4] == "") == w.encrypted:
			t.Errorf("object %q: wrong suffix for uncompressed=%v, encrypted=%v", rel, w.uncompressed, w.encrypted)
		}
		return nil
	})
}

var prefixSeq atomic.Int64

// TestConformance runs the chunk store suite against fake-gcs-server, in
// a bucket's root (listing in pages of 7) and under a prefix, compressed
// and not, with both digests, and as storage.Open returns the store (with
// retries). Verification and SkipVerify are the shared code's, run on
// every store by the storage module's own tests.
func TestConformance(t *testing.T) {
	srv := gcstest.Start(t)
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
		name   string
		o      storage.Options
		conv   chunk.Converter
		root   bool // the store is the bucket's root
		open   bool // through storage.Open
		paging int  // listing page size (0: the server's)
	}{
		{name: "Zstd", conv: zstd},
		{name: "RootSmallPages", conv: zstd, root: true, paging: 7},
		{name: "UncompressedSHA256", o: storage.Options{Uncompressed: true, Digest: chunk.SHA256}, conv: chunk.Uncompressed{}},
		{name: "Open", o: storage.Options{ErrorRetry: 2, ErrorRetryBaseInterval: 1}, conv: zstd, open: true},
		{name: "Encrypted", o: storage.Options{Encryption: true, EncryptionKey: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", EncryptionAlgorithm: chunk.AES256GCM}, conv: encConv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bucket := srv.Bucket(t)
			var stores sync.Map // chunk.Store → where
			storagetest.Run(t, storagetest.Harness{
				New: func(t *testing.T) chunk.Store {
					w := where{bucket: srv.Bucket(t), uncompressed: tc.o.Uncompressed, encrypted: tc.o.Encryption}
					if !tc.root {
						w.bucket, w.prefix = bucket, fmt.Sprintf("p%d/store", prefixSeq.Add(1))
					}
					loc := "gs://" + w.bucket + "/" + w.prefix
					var s chunk.Store
					if tc.open {
						var err error
						if s, err = storage.Open(context.Background(), loc, tc.o); err != nil {
							t.Fatal(err)
						}
						if _, ok := s.(*storage.Retry); !ok {
							t.Fatalf("storage.Open(%s) = %T, want a *storage.Retry", loc, s)
						}
					} else {
						u, _ := url.Parse(loc)
						os, err := gcsstore.NewStore(context.Background(), u, tc.o)
						if err != nil {
							t.Fatal(err)
						}
						if tc.paging > 0 {
							gcsstore.SetPageSize(os.Driver().(*gcsstore.Driver), tc.paging)
						}
						s = os
					}
					stores.Store(s, w)
					return s
				},
				Digest:     tc.o.Digest,
				SkipVerify: tc.o.SkipVerify,
				Converter:  tc.conv,
				Corrupt: func(t *testing.T, s chunk.Store, id chunk.ID, stored []byte) {
					w, _ := stores.Load(s)
					srv.Put(t, w.(where).bucket, w.(where).objectName(id), stored)
				},
				Check: func(t *testing.T, s chunk.Store) {
					w, _ := stores.Load(s)
					checkLayout(t, srv, w.(where))
				},
			})
		})
	}
}

// TestIndexConformance runs the index store suite against fake-gcs-server.
func TestIndexConformance(t *testing.T) {
	srv := gcstest.Start(t)
	bucket := srv.Bucket(t)
	storagetest.RunIndex(t, storagetest.IndexHarness{
		New: func(t *testing.T) storage.IndexStore {
			u, _ := url.Parse(fmt.Sprintf("gs://%s/idx%d", bucket, prefixSeq.Add(1)))
			s, err := gcsstore.NewIndexStore(context.Background(), u, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	})
}

// TestMissingBucket: a store in a bucket that does not exist fails
// permanently at once, never as a missing chunk.
func TestMissingBucket(t *testing.T) {
	gcstest.Start(t)
	u, _ := url.Parse("gs://no-such-bucket/store")
	s, err := gcsstore.NewStore(context.Background(), u, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storagetest.RunUnreachable(t, s)
}

// TestOpen: the gs scheme is registered, and no secret shows in String()
// or in errors (the backend takes no secret from Options.Credentials;
// the suite hands one to it anyway).
func TestOpen(t *testing.T) {
	srv := gcstest.Start(t)
	r := storage.NewRegistry()
	gcsstore.Register(r)
	storagetest.RunOpen(t, storagetest.OpenHarness{
		Registry: r,
		Location: "gs://" + srv.Bucket(t) + "/store",
		Fail:     "gs://no-such-bucket/store",
		Options:  storage.Options{ErrorRetry: 1},
		Secret:   "s3cr3t-gcs-token",
	})
}

// BenchmarkStore measures Get and Store of 64 KiB chunks against
// fake-gcs-server on loopback.
func BenchmarkStore(b *testing.B) {
	srv := gcstest.Start(b)
	storagetest.RunBenchmarks(b, storagetest.BenchHarness{
		New: func(b *testing.B) chunk.Store {
			u, _ := url.Parse(fmt.Sprintf("gs://%s/bench%d", srv.Bucket(b), prefixSeq.Add(1)))
			s, err := gcsstore.NewStore(context.Background(), u, storage.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
	})
}
