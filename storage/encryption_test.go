package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

// vectorKey is the key of the stores the original desync wrote in
// chunk/testdata/encrypted (see the README there).
const (
	vectorKey  = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	vectorDir  = "../chunk/testdata/encrypted"
	vectorHash = "b78d0018dae994ed8be4fb8d5cc1c39528a394c87e0f4af6041a17e882c0ec68"
)

func mustKey(t testing.TB, h string) []byte {
	t.Helper()
	k, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestEncryptedLocalConformance runs the store suite on encrypted local
// stores and on an encrypted object store, for both algorithms.
func TestEncryptedLocalConformance(t *testing.T) {
	zstd, err := chunk.NewZstd(chunk.ZstdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key := mustKey(t, vectorKey)
	for _, alg := range []string{chunk.XChaCha20Poly1305, chunk.AES256GCM} {
		for _, uncompressed := range []bool{false, true} {
			var inner chunk.Converter = zstd
			if uncompressed {
				inner = chunk.Uncompressed{}
			}
			conv, err := chunk.NewEncrypted(inner, alg, key)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%s/uncompressed=%v", alg, uncompressed)
			enc := &storage.Encryption{Algorithm: alg, Key: key}
			t.Run("Local/"+name, func(t *testing.T) {
				storagetest.Run(t, storagetest.Harness{
					New: func(t *testing.T) chunk.Store {
						s, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"), storage.LocalOptions{Uncompressed: uncompressed, Encryption: enc})
						if err != nil {
							t.Fatal(err)
						}
						return s
					},
					Converter: conv,
					Corrupt:   corruptLocal,
					Check:     checkNoTemp,
				})
			})
			t.Run("Object/"+name, func(t *testing.T) {
				o := storage.Options{Uncompressed: uncompressed, Encryption: true, EncryptionAlgorithm: alg, EncryptionKey: vectorKey}
				storagetest.Run(t, storagetest.Harness{
					New: func(t *testing.T) chunk.Store {
						s, err := storage.NewObjectStore(storagetest.NewMemDriver(t.Name()), o)
						if err != nil {
							t.Fatal(err)
						}
						return s
					},
					Converter: conv,
					Corrupt: func(t *testing.T, s chunk.Store, id chunk.ID, b []byte) {
						os := s.(*storage.ObjectStore)
						os.Driver().(*storagetest.MemDriver).SetObject(os.Name(id), b)
					},
				})
			})
		}
	}
}

// copyTree copies the directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readAll assembles the index from s.
func readAll(ctx context.Context, s chunk.Store, ix *caindex.Index) ([]byte, error) {
	var out []byte
	for _, c := range ix.Chunks {
		got, err := s.GetChunk(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		p, err := got.Plain()
		if err != nil {
			return nil, err
		}
		out = append(out, p...)
	}
	return out, nil
}

// TestEncryptedVectorStores reads the stores the original desync wrote,
// through Open and the store options of config.json, and what a wrong
// key, a tampered, cut or swapped file does to the read: missing or
// invalid, never other content.
func TestEncryptedVectorStores(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		store, options string
	}{
		{"xc", `{"encryption": true, "encryption-key": "` + vectorKey + `"}`},
		{"aes", `{"encryption": true, "encryption-key": "` + vectorKey + `", "encryption-algorithm": "aes-256-gcm"}`},
		{"aesplain", `{"encryption": true, "encryption-key": "` + vectorKey + `", "encryption-algorithm": "aes-256-gcm", "uncompressed": true}`},
	} {
		t.Run(tc.store, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tc.store)
			copyTree(t, filepath.Join(vectorDir, tc.store), dir)
			ix, err := caindex.ReadFile(filepath.Join(vectorDir, tc.store+".caibx"))
			if err != nil {
				t.Fatal(err)
			}
			open := func(options string) chunk.Store {
				t.Helper()
				o := storage.DefaultOptions()
				if err := storage.ParseOptions(dir, []byte(options), &o); err != nil {
					t.Fatal(err)
				}
				s, err := storage.Open(ctx, dir, o)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
			s := open(tc.options)
			got, err := readAll(ctx, s, ix)
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != vectorHash {
				t.Fatalf("the store extracts to %d bytes of another content", len(got))
			}
			ids := slices.Collect(func(yield func(chunk.ID) bool) {
				for id, err := range s.(storage.Lister).ListChunks(ctx) {
					if err != nil {
						t.Fatal(err)
					}
					yield(id)
				}
			})
			if len(ids) != 5 {
				t.Errorf("the store lists %d chunks, want 5", len(ids))
			}

			// Another key, and the store without encryption, see none
			// of the chunks: their names end otherwise.
			other := strings.Replace(tc.options, vectorKey, strings.Repeat("ab", 32), 1)
			plain := `{"uncompressed": ` + fmt.Sprint(strings.Contains(tc.options, `"uncompressed": true`)) + `}`
			for _, o := range []string{other, plain} {
				if _, err := readAll(ctx, open(o), ix); !errors.Is(err, chunk.ErrMissing) {
					t.Errorf("options %s: %v, want the chunks missing", o, err)
				}
			}

			// Damage: each file in turn, under the right name.
			l, _ := storage.As[*storage.Local](s)
			id, id2 := ix.Chunks[0].ID, ix.Chunks[1].ID
			good, err := os.ReadFile(l.Path(id))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.HasPrefix(good, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
				t.Error("an encrypted chunk file starts with the zstd magic")
			}
			swapped, _ := os.ReadFile(l.Path(id2))
			flipped := bytes.Clone(good)
			flipped[len(flipped)/2] ^= 1
			for _, d := range []struct {
				name string
				b    []byte
			}{
				{"tampered", flipped},
				{"truncated", good[:len(good)-3]},
				{"too short", good[:10]},
				{"swapped", swapped},
			} {
				if err := os.Remove(l.Path(id)); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(l.Path(id), d.b, 0o444); err != nil {
					t.Fatal(err)
				}
				c, err := s.GetChunk(ctx, id)
				var inv *chunk.InvalidError
				if !errors.As(err, &inv) || inv.ID != id || inv.Store == "" || !strings.Contains(err.Error(), id.String()) || !strings.Contains(err.Error(), dir) {
					var n int
					if c != nil {
						p, _ := c.Plain()
						n = len(p)
					}
					t.Errorf("%s file: %v (%d bytes), want an invalid chunk %s in store %s", d.name, err, n, id, dir)
				}
			}
		})
	}
}

// TestEncryptedStoreFiles: what an encrypted store writes is named with the
// original desync's suffix, is no zstd frame, and differs from the plain
// store's file; re-encrypting into a store of another key (a cache with
// the new key in front of the old store) gives files that open only with
// the new key.
func TestEncryptedStoreFiles(t *testing.T) {
	ctx := context.Background()
	key, key2 := mustKey(t, vectorKey), bytes.Repeat([]byte{0x42}, 32)
	plain := bytes.Repeat([]byte("encrypted store files "), 3000)
	id := chunk.SHA512_256.Sum(plain)
	root := t.TempDir()
	zs, err := storage.NewLocal(filepath.Join(root, "zstd"), storage.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := zs.StoreChunk(ctx, chunk.New(id, plain)); err != nil {
		t.Fatal(err)
	}
	zs.Close()
	zfile, _ := os.ReadFile(zs.Path(id))
	for _, tc := range []struct {
		alg          string
		uncompressed bool
		suffix       string
	}{
		{"", false, ".cacnk.xchacha20-poly1305-630dcd29"},
		{chunk.AES256GCM, false, ".cacnk.aes-256-gcm-630dcd29"},
		{chunk.XChaCha20Poly1305, true, ".xchacha20-poly1305-630dcd29"},
	} {
		dir := filepath.Join(root, tc.suffix)
		s, err := storage.NewLocal(dir, storage.LocalOptions{Uncompressed: tc.uncompressed, Encryption: &storage.Encryption{Algorithm: tc.alg, Key: key}})
		if err != nil {
			t.Fatal(err)
		}
		// The chunk comes from the zstd store: it must be encrypted, not
		// copied as the zstd frame it arrived as.
		c, err := zs.GetChunk(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.StoreChunk(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		p := s.Path(id)
		if want := filepath.Join(dir, id.String()[:4], id.String()+tc.suffix); p != want {
			t.Errorf("chunk file %s, want %s", p, want)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(b, zfile[:4]) || bytes.Contains(b, plain[:100]) || bytes.Contains(b, zfile[4:40]) {
			t.Errorf("%s: the file shows the zstd frame or the content", tc.suffix)
		}

		// Re-encryption: a store of key2 filled from this one.
		dir2 := filepath.Join(root, "new"+tc.suffix)
		s1, _ := storage.NewLocal(dir, storage.LocalOptions{Uncompressed: tc.uncompressed, Encryption: &storage.Encryption{Algorithm: tc.alg, Key: key}})
		s2, _ := storage.NewLocal(dir2, storage.LocalOptions{Uncompressed: tc.uncompressed, Encryption: &storage.Encryption{Algorithm: tc.alg, Key: key2}})
		c, err = s1.GetChunk(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := s2.StoreChunk(ctx, c); err != nil {
			t.Fatal(err)
		}
		s2.Close()
		s3, _ := storage.NewLocal(dir2, storage.LocalOptions{Uncompressed: tc.uncompressed, Encryption: &storage.Encryption{Algorithm: tc.alg, Key: key2}})
		c, err = s3.GetChunk(ctx, id)
		if err != nil {
			t.Fatalf("%s: the re-encrypted chunk: %v", tc.suffix, err)
		}
		if got, _ := c.Plain(); !bytes.Equal(got, plain) {
			t.Fatal("re-encrypted chunk reads back otherwise")
		}
		// The old key's file name is not in the new store.
		if _, err := s1.GetChunk(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir2, id.String()[:4], id.String()+tc.suffix)); err == nil {
			t.Errorf("%s: the new store has the old key's name", tc.suffix)
		}
	}
}

// TestEncryptedStoreSeesOwnChunks: in a directory shared by stores of
// several forms, each lists and prunes only its own chunks.
func TestEncryptedStoreSeesOwnChunks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := []byte("chunk of the encrypted store")
	b := []byte("chunk of the plain store")
	ida, idb := chunk.SHA512_256.Sum(a), chunk.SHA512_256.Sum(b)
	enc := &storage.Encryption{Key: mustKey(t, vectorKey)}
	se, _ := storage.NewLocal(dir, storage.LocalOptions{Encryption: enc})
	sz, _ := storage.NewLocal(dir, storage.LocalOptions{})
	if err := se.StoreChunk(ctx, chunk.New(ida, a)); err != nil {
		t.Fatal(err)
	}
	if err := sz.StoreChunk(ctx, chunk.New(idb, b)); err != nil {
		t.Fatal(err)
	}
	se.Flush(ctx)
	sz.Flush(ctx)
	list := func(s *storage.Local) []chunk.ID {
		var ids []chunk.ID
		for id, err := range s.ListChunks(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		return ids
	}
	if got := list(se); !slices.Equal(got, []chunk.ID{ida}) {
		t.Errorf("the encrypted store lists %v, want only %s", got, ida)
	}
	if got := list(sz); !slices.Equal(got, []chunk.ID{idb}) {
		t.Errorf("the plain store lists %v, want only %s", got, idb)
	}
	// Pruning everything from the encrypted store leaves the plain chunk.
	if err := se.Prune(ctx, func(chunk.ID) bool { return false }); err != nil {
		t.Fatal(err)
	}
	if ok, _ := sz.HasChunk(ctx, idb); !ok {
		t.Error("pruning the encrypted store removed the plain store's chunk")
	}
	if ok, _ := se.HasChunk(ctx, ida); ok {
		t.Error("pruning the encrypted store kept its chunk")
	}
}

// TestEncryptionOptions: config.json's encryption keys, the key from the
// environment, and the errors of settings that cannot work.
func TestEncryptionOptions(t *testing.T) {
	short := strings.Repeat("ab", 16)
	for _, tc := range []struct {
		name, entry, env  string
		parseErr, openErr string
		suffix            string
	}{
		{name: "xchacha", entry: `{"encryption": true, "encryption-key": "` + vectorKey + `"}`, suffix: ".cacnk.xchacha20-poly1305-630dcd29"},
		{name: "aes uncompressed", entry: `{"encryption": true, "encryption-key": "` + vectorKey + `", "encryption-algorithm": "aes-256-gcm", "uncompressed": true}`, suffix: ".aes-256-gcm-630dcd29"},
		{name: "key from env", entry: `{"encryption": true}`, env: vectorKey, suffix: ".cacnk.xchacha20-poly1305-630dcd29"},
		{name: "option before env", entry: `{"encryption": true, "encryption-key": "` + vectorKey + `"}`, env: short, suffix: ".cacnk.xchacha20-poly1305-630dcd29"},
		{name: "env alone", entry: `{}`, env: vectorKey, suffix: ".cacnk"},
		{name: "encryption off", entry: `{"encryption": false}`, suffix: ".cacnk"},
		{name: "no key", entry: `{"encryption": true}`, openErr: "no key is configured"},
		{name: "bad env key", entry: `{"encryption": true}`, env: "zz", openErr: "DESYNC_ENCRYPTION_KEY: encryption key is not hex"},
		{name: "short env key", entry: `{"encryption": true}`, env: short, openErr: "16 bytes, want 32"},
		{name: "bad hex", entry: `{"encryption": true, "encryption-key": "xyz"}`, parseErr: `store option "encryption-key": encryption key is not hex`},
		{name: "short key", entry: `{"encryption": true, "encryption-key": "` + short + `"}`, parseErr: "16 bytes, want 32"},
		{name: "unknown algorithm", entry: `{"encryption": true, "encryption-key": "` + vectorKey + `", "encryption-algorithm": "rot13"}`, parseErr: `unknown encryption algorithm "rot13"`},
		{name: "key without encryption", entry: `{"encryption-key": "` + vectorKey + `"}`, parseErr: "encryption-key or encryption-algorithm configured without setting encryption to true"},
		{name: "algorithm without encryption", entry: `{"encryption": false, "encryption-algorithm": "aes-256-gcm"}`, parseErr: "without setting encryption to true"},
		{name: "password", entry: `{"encryption": true, "encryption-password": "x"}`, parseErr: `"encryption-password": not supported`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(storage.EncryptionKeyEnv, tc.env)
			dir := filepath.Join(t.TempDir(), "store")
			o := storage.DefaultOptions()
			err := storage.ParseOptions(dir, []byte(tc.entry), &o)
			if !wantErr(t, "parse", err, tc.parseErr) {
				return
			}
			s, err := storage.Open(context.Background(), dir, o)
			if !wantErr(t, "open", err, tc.openErr) {
				if err != nil && !strings.Contains(err.Error(), dir) {
					t.Errorf("the error does not name the store: %v", err)
				}
				return
			}
			defer s.Close()
			l, _ := storage.As[*storage.Local](s)
			var id chunk.ID
			if got := strings.TrimPrefix(l.Path(id), filepath.Join(dir, "0000", id.String())); got != tc.suffix {
				t.Errorf("chunk names end in %q, want %q", got, tc.suffix)
			}
		})
	}
}

// wantErr checks err against want ("" for none) and reports whether the
// test goes on (no error, none wanted).
func wantErr(t *testing.T, what string, err error, want string) bool {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("%s: %v", what, err)
	case want != "" && err == nil:
		t.Fatalf("%s: no error, want one saying %q", what, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("%s: %v, want one saying %q", what, err, want)
	}
	if err != nil && strings.Contains(err.Error(), vectorKey) {
		t.Errorf("%s: the error shows the key: %v", what, err)
	}
	return err == nil
}

// TestEncryptedIndexStore: encryption on an index store's location is
// refused, local or remote, reading or writing.
func TestEncryptedIndexStore(t *testing.T) {
	ctx := context.Background()
	o := storage.Options{Encryption: true, EncryptionKey: vectorKey}
	dir := t.TempDir()
	if _, err := storage.OpenIndexStore(ctx, dir, o); err == nil || !strings.Contains(err.Error(), "encryption is not supported by index stores") {
		t.Errorf("OpenIndexStore: %v", err)
	}
	if _, err := storage.ReadIndex(ctx, filepath.Join(vectorDir, "xc.caibx"), o); err == nil || !strings.Contains(err.Error(), "not supported by index stores") {
		t.Errorf("ReadIndex: %v", err)
	}
	if _, err := storage.ReadIndex(ctx, filepath.Join(vectorDir, "xc.caibx"), storage.Options{}); err != nil {
		t.Errorf("ReadIndex without encryption: %v", err)
	}
}

// BenchmarkLocalEncrypted is BenchmarkLocal with encryption, to compare
// (go test -bench 'Local').
func BenchmarkLocalEncrypted(b *testing.B) {
	for _, alg := range []string{chunk.XChaCha20Poly1305, chunk.AES256GCM} {
		b.Run(alg, func(b *testing.B) {
			storagetest.RunBenchmarks(b, storagetest.BenchHarness{
				New: func(b *testing.B) chunk.Store {
					s, err := storage.NewLocal(filepath.Join(b.TempDir(), "store"), storage.LocalOptions{Encryption: &storage.Encryption{Algorithm: alg, Key: mustKey(b, vectorKey)}})
					if err != nil {
						b.Fatal(err)
					}
					return s
				},
			})
		})
	}
}
