package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/folbricht/desync/chunk"
)

// Options are the settings of one store. The JSON form is an entry of
// "store-options" in desync's config.json, with desync's keys; durations are
// read as nanoseconds (desync's form) or as Go duration strings ("30s").
// Not every option applies to every backend.
type Options struct {
	// N is the store's concurrency: connections, goroutines or processes.
	N int `json:"n,omitempty"`
	// ClientCert and ClientKey are a TLS client certificate (mutual TLS).
	ClientCert string `json:"client-cert,omitempty"`
	ClientKey  string `json:"client-key,omitempty"`
	// CACert is a file of CA certificates to trust instead of the system's.
	CACert string `json:"ca-cert,omitempty"`
	// TrustInsecure accepts any server certificate.
	TrustInsecure bool `json:"trust-insecure,omitempty"`
	// HTTPAuth and HTTPCookie are sent as the Authorization and Cookie headers.
	HTTPAuth   string `json:"http-auth,omitempty"`
	HTTPCookie string `json:"http-cookie,omitempty"`
	// Timeout bounds each request; 0 means the backend's default, negative none.
	Timeout time.Duration `json:"timeout,omitempty"`
	// ErrorRetry is desync's --error-retry: how many times in all a call to
	// a remote store is made before its transient failure is returned
	// (see [Retry]); 0 and 1 both mean once, with no retry.
	// ErrorRetryBaseInterval is the wait before the first retry.
	ErrorRetry             int           `json:"error-retry"`
	ErrorRetryBaseInterval time.Duration `json:"error-retry-base-interval,omitempty"`
	// SkipVerify trusts the store: chunks read are not hashed.
	SkipVerify bool `json:"skip-verify,omitempty"`
	// Uncompressed stores keep plain chunks, named without .cacnk.
	Uncompressed bool `json:"uncompressed"`
	// Encryption encrypts the store's chunks after compression, as the
	// original desync does (see [Options.EncryptionSettings]): with
	// EncryptionKey, 64 hex digits (if empty, the environment variable
	// DESYNC_ENCRYPTION_KEY, which alone never turns encryption on), under
	// EncryptionAlgorithm, "xchacha20-poly1305" (the default) or
	// "aes-256-gcm". Chunk names then end in ".<algorithm>-<key id>", so a
	// store sees only the chunks of its own key.
	Encryption          bool   `json:"encryption,omitempty"`
	EncryptionAlgorithm string `json:"encryption-algorithm,omitempty"`
	EncryptionKey       string `json:"encryption-key,omitempty"`
	// ListBeforeWrite bounds the listing a remote store written to
	// (make, chop, cache -c) makes before its first HasChunk, so that a
	// small store is asked for its chunks once instead of once per chunk
	// (see [ObjectStore.KnownChunks]): 0 lists up to
	// [DefaultListBeforeWrite] objects, n > 0 up to n, negative never
	// (one request per chunk, as before). In JSON, "list-before-write" is
	// true (the default), false, or the bound.
	ListBeforeWrite int `json:"list-before-write,omitempty"`

	// Set by the program, not the config file:

	// Digest names chunks (zero value: SHA-512/256).
	Digest chunk.Digest `json:"-"`
	// MaxChunkSize caps decoded chunks; set it to the index's max.
	MaxChunkSize int `json:"-"`
	// CompressionLevel is the zstd level of written chunks (0: default).
	CompressionLevel int `json:"-"`
	// Logger receives warnings and debug messages; nil discards them.
	Logger *slog.Logger `json:"-"`
	// Syncer makes what a local store writes durable; nil is SystemSync,
	// NoSync skips it (make --no-sync).
	Syncer Syncer `json:"-"`
	// Backend holds the backend's own typed options, parsed from the
	// keys of the store-options entry that are not the common ones above,
	// by the ParseOptions of the location's [Backend] (see
	// [Registry.ParseOptions]); nil if it has none.
	Backend any `json:"-"`
	// Credentials is how secrets reach the backend (config.json's
	// "s3-credentials", for S3); nil for none.
	Credentials Credentials `json:"-"`
}

// DefaultOptions returns desync's defaults: a remote call is made at most 3
// times, 500ms apart at first.
func DefaultOptions() Options {
	return Options{ErrorRetry: DefaultErrorRetry, ErrorRetryBaseInterval: DefaultErrorRetryBaseInterval}
}

// OptionError is a bad key or value in a store's JSON options.
type OptionError struct {
	Key string
	Msg string
}

func (e *OptionError) Error() string { return fmt.Sprintf("store option %q: %s", e.Key, e.Msg) }

// unsupportedOptions are desync options this implementation does not have;
// they are accepted only with their zero value.
var unsupportedOptions = []string{"encryption-password", "safe-pruning", "safe-propagation-time"}

// UnmarshalJSON sets the options present in b and leaves the others as they
// are, so defaults can be filled in first. Unknown keys are an error (a
// misspelt option would otherwise be ignored silently), as are desync
// options this implementation lacks, unless they are off.
func (o *Options) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("store options must be a JSON object, not a JSON %s", te.Value)
		}
		return err
	}
	for _, k := range unsupportedOptions {
		if v, ok := raw[k]; ok {
			switch strings.TrimSpace(string(v)) {
			case "false", "0", `""`, "null":
			default:
				return &OptionError{Key: k, Msg: "not supported by this desync"}
			}
			delete(raw, k)
		}
	}
	for key, dst := range map[string]*time.Duration{"timeout": &o.Timeout, "error-retry-base-interval": &o.ErrorRetryBaseInterval} {
		if v, ok := raw[key]; ok {
			d, err := parseDuration(v)
			if err != nil {
				return &OptionError{Key: key, Msg: err.Error()}
			}
			*dst = d
			delete(raw, key)
		}
	}
	if v, ok := raw["list-before-write"]; ok {
		n, err := parseListBound(v)
		if err != nil {
			return &OptionError{Key: "list-before-write", Msg: err.Error()}
		}
		o.ListBeforeWrite = n
		delete(raw, "list-before-write")
	}
	type plain Options       // without these methods
	b, _ = json.Marshal(raw) // without the keys handled above
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode((*plain)(o)); err != nil {
		if k, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			k, _ = strconv.Unquote(k)
			return &OptionError{Key: k, Msg: "unknown option"}
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &OptionError{Key: te.Field, Msg: "want a " + te.Type.String() + ", not a JSON " + te.Value}
		}
		return err
	}
	return o.checkEncryption()
}

// parseDuration reads nanoseconds (desync's form) or a duration string.
func parseDuration(b json.RawMessage) (time.Duration, error) {
	var v any
	if err := json.Unmarshal(b, &v); err == nil {
		switch v := v.(type) {
		case float64:
			return time.Duration(v), nil
		case string:
			if d, err := time.ParseDuration(v); err == nil {
				return d, nil
			}
		}
	}
	return 0, fmt.Errorf("bad duration %s: want a string such as \"30s\" or nanoseconds", b)
}

// parseListBound reads list-before-write: true is the default bound (0),
// false or a number below 1 is off (-1), a number above 0 the bound.
func parseListBound(b json.RawMessage) (int, error) {
	var v any
	if err := json.Unmarshal(b, &v); err == nil {
		switch v := v.(type) {
		case bool:
			if v {
				return 0, nil
			}
			return -1, nil
		case float64:
			if v == float64(int(v)) {
				if v < 1 {
					return -1, nil
				}
				return int(v), nil
			}
		}
	}
	return 0, fmt.Errorf("bad value %s: want true, false or a number of objects", b)
}

// RequestTimeout is the bound of one request: Timeout, or def when Timeout
// is 0, or 0 (no bound) when Timeout is negative.
func (o Options) RequestTimeout(def time.Duration) time.Duration {
	switch {
	case o.Timeout == 0:
		return def
	case o.Timeout < 0:
		return 0
	}
	return o.Timeout
}
