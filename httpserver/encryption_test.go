package httpserver_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/httpserver"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

const (
	encKeyHex  = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	encKeyHex2 = "4242424242424242424242424242424242424242424242424242424242424242"
)

func encryption(t testing.TB, alg, h string) *storage.Encryption {
	t.Helper()
	k, err := chunk.ParseEncryptionKey(h)
	if err != nil {
		t.Fatal(err)
	}
	return &storage.Encryption{Algorithm: alg, Key: k}
}

// TestEncryptedConformance runs the store suite on the HTTP client with
// encryption against a chunk server with the same encryption, over a
// local store encrypted with the same key (chunk files sent as they are)
// and over a plain zstd store (chunks encrypted as they are sent).
func TestEncryptedConformance(t *testing.T) {
	zstd, _ := chunk.NewZstd(chunk.ZstdOptions{})
	for _, alg := range []string{chunk.XChaCha20Poly1305, chunk.AES256GCM} {
		enc := encryption(t, alg, encKeyHex)
		conv, err := chunk.NewEncrypted(zstd, alg, enc.Key)
		if err != nil {
			t.Fatal(err)
		}
		for _, upstream := range []string{"same key", "zstd"} {
			t.Run(alg+"/"+upstream, func(t *testing.T) {
				var b backends
				h := storagetest.Harness{
					New: func(t *testing.T) chunk.Store {
						lo := storage.LocalOptions{}
						if upstream == "same key" {
							lo.Encryption = enc
						}
						l := newLocal(t, lo)
						_, base := startChunkServer(t, l, httpserver.ChunkServerOptions{Writable: true, Encryption: enc, SkipVerifyRead: true})
						s := newClient(t, base, storage.Options{Encryption: true, EncryptionKey: encKeyHex, EncryptionAlgorithm: alg})
						b.set(s, l)
						return s
					},
					Converter: conv,
					Check:     func(t *testing.T, s chunk.Store) { checkNoTemp(t, b.get(s)) },
				}
				if upstream == "same key" {
					// The server sends the file as it is: what the
					// suite corrupts reaches the client.
					h.Corrupt = func(t *testing.T, s chunk.Store, id chunk.ID, stored []byte) {
						storagetest.CorruptLocal(t, b.get(s), id, stored)
					}
				}
				storagetest.Run(t, h)
			})
		}
	}
}

// TestEncryptedServeForms: a server encrypting with key 1 sends a store's
// file as it is only if the store is encrypted with key 1 too; a store of
// key 2 or a zstd store has its chunks decoded and encrypted with key 1.
func TestEncryptedServeForms(t *testing.T) {
	ctx := context.Background()
	enc1, enc2 := encryption(t, "", encKeyHex), encryption(t, "", encKeyHex2)
	c := randomChunk(t, 50000, chunk.SHA512_256)
	zstd, _ := chunk.NewZstd(chunk.ZstdOptions{})
	conv1, _ := chunk.NewEncrypted(zstd, "", enc1.Key)
	for _, tc := range []struct {
		name     string
		store    *storage.Encryption
		sentFile bool
	}{
		{"same key", enc1, true},
		{"other key", enc2, false},
		{"zstd", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLocal(t, storage.LocalOptions{Encryption: tc.store})
			if err := l.StoreChunk(ctx, c); err != nil {
				t.Fatal(err)
			}
			l.Flush(ctx)
			file, err := os.ReadFile(l.Path(c.ID()))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := c.Plain()
			var body []byte
			// Unverified reads too: the file's form is then the only
			// thing that keeps it from being sent.
			for _, skip := range []bool{false, true} {
				_, base := startChunkServer(t, l, httpserver.ChunkServerOptions{Encryption: enc1, SkipVerifyRead: skip})
				resp, err := http.Get(base + c.ID().String()[:4] + "/" + c.ID().String() + ".cacnk.xchacha20-poly1305-630dcd29")
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("GET: %d %s", resp.StatusCode, body)
				}
				if got := bytes.Equal(body, file); got != tc.sentFile {
					t.Errorf("skip-verify-read %v: the body is the store's file: %v, want %v", skip, got, tc.sentFile)
				}
				plain, err := conv1.Decode(nil, body)
				if err != nil || !bytes.Equal(plain, want) {
					t.Fatalf("skip-verify-read %v: the body does not decrypt with key 1 to the chunk: %v", skip, err)
				}
			}
			// Uploads: one encrypted with key 2 does not decode (422) and
			// is not stored; one with key 1 is stored in the store's form.
			w := newLocal(t, storage.LocalOptions{Encryption: tc.store})
			_, wbase := startChunkServer(t, w, httpserver.ChunkServerOptions{Writable: true, Encryption: enc1})
			conv2, _ := chunk.NewEncrypted(zstd, "", enc2.Key)
			other, _ := conv2.Encode(nil, want)
			for _, up := range []struct {
				body []byte
				code int
			}{{other, http.StatusUnprocessableEntity}, {body, http.StatusOK}} {
				req, _ := http.NewRequest(http.MethodPut, wbase+c.ID().String()[:4]+"/"+c.ID().String()+".cacnk.xchacha20-poly1305-630dcd29", bytes.NewReader(up.body))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != up.code {
					t.Errorf("PUT: %d, want %d", resp.StatusCode, up.code)
				}
				if has, _ := w.HasChunk(ctx, c.ID()); has != (up.code == http.StatusOK) {
					t.Errorf("after PUT %d the store has the chunk: %v", up.code, has)
				}
			}
			got, err := w.GetChunk(ctx, c.ID())
			if err != nil {
				t.Fatal(err)
			}
			if p, _ := got.Plain(); !bytes.Equal(p, want) {
				t.Error("the uploaded chunk reads back otherwise")
			}
		})
	}
}
