package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnvFlags: every long flag can come from DESYNC_<NAME>; the command
// line wins over the variable, the variable over config.json; lists are
// comma-separated; a bad value is a usage error naming the variable.
func TestEnvFlags(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	data := genRandom(t, 300<<10, 7)
	in := writeFile(t, filepath.Join(dir, "in"), data)
	index := filepath.Join(dir, "in.caibx")
	store := filepath.Join(dir, "store")
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}

	t.Setenv("DESYNC_STORE", store)
	mustRun(t, nil, "make", index, in) // the store from the environment
	if len(storeChunks(t, store)) == 0 {
		t.Fatal("make stored nothing in $DESYNC_STORE")
	}
	extractOK(t, data, index) // likewise for extract

	// A list: the first store has nothing, the second everything.
	t.Setenv("DESYNC_STORE", empty+","+store)
	extractOK(t, data, index)

	// The command line wins, and is not added to: with -s naming the
	// empty store alone, extract fails although $DESYNC_STORE has all.
	t.Setenv("DESYNC_STORE", store)
	extractFails(t, []string{"missing"}, index, "-s", empty)
	extractFails(t, []string{"missing"}, index, "--store", empty)

	// Booleans, and a bad value.
	t.Setenv("DESYNC_PRINT_STATS", "true")
	if r := mustRun(t, nil, "make", index, in); !strings.Contains(r.stdout+r.stderr, "chunks") {
		t.Errorf("DESYNC_PRINT_STATS=true printed no statistics: %q %q", r.stdout, r.stderr)
	}
	t.Setenv("DESYNC_PRINT_STATS", "")
	os.Unsetenv("DESYNC_PRINT_STATS")
	t.Setenv("DESYNC_CONCURRENCY", "lots")
	expect(t, 2, nil, []string{`"lots"`, "DESYNC_CONCURRENCY"}, "make", index, in)
	os.Unsetenv("DESYNC_CONCURRENCY")

	// The variable beats config.json: the config says 3 tries for the
	// store nobody listens on, DESYNC_ERROR_RETRY 1; --verbose logs every
	// retry. The index has one chunk, so each retry is one line.
	small := filepath.Join(dir, "small.caibx")
	mustRun(t, nil, "make", small, writeFile(t, filepath.Join(dir, "small"), genRandom(t, 1000, 1)))
	index = small
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/"
	ln.Close()
	cfg := writeFile(t, filepath.Join(dir, "config.json"),
		[]byte(fmt.Sprintf(`{"store-options": {%q: {"error-retry": 3, "error-retry-base-interval": 1000000}}}`, down)))
	t.Setenv("DESYNC_STORE", down)
	t.Setenv("DESYNC_CONFIG", cfg)
	if n := strings.Count(extractFails(t, []string{"connection refused"}, index, "--verbose"), "retrying"); n != 2 {
		t.Errorf("config error-retry 3: %d retries, want 2 (is $DESYNC_CONFIG read?)", n)
	}
	t.Setenv("DESYNC_ERROR_RETRY", "1")
	if n := strings.Count(extractFails(t, []string{"connection refused"}, index, "--verbose"), "retrying"); n != 0 {
		t.Errorf("DESYNC_ERROR_RETRY=1 over config error-retry 3: %d retries, want 0", n)
	}
	if n := strings.Count(extractFails(t, []string{"connection refused"}, index, "--verbose", "-e", "2"), "retrying"); n != 1 {
		t.Errorf("-e 2 over DESYNC_ERROR_RETRY=1: %d retries, want 1", n)
	}
}

// TestEnvHelp: --help names the variable of each long flag, and none for
// the flags that have none.
func TestEnvHelp(t *testing.T) {
	isolate(t)
	help := mustRun(t, nil, "extract", "--help").stdout
	for _, v := range []string{"[$DESYNC_STORE]", "[$DESYNC_ERROR_RETRY]", "[$DESYNC_CONFIG]", "[$DESYNC_SEED_DIR]"} {
		if !strings.Contains(help, v) {
			t.Errorf("extract --help does not name %s", v)
		}
	}
	for _, v := range []string{"$DESYNC_S]", "$DESYNC_N]"} {
		if strings.Contains(help, v) {
			t.Errorf("extract --help names %s, a variable of a one-letter alias", v)
		}
	}
	// DESYNC_ENCRYPTION_KEY is a key, never a switch: --encryption-key,
	// which implies --encryption, has no variable.
	cs := mustRun(t, nil, "chunk-server", "--help").stdout
	if !strings.Contains(cs, "[$DESYNC_ENCRYPTION_ALGORITHM]") || strings.Contains(cs, "[$DESYNC_ENCRYPTION_KEY]") {
		t.Errorf("chunk-server --help: the encryption flags' variables are wrong:\n%s", cs)
	}
	if root := mustRun(t, nil, "--help").stdout; strings.Contains(root, "DESYNC_VERSION") {
		t.Error("desync --help names DESYNC_VERSION")
	}
}

// TestEnvEncryptionKeyIsNoSwitch: with only DESYNC_ENCRYPTION_KEY set, a
// chunk-server serves chunks as its store keeps them: the variable is the
// key of an encryption turned on elsewhere, not --encryption-key.
func TestEnvEncryptionKeyIsNoSwitch(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	index, store := filepath.Join(dir, "in.caibx"), filepath.Join(dir, "store")
	mustRun(t, nil, "make", "-s", store, index, writeFile(t, filepath.Join(dir, "in"), genRandom(t, 100<<10, 4)))
	t.Setenv("DESYNC_ENCRYPTION_KEY", encKey1)
	u := startServer(t, "chunk-server", "-s", store)
	id := readIndex(t, index).Chunks[0].ID.String()
	if code, _ := httpGet(t, u+id[:4]+"/"+id+".cacnk"); code != 200 {
		t.Errorf("GET of the .cacnk name from a chunk-server without encryption flags: %d, want 200", code)
	}
}
