package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/folbricht/desync/storage"
)

// writeConfig writes a config file into dir and returns its path.
func writeConfig(t *testing.T, dir, content string) string {
	t.Helper()
	return writeFile(t, filepath.Join(dir, "config.json"), []byte(content))
}

// jsonString quotes s for use in a JSON document.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestConfigUncompressedStore: a store-options glob makes the stores under a
// directory uncompressed; the config is read from --config before or after
// the command, and from $HOME.
func TestConfigUncompressedStore(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	cfg := writeConfig(t, t.TempDir(), `{
  "store-options": {
    `+jsonString(dir+"/*")+`: {"uncompressed": true}
  }
}`)
	data := mustRead(t, "testdata/blob1.bin")
	store, idx := filepath.Join(dir, "store"), filepath.Join(dir, "blob1.caibx")
	mustRun(t, nil, "--config", cfg, "make", "-s", store, idx, "testdata/blob1.bin")
	ix := readIndex(t, idx)
	for _, c := range ix.Chunks {
		id := c.ID.String()
		b, err := os.ReadFile(filepath.Join(store, id[:4], id))
		if err != nil {
			t.Fatalf("uncompressed chunk file: %v", err)
		}
		if !bytes.Equal(b, data[c.Start:c.End()]) {
			t.Fatalf("chunk file %s does not hold the plain chunk", id)
		}
		if _, err := os.Stat(chunkPath(store, id)); !os.IsNotExist(err) {
			t.Fatalf("a .cacnk file was written: %v", err)
		}
	}
	// --config before and after the command (and after the positionals).
	extractOK(t, data, idx, "--config", cfg, "-s", store)
	out := filepath.Join(t.TempDir(), "out")
	mustRun(t, nil, "--config", cfg, "extract", "-s", store, idx, out)
	if !bytes.Equal(mustRead(t, out), data) {
		t.Error("extract with --config before the command: output differs")
	}
	mustRun(t, nil, "extract", "-s", store, idx, out, "--config="+cfg)
	if !bytes.Equal(mustRead(t, out), data) {
		t.Error("extract with --config at the end: output differs")
	}
	// Without the config the store is read as a compressed one: the chunks
	// are not there.
	extractFails(t, []string{"missing", store}, idx, "-s", store)
	// The same config in $HOME is read by default.
	def := filepath.Join(os.Getenv("HOME"), ".config", "desync", "config.json")
	if err := os.MkdirAll(filepath.Dir(def), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, def, mustRead(t, cfg))
	extractOK(t, data, idx, "-s", store)
	// verify and prune see the uncompressed chunks too.
	r := mustRun(t, nil, "verify", "-s", store)
	if want := fmt.Sprintf("%d chunks checked, 0 invalid", len(uniqueIDs(ix))); !strings.Contains(r.stderr, want) {
		t.Errorf("verify of the uncompressed store: %q", r.stderr)
	}
}

// TestConfigErrors: every mistake in a config file is reported with the
// file, line and column, and stops the command before it does anything.
func TestConfigErrors(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	for _, tc := range []struct {
		name    string
		content string
		want    []string // in stderr; "@" is replaced by the config's path
	}{
		{"trailing comma", "{\n  \"store-options\": {\n    \"/x\": {\"uncompressed\": true,}\n  }\n}\n",
			[]string{"config @:3:33:", "invalid JSON"}},
		{"missing comma", "{\n  \"store-options\": {}\n  \"s3-credentials\": {}\n}\n",
			[]string{"config @:3:3:", "invalid JSON"}},
		{"truncated", "{\n  \"store-options\": {\n", []string{"config @:3:1:", "unexpected end"}},
		{"not an object", "[1]\n", []string{"config @:1:1:"}},
		{"trailing data", "{}\n{}\n", []string{"config @:2:1:", "after the JSON object"}},
		{"unknown key", "{\n  \"store-options\": {},\n  \"store-option\": {}\n}\n",
			[]string{"config @:3:3:", `unknown key "store-option"`}},
		{"misspelt option", "{\n  \"store-options\": {\n    \"/x\": {\n      \"error-retry\": 1,\n      \"uncompresed\": true\n    }\n  }\n}\n",
			[]string{"config @:5:7:", `"uncompresed"`, `store-options "/x"`}},
		{"bad option value", "{\n  \"store-options\": {\n    \"/x\": {\n      \"timeout\": \"soon\"\n    }\n  }\n}\n",
			[]string{"config @:4:7:", `"timeout"`}},
		{"option of the wrong type", "{\n  \"store-options\": {\n    \"/x\": {\"error-retry\": \"3\"}\n  }\n}\n",
			[]string{"config @:3:12:", `"error-retry"`}},
		{"unsupported option", "{\n  \"store-options\": {\n    \"/x\": {\"encryption-password\": \"p\"}\n  }\n}\n",
			[]string{"config @:3:12:", `"encryption-password"`, "not supported"}},
		{"bad encryption key", "{\n  \"store-options\": {\n    \"/x\": {\"encryption\": true, \"encryption-key\": \"0011\"}\n  }\n}\n",
			[]string{"config @:3:32:", `"encryption-key"`, "2 bytes, want 32"}},
		{"encryption key without encryption", "{\n  \"store-options\": {\n    \"/x\": {\"encryption-key\": \"0011\"}\n  }\n}\n",
			[]string{"config @:3:12:", "encryption-key or encryption-algorithm configured without setting encryption to true"}},
		{"unknown encryption algorithm", "{\n  \"store-options\": {\n    \"/x\": {\"encryption\": true, \"encryption-algorithm\": \"rot13\"}\n  }\n}\n",
			[]string{"config @:3:32:", `unknown encryption algorithm "rot13"`}},
		{"wrong type", "{\n  \"store-options\": 5\n}\n", []string{"config @:2:20:", `"store-options"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeConfig(t, t.TempDir(), tc.content)
			idx := filepath.Join(dir, "x.caibx")
			var want []string
			for _, w := range tc.want {
				want = append(want, strings.ReplaceAll(w, "@", cfg))
			}
			expect(t, 1, nil, want, "--config", cfg, "make", "-s", store, idx, "testdata/text.bin")
			expect(t, 1, nil, want, "config", "--config", cfg)
			if _, err := os.Stat(idx); !os.IsNotExist(err) {
				t.Error("make wrote an index despite the bad config")
			}
			if _, err := os.Stat(store); !os.IsNotExist(err) {
				t.Error("make wrote to the store despite the bad config")
			}
		})
	}
	t.Run("two keys match a store", func(t *testing.T) {
		k1, k2 := dir+"/*", dir+"/st*"
		cfg := writeConfig(t, t.TempDir(), `{"store-options": {`+jsonString(k1)+`: {}, `+jsonString(k2)+`: {"uncompressed": true}}}`)
		idx := filepath.Join(dir, "x.caibx")
		expect(t, 1, nil, []string{cfg, store, k1, k2, "two store-options"}, "--config", cfg, "make", "-s", store, idx, "testdata/text.bin")
		if _, err := os.Stat(idx); !os.IsNotExist(err) {
			t.Error("make wrote an index")
		}
		// A store that only one key matches is fine.
		mustRun(t, nil, "--config", cfg, "make", "-s", filepath.Join(dir, "other"), idx, "testdata/text.bin")
	})
	t.Run("missing --config file", func(t *testing.T) {
		missing := filepath.Join(dir, "missing.json")
		expect(t, 1, nil, []string{missing}, "--config", missing, "make", "-s", store, filepath.Join(dir, "x.caibx"), "testdata/text.bin")
		expect(t, 1, nil, []string{missing}, "config", "--config", missing)
	})
	t.Run("missing default config", func(t *testing.T) {
		idx := filepath.Join(dir, "ok.caibx")
		mustRun(t, nil, "make", "-s", store, idx, "testdata/text.bin")
		extractOK(t, mustRead(t, "testdata/text.bin"), idx, "-s", store)
	})
}

func TestConfigCommand(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	content := `{
  "http-timeout": 60000000000,
  "s3-credentials": {"https://s3.example.com": {"access-key": "k", "secret-key": "s"}},
  "store-options": {
    "https://example.com/store/": {"error-retry": 0, "timeout": "30s"},
    "/srv/*": {"uncompressed": true, "n": 3}
  }
}`
	cfg := writeConfig(t, dir, content)
	check := func(t *testing.T, out string) {
		t.Helper()
		var got struct {
			HTTPTimeout   int64                                 `json:"http-timeout"`
			S3Credentials map[string]map[string]string          `json:"s3-credentials"`
			StoreOptions  map[string]map[string]json.RawMessage `json:"store-options"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("config output %q: %v", out, err)
		}
		if got.HTTPTimeout != 60e9 || got.S3Credentials["https://s3.example.com"]["access-key"] != "k" || len(got.StoreOptions) != 2 {
			t.Errorf("config output %s", out)
		}
		for loc, want := range map[string]map[string]string{
			"https://example.com/store/": {"error-retry": "0", "error-retry-base-interval": "500000000", "timeout": "30000000000", "uncompressed": "false"},
			"/srv/*":                     {"error-retry": "3", "error-retry-base-interval": "500000000", "uncompressed": "true", "n": "3"},
		} {
			for k, v := range want {
				if g := string(got.StoreOptions[loc][k]); g != v {
					t.Errorf("store-options %q %q = %s, want %s", loc, k, g, v)
				}
			}
		}
	}
	r := mustRun(t, nil, "config", "--config", cfg)
	check(t, r.stdout)
	r = mustRun(t, nil, "--config", cfg, "config")
	check(t, r.stdout)

	t.Run("write", func(t *testing.T) {
		for _, name := range []string{"existing", "new"} {
			p := filepath.Join(dir, name+".json")
			if name == "existing" {
				if err := os.WriteFile(p, []byte(`{"store-options": {"/srv/*": {"uncompressed": true, "n": 3}}}`), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			mustRun(t, nil, "--config", p, "config", "-w")
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: written with mode %v, want 0600", name, fi.Mode().Perm())
			}
			if _, err := loadConfig(p); err != nil {
				t.Errorf("%s: the written config does not load: %v", name, err)
			}
			assertNoTemp(t, dir)
		}
		// A full config round trips: writing it and printing it again gives
		// the same effective config.
		p := writeConfig(t, t.TempDir(), content)
		mustRun(t, nil, "config", "-w", "--config", p)
		check(t, string(mustRead(t, p)))
		check(t, mustRun(t, nil, "config", "--config", p).stdout)
		// The default location is created.
		mustRun(t, nil, "config", "-w")
		def := filepath.Join(os.Getenv("HOME"), ".config", "desync", "config.json")
		if fi, err := os.Stat(def); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("default config: %v %v", fi, err)
		}
	})
	t.Run("a bad config is not written", func(t *testing.T) {
		p := writeConfig(t, t.TempDir(), `{"store-options": {"/x": {"bogus": 1}}}`)
		before := mustRead(t, p)
		expect(t, 1, nil, []string{"bogus"}, "config", "-w", "--config", p)
		if !bytes.Equal(mustRead(t, p), before) {
			t.Error("a bad config file was rewritten")
		}
	})
	t.Run("no config", func(t *testing.T) {
		r := mustRun(t, nil, "config")
		var got map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got["store-options"].(map[string]any)) != 0 {
			t.Errorf("config without a file: %q %v", r.stdout, err)
		}
	})
	t.Run("usage", func(t *testing.T) {
		expect(t, 2, nil, nil, "config", "extra")
	})
}

// TestFlagsOverrideConfig: a flag given on the command line beats the
// config file's store-options entry; one not given leaves it alone.
func TestFlagsOverrideConfig(t *testing.T) {
	cfg := &config{path: "test.json", StoreOptions: map[string]json.RawMessage{
		"https://example.com/*": json.RawMessage(`{"error-retry": 0, "error-retry-base-interval": "2s", "n": 2, "ca-cert": "/cfg/ca.pem", "trust-insecure": false}`),
	}}
	setup := storeSetup{concurrency: 8, level: 5, maxChunk: 1 << 20}
	for _, tc := range []struct {
		name  string
		args  []string
		loc   string
		check func(storage.Options) bool
	}{
		{"config applies", nil, "https://example.com/a", func(o storage.Options) bool {
			return o.ErrorRetry == 0 && o.ErrorRetryBaseInterval == 2*time.Second && o.N == 2 && o.CACert == "/cfg/ca.pem"
		}},
		{"-e overrides", []string{"-e", "5"}, "https://example.com/a", func(o storage.Options) bool {
			return o.ErrorRetry == 5 && o.ErrorRetryBaseInterval == 2*time.Second
		}},
		{"--error-retry overrides", []string{"--error-retry=5"}, "https://example.com/a", func(o storage.Options) bool { return o.ErrorRetry == 5 }},
		{"-e 3, the default, still overrides", []string{"-e", "3"}, "https://example.com/a", func(o storage.Options) bool { return o.ErrorRetry == 3 }},
		{"-b overrides", []string{"-b", "1ms"}, "https://example.com/a", func(o storage.Options) bool {
			return o.ErrorRetry == 0 && o.ErrorRetryBaseInterval == time.Millisecond
		}},
		{"--ca-cert overrides", []string{"--ca-cert", "/flag/ca.pem"}, "https://example.com/a", func(o storage.Options) bool { return o.CACert == "/flag/ca.pem" }},
		{"-t", []string{"-t"}, "https://example.com/a", func(o storage.Options) bool { return o.TrustInsecure }},
		{"client cert", []string{"--client-cert", "c.pem", "--client-key", "k.pem"}, "https://example.com/a", func(o storage.Options) bool {
			return o.ClientCert == "c.pem" && o.ClientKey == "k.pem"
		}},
		{"defaults elsewhere", nil, "https://other.example.com/a", func(o storage.Options) bool {
			return o.ErrorRetry == storage.DefaultErrorRetry && o.ErrorRetryBaseInterval == storage.DefaultErrorRetryBaseInterval && o.N == 8
		}},
		{"-e elsewhere", []string{"-e", "5"}, "/local/store", func(o storage.Options) bool { return o.ErrorRetry == 5 && o.N == 8 }},
		{"program settings", nil, "/local/store", func(o storage.Options) bool {
			return o.CompressionLevel == 5 && o.MaxChunkSize == 1<<20
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sf storeFlags
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			addStoreFlags(fs, &sf, storeFlagsUse{storeHelp: "store", withCache: true})
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			o, err := sf.options(cfg, setup)(tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
	t.Run("negative -e", func(t *testing.T) {
		isolate(t)
		expect(t, 2, nil, []string{"negative"}, "extract", "-s", t.TempDir(), "-e", "-1", "testdata/blob1.caibx", filepath.Join(t.TempDir(), "out"))
	})
	t.Run("client cert without key", func(t *testing.T) {
		isolate(t)
		expect(t, 2, nil, []string{"--client-key"}, "extract", "-s", t.TempDir(), "--client-cert", "c.pem", "testdata/blob1.caibx", filepath.Join(t.TempDir(), "out"))
	})
}

func TestLocationMatch(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pattern, location string
		want              bool
	}{
		{"/srv/store", "/srv/store", true},
		{"/srv/store", "file:///srv/store", true}, // file:// is a local path
		{"file:///srv/*", "/srv/store", true},
		{"/srv/store/", "/srv/store", true},
		{"/srv/store", "/srv/store/", true},
		{"/srv/store", "/srv/store2", false},
		{"/srv/../srv/store", "/srv/./store", true}, // cleaned, as desync does
		{"/srv/?tore", "/srv/store", true},
		{"/srv/*", "/srv/store", true},
		{"/srv/*", "/srv/store/", true},
		{"/srv/*", "/srv/a/b", false}, // "*" does not cross "/"
		{"/srv/*/b", "/srv/a/b", true},
		{"/srv/st?re", "/srv/store", true},
		{"/srv/[a-s]tore", "/srv/store", true},
		{"/srv/[t-z]tore", "/srv/store", false},
		{"store", filepath.Join(wd, "store"), true}, // relative paths are made absolute
		{filepath.Join(wd, "store"), "store", true},
		{"./store/", "store", true},
		{"*", "store", true},
		{"*", "/store", wd == "/"},
		{"store", "/elsewhere/store", false},
		{"https://example.com/store", "https://example.com/store", true},
		{"https://example.com/store/", "https://example.com/store", true},
		{"https://example.com/store", "https://example.com/store/", true},
		{"https://example.com", "https://example.com/", true},
		{"https://example.com/store", "http://example.com/store", false},
		{"https://example.com/store", "https://example.org/store", false},
		{"https://*.example.com/store", "https://cdn.example.com/store", true},
		{"https://*.example.com/store", "https://example.com/store", false},
		{"https://example.com/*", "https://example.com/store", true},
		{"https://example.com/*", "https://example.com/a/store", false}, // "*" does not cross "/"
		{"https://example.com/*/store", "https://example.com/a/store", true},
		{"https://example.com:8080/store", "https://example.com:8080/store", true},
		{"https://example.com/store", "https://example.com:8080/store", false},
		{"s3+https://s3.example.com/bucket/*", "s3+https://s3.example.com/bucket/prefix", true},
		{"s3+https://s3.example.com/bucket/*", "https://s3.example.com/bucket/prefix", false},
		// A URL key is a glob over the whole location, as in desync: "?"
		// is a glob character, not the start of a query.
		{"*://example.com", "https://example.com", true},
		{"*://example.com", "s3+https://example.com/", true},
		{"*://example.com", "https://example.com/store", false},
		{"http*://example.com", "https://example.com", true},
		{"http*://example.com", "http://example.com", true},
		{"http*://example.com", "ftp://example.com", false},
		{"https://exampl?.*", "https://example.com", true},
		{"https://exampl?.*", "https://example.com/", true},
		{"https://exampl?.*", "https://exampl.com", false},
		{"https://example.com/?", "https://example.com/a", true},
		{"https://example.com/?", "https://example.com/ab", false},
		{"https://example.com/?", "https://example.com/", false},
		{"https://example.com/store?x=1", "https://example.com/store?x=1", true},
		{"https://example.com/*", "https://example.com/store?x=1", true},
		{"HTTPS://example.com/store", "https://example.com/store", false},    // case matters, as in desync
		{"https://example.com/store/", "https://example.com/store//", false}, // one trailing slash, as in desync
		// URLs and paths never match each other.
		{"/example.com/store", "https://example.com/store", false},
		{"https://example.com/store", "/example.com/store", false},
		{"*", "https://example.com/store", false},
		{"https://*/*", "/srv/store", false},
		// Malformed patterns match nothing.
		{"/srv/[", "/srv/[", false},
		{"https://example.com/[", "https://example.com/[", false},
	} {
		if got := locationMatch(tc.pattern, tc.location); got != tc.want {
			t.Errorf("locationMatch(%q, %q) = %v, want %v", tc.pattern, tc.location, got, tc.want)
		}
	}
}

// TestStoreOptionsLookup: the options of a store come from the one
// store-options key that matches its location; a location matching two keys
// is an error naming both.
func TestStoreOptionsLookup(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		keys     []string // each gets "n": its position + 1
		location string
		wantN    int    // 0: the program's default
		wantErr  string // part of the error for a double match
	}{
		{"scheme glob", []string{"*://example.com", "https://other.com"}, "https://example.com", 1, ""},
		{"scheme prefix glob", []string{"https://other.com", "http*://example.com"}, "https://example.com/", 2, ""},
		{"host glob", []string{"https://exampl?.*"}, "https://example.com", 1, ""},
		{"path question mark", []string{"https://example.com/?"}, "https://example.com/a", 1, ""},
		{"no match", []string{"https://example.com/?"}, "https://example.com/ab", 0, ""},
		{"local path", []string{"/srv/store/"}, "/srv/store", 1, ""},
		{"relative local path", []string{"/elsewhere", "store"}, filepath.Join(wd, "store"), 2, ""},
		{"local glob", []string{"/srv/*"}, "/srv/store/", 1, ""},
		{"two URL keys", []string{"https://example.com", "*://example.com"}, "https://example.com", 0, "two store-options entries"},
		{"two local keys", []string{"/srv/store", "/srv/st?re"}, "/srv/store", 0, "two store-options entries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &config{path: "test.json", StoreOptions: map[string]json.RawMessage{}}
			for i, k := range tc.keys {
				cfg.StoreOptions[k] = json.RawMessage(fmt.Sprintf(`{"n": %d}`, i+1))
			}
			o, err := cfg.storeOptions(tc.location)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.keys[0]) || !strings.Contains(err.Error(), tc.keys[1]) || !strings.Contains(err.Error(), tc.location) {
					t.Fatalf("error %v, want one naming %q, both keys and the location", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.N != tc.wantN {
				t.Errorf("n = %d, want %d", o.N, tc.wantN)
			}
		})
	}
}

// TestBoolFlagsOverrideConfig: a boolean flag with a store-options
// counterpart, given on the command line, wins over the config file in both
// directions (--trust-insecure=false beats "trust-insecure": true); absent,
// the config file's value stands. Checked on the flags as each command
// registers them.
func TestBoolFlagsOverrideConfig(t *testing.T) {
	storeCmds := []string{"make", "extract", "cat", "chop", "cache", "prune", "verify", "info", "inspect-chunks", "chunk-server"}
	for _, opt := range []struct {
		key       string // in store-options
		spellings []string
		cmds      []string
		get       func(storage.Options) bool
	}{
		{"trust-insecure", []string{"-t", "--trust-insecure"}, storeCmds, func(o storage.Options) bool { return o.TrustInsecure }},
		{"skip-verify", []string{"--skip-verify-read"}, []string{"chunk-server"}, func(o storage.Options) bool { return o.SkipVerify }},
	} {
		for _, cmd := range opt.cmds {
			for _, sp := range opt.spellings {
				for _, tc := range []struct {
					config bool
					args   []string
					want   bool
				}{
					{true, []string{sp + "=false"}, false},
					{false, []string{sp}, true},
					{false, []string{sp + "=true"}, true},
					{true, []string{sp, sp + "=false"}, false}, // the last one given wins
					{true, nil, true},
					{false, nil, false},
				} {
					name := fmt.Sprintf("%s %s config %v flags %v", cmd, opt.key, tc.config, tc.args)
					var c *command
					for _, cc := range commands(&app{}) {
						if cc.Name == cmd {
							c = cc
						}
					}
					if err := c.FlagSet.Parse(tc.args); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					cfg := &config{path: "test.json", StoreOptions: map[string]json.RawMessage{
						"/srv/store": json.RawMessage(fmt.Sprintf(`{%q: %v}`, opt.key, tc.config)),
					}}
					sf := &storeFlags{fs: c.FlagSet}
					o, err := sf.options(cfg, storeSetup{})("/srv/store")
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if got := opt.get(o); got != tc.want {
						t.Errorf("%s: %s = %v, want %v", name, opt.key, got, tc.want)
					}
				}
			}
		}
	}
}

// TestTrustInsecureFalseBeatsConfig: with "trust-insecure": true in the
// config file, -t=false on the command line makes an extract from an HTTPS
// server with an untrusted certificate fail again; without the flag the
// config file's value holds; with "trust-insecure": false, -t trusts it.
func TestTrustInsecureFalseBeatsConfig(t *testing.T) {
	f := newFixture(t)
	_, cert, key, _, _ := testCerts(t, t.TempDir())
	u := startServer(t, "chunk-server", "-s", f.store, "--cert", cert, "--key", key)
	cfgDir := t.TempDir()
	trusting := writeFile(t, filepath.Join(cfgDir, "trusting.json"), []byte(`{"store-options": {`+jsonString(u)+`: {"trust-insecure": true}}}`))
	careful := writeFile(t, filepath.Join(cfgDir, "careful.json"), []byte(`{"store-options": {`+jsonString(u)+`: {"trust-insecure": false}}}`))
	extractOK(t, f.data, f.index, "--config", trusting, "-s", u)
	for _, fl := range []string{"-t=false", "--trust-insecure=false"} {
		extractFails(t, []string{"certificate", u}, f.index, "--config", trusting, "-s", u, fl)
	}
	extractFails(t, []string{"certificate", u}, f.index, "--config", careful, "-s", u)
	extractOK(t, f.data, f.index, "--config", careful, "-s", u, "-t")
	extractOK(t, f.data, f.index, "--config", careful, "-s", u, "--trust-insecure=true")
}
