package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	encKey1 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	encKey2 = "4242424242424242424242424242424242424242424242424242424242424242"
	// encKeyID1 is encKey1's key ID (SHA-256, 4 bytes), as the original
	// desync names it.
	encKeyID1 = "630dcd29"
)

// encKeyID returns the key ID of the hex key h.
func encKeyID(h string) string {
	k, _ := hex.DecodeString(h)
	sum := sha256.Sum256(k)
	return hex.EncodeToString(sum[:4])
}

// encConfig writes a config.json with the store-options entries given as
// location, JSON object pairs.
func encConfig(t *testing.T, entries ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"store-options": {`)
	for i := 0; i < len(entries); i += 2 {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "%s: %s", jsonString(entries[i]), entries[i+1])
	}
	b.WriteString("}}\n")
	return writeConfig(t, t.TempDir(), b.String())
}

func encEntry(key, alg string, uncompressed bool) string {
	s := `{"encryption": true, "encryption-key": "` + key + `"`
	if alg != "" {
		s += `, "encryption-algorithm": "` + alg + `"`
	}
	return s + fmt.Sprintf(`, "uncompressed": %v}`, uncompressed)
}

// chunkFiles returns the names of the chunk files in store.
func chunkFiles(t *testing.T, store string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(store, "*", "*"))
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

// TestEncryptedStoreCLI: make and extract through encrypted local stores
// of config.json, for each algorithm; the files carry the original's
// suffix and no zstd frame; another key sees no chunk; a tampered file is
// an invalid chunk error; cache -c re-encrypts with a new key.
func TestEncryptedStoreCLI(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	data := genRandom(t, 3<<20, 17)
	input := writeFile(t, filepath.Join(dir, "in.bin"), data)
	index := filepath.Join(dir, "in.caibx")
	for _, tc := range []struct {
		alg          string
		uncompressed bool
		suffix       string
	}{
		{"", false, ".cacnk.xchacha20-poly1305-" + encKeyID1},
		{"aes-256-gcm", false, ".cacnk.aes-256-gcm-" + encKeyID1},
		{"aes-256-gcm", true, ".aes-256-gcm-" + encKeyID1},
	} {
		t.Run(tc.suffix, func(t *testing.T) {
			store := filepath.Join(t.TempDir(), "store")
			cfg := encConfig(t, store, encEntry(encKey1, tc.alg, tc.uncompressed))
			mustRun(t, nil, "--config", cfg, "make", "-s", store, index, input)
			files := chunkFiles(t, store)
			ix := readIndex(t, index)
			if len(files) != len(uniqueIDs(ix)) {
				t.Fatalf("%d chunk files for %d chunks", len(files), len(uniqueIDs(ix)))
			}
			for _, f := range files {
				if !strings.HasSuffix(f, tc.suffix) || len(f) != 64+len(tc.suffix) {
					t.Fatalf("chunk file %s, want <id>%s", f, tc.suffix)
				}
			}
			id := ix.Chunks[0].ID.String()
			p := filepath.Join(store, id[:4], id+tc.suffix)
			b := mustRead(t, p)
			if bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}) || bytes.Contains(b, data[:64]) {
				t.Error("the chunk file is a zstd frame or holds the content")
			}
			extractOK(t, data, index, "--config", cfg, "-s", store)
			mustRun(t, nil, "--config", cfg, "verify", "-s", store)

			// Another key: the chunks are not there.
			other := encConfig(t, store, encEntry(encKey2, tc.alg, tc.uncompressed))
			extractFails(t, []string{"missing"}, index, "--config", other, "-s", store)
			// No encryption: not there either.
			extractFails(t, []string{"missing"}, index, "-s", store)

			// Re-encryption: a cache of key2 filled from the store of key1.
			newStore := filepath.Join(t.TempDir(), "new")
			both := encConfig(t, store, encEntry(encKey1, tc.alg, tc.uncompressed), newStore, encEntry(encKey2, tc.alg, tc.uncompressed))
			mustRun(t, nil, "--config", both, "cache", "-s", store, "-c", newStore, index)
			want2 := strings.Replace(tc.suffix, encKeyID1, encKeyID(encKey2), 1)
			for _, f := range chunkFiles(t, newStore) {
				if !strings.HasSuffix(f, want2) {
					t.Fatalf("re-encrypted chunk file %s, want the suffix %s", f, want2)
				}
			}
			if len(chunkFiles(t, newStore)) != len(files) {
				t.Fatalf("the new store has %d chunks, want %d", len(chunkFiles(t, newStore)), len(files))
			}
			extractOK(t, data, index, "--config", both, "-s", newStore)

			// A tampered file under the right name: invalid, named.
			corrupt(t, p, append(b[:len(b)-1:len(b)-1], b[len(b)-1]^1))
			extractFails(t, []string{"invalid chunk " + id, store}, index, "--config", cfg, "-s", store)
		})
	}
}

// TestEncryptedOriginalVectors extracts the stores the original desync
// wrote (chunk/testdata/encrypted) through config.json.
func TestEncryptedOriginalVectors(t *testing.T) {
	isolate(t)
	src := "../chunk/testdata/encrypted"
	for _, tc := range []struct{ store, alg string }{{"xc", ""}, {"aes", "aes-256-gcm"}, {"aesplain", "aes-256-gcm"}} {
		store, err := filepath.Abs(filepath.Join(src, tc.store))
		if err != nil {
			t.Fatal(err)
		}
		cfg := encConfig(t, store, encEntry(encKey1, tc.alg, tc.store == "aesplain"))
		out := filepath.Join(t.TempDir(), "out")
		mustRun(t, nil, "--config", cfg, "extract", "-s", store, filepath.Join(src, tc.store+".caibx"), out)
		sum := sha256.Sum256(mustRead(t, out))
		if got := hex.EncodeToString(sum[:]); got != "b78d0018dae994ed8be4fb8d5cc1c39528a394c87e0f4af6041a17e882c0ec68" {
			t.Errorf("%s extracts to %s", tc.store, got)
		}
	}
}

// TestEncryptionConfigErrors: settings that cannot work end the command
// with a message and exit 1, and write nothing.
func TestEncryptionConfigErrors(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	input := writeFile(t, filepath.Join(dir, "in.bin"), genRandom(t, 200<<10, 3))
	store := filepath.Join(dir, "store")
	idxDir := filepath.Join(dir, "idx")
	os.Mkdir(idxDir, 0o755)
	for _, tc := range []struct {
		name, entry, env string
		location         string
		want             []string
	}{
		{"bad hex", `{"encryption": true, "encryption-key": "xyz"}`, "", store, []string{`"encryption-key"`, "not hex"}},
		{"short key", `{"encryption": true, "encryption-key": "0011"}`, "", store, []string{"2 bytes, want 32"}},
		{"unknown algorithm", `{"encryption": true, "encryption-key": "` + encKey1 + `", "encryption-algorithm": "aes-128-cbc"}`, "", store, []string{`unknown encryption algorithm "aes-128-cbc"`}},
		{"key without encryption", `{"encryption-key": "` + encKey1 + `"}`, "", store, []string{"without setting encryption to true"}},
		{"no key", `{"encryption": true}`, "", store, []string{store, "no key is configured", "DESYNC_ENCRYPTION_KEY"}},
		{"bad key in the environment", `{"encryption": true}`, "00", store, []string{store, "DESYNC_ENCRYPTION_KEY", "1 bytes, want 32"}},
		{"index store", `{"encryption": true, "encryption-key": "` + encKey1 + `"}`, "", idxDir, []string{"encryption is not supported by index stores"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DESYNC_ENCRYPTION_KEY", tc.env)
			cfg := encConfig(t, tc.location, tc.entry)
			index := filepath.Join(idxDir, "x.caibx")
			r := expect(t, 1, nil, tc.want, "--config", cfg, "make", "-s", store, index, input)
			if strings.Contains(r.stderr, encKey1) {
				t.Errorf("the message shows the key: %s", r.stderr)
			}
			if _, err := os.Stat(index); err == nil {
				t.Error("make wrote the index")
			}
			if len(chunkFiles(t, store)) != 0 {
				t.Error("make wrote chunks")
			}
		})
	}
	// The key from the environment works when encryption is on.
	t.Setenv("DESYNC_ENCRYPTION_KEY", encKey2)
	cfg := encConfig(t, store, `{"encryption": true}`)
	mustRun(t, nil, "--config", cfg, "make", "-s", store, filepath.Join(dir, "ok.caibx"), input)
	for _, f := range chunkFiles(t, store) {
		if !strings.HasSuffix(f, ".cacnk.xchacha20-poly1305-"+encKeyID(encKey2)) {
			t.Fatalf("chunk file %s is not encrypted with the environment's key", f)
		}
	}
}

// TestEncryptedChunkServer: a chunk-server with --encryption over a plain
// store serves and accepts encrypted chunks at the original's names; a
// client with the same key makes and extracts through it, one without
// encryption or with another key gets nothing from it.
func TestEncryptedChunkServer(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	data := genRandom(t, 2<<20, 21)
	input := writeFile(t, filepath.Join(dir, "in.bin"), data)
	index := filepath.Join(dir, "in.caibx")
	store := filepath.Join(dir, "store")
	t.Setenv("DESYNC_ENCRYPTION_KEY", encKey1)
	u := startServer(t, "chunk-server", "--encryption", "--encryption-algorithm", "aes-256-gcm", "-w", "-s", store)
	cfg := encConfig(t, u, encEntry(encKey1, "aes-256-gcm", false))
	mustRun(t, nil, "--config", cfg, "make", "-s", u, index, input)
	extractOK(t, data, index, "--config", cfg, "-s", u)
	// The upstream store keeps the chunks its own way (zstd).
	ix := readIndex(t, index)
	assertSameIDs(t, "upstream store", storeChunks(t, store), uniqueIDs(ix))
	id := ix.Chunks[0].ID.String()
	if code, _ := httpGet(t, u+id[:4]+"/"+id+".cacnk"); code != 400 {
		t.Errorf("GET of the .cacnk name: %d, want 400", code)
	}
	code, body := httpGet(t, u+id[:4]+"/"+id+".cacnk.aes-256-gcm-"+encKeyID1)
	if code != 200 || bytes.HasPrefix(body, []byte{0x28, 0xb5, 0x2f, 0xfd}) || bytes.Equal(body, mustRead(t, chunkPath(store, id))) {
		t.Errorf("GET of the encrypted name: %d, %d bytes that are not encrypted", code, len(body))
	}
	// Another key, or none: every chunk missing or refused.
	other := encConfig(t, u, encEntry(encKey2, "aes-256-gcm", false))
	extractFails(t, []string{"400 Bad Request", "630dcd29"}, index, "--config", other, "-s", u)
	extractFails(t, []string{"400 Bad Request"}, index, "-s", u)

	// Flags that cannot work.
	t.Setenv("DESYNC_ENCRYPTION_KEY", "")
	expect(t, 2, nil, []string{"no key is configured"}, "chunk-server", "--encryption", "-s", store, "-l", "127.0.0.1:0")
	expect(t, 2, nil, []string{"16 bytes, want 32"}, "chunk-server", "--encryption-key", encKey1[:32], "-s", store, "-l", "127.0.0.1:0")
	expect(t, 2, nil, []string{`unknown encryption algorithm "rot13"`}, "chunk-server", "--encryption-key", encKey1, "--encryption-algorithm", "rot13", "-s", store, "-l", "127.0.0.1:0")
}

// TestEncryptionConfigShown: desync config shows the encryption keys of a
// store as the original desync does, after "uncompressed".
func TestEncryptionConfigShown(t *testing.T) {
	isolate(t)
	cfg := encConfig(t, "/store", encEntry(encKey1, "aes-256-gcm", true), "/plain", `{}`)
	out := mustRun(t, nil, "--config", cfg, "config").stdout
	want := `"uncompressed": true,
      "encryption": true,
      "encryption-algorithm": "aes-256-gcm",
      "encryption-key": "` + encKey1 + `"`
	if !strings.Contains(out, want) {
		t.Errorf("config shows\n%s\nwant it to hold\n%s", out, want)
	}
	if plain := out[strings.Index(out, `"/plain"`):strings.Index(out, `"/store"`)]; strings.Contains(plain, "encryption") {
		t.Errorf("a store without encryption shows encryption keys:\n%s", plain)
	}
}
