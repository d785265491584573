package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/folbricht/desync/storage"
)

// config is desync's config.json: per-store options keyed by location (with
// glob patterns) and S3 credentials keyed by scheme://host.
type config struct {
	HTTPTimeout    json.RawMessage            `json:"http-timeout,omitempty"`     // desync's deprecated global; kept for round trips
	HTTPErrorRetry json.RawMessage            `json:"http-error-retry,omitempty"` // likewise
	S3Credentials  map[string]s3Credentials   `json:"s3-credentials"`
	OCICredentials map[string]ociCredentials  `json:"oci-credentials,omitempty"`
	StoreOptions   map[string]json.RawMessage `json:"store-options"`

	path string // where it was read from; "" if no file
}

// s3Credentials are one entry of "s3-credentials", desync's keys.
type s3Credentials struct {
	AccessKey          string `json:"access-key,omitempty"`
	SecretKey          string `json:"secret-key,omitempty"`
	SessionToken       string `json:"session-token,omitempty"`
	AwsCredentialsFile string `json:"aws-credentials-file,omitempty"`
	AwsProfile         string `json:"aws-profile,omitempty"`
	AwsRegion          string `json:"aws-region,omitempty"`
}

// defaultConfigPath is $HOME/.config/desync/config.json, desync's location.
func defaultConfigPath() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "desync", "config.json")
}

// loadConfig reads the config file at p, or the default file when p is "".
// A missing default file is an empty config; a missing file named with
// --config is an error. Mistakes are reported with the file's line and
// column.
func loadConfig(p string) (*config, error) {
	explicit := p != ""
	if !explicit {
		p = defaultConfigPath()
	}
	cfg := &config{path: p}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return cfg, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return nil, configError(p, data, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("config %s:%s: unexpected data after the JSON object", p, lineCol(data, int(dec.InputOffset())))
	}
	// Check every store's options now, not when the store is first used.
	for _, loc := range sortedKeys(cfg.StoreOptions) {
		o := storage.DefaultOptions()
		if err := storage.ParseOptions(loc, cfg.StoreOptions[loc], &o); err != nil {
			where := keyOffset(data, "store-options", loc)
			var oe *storage.OptionError
			if errors.As(err, &oe) {
				where = keyOffset(data, "store-options", loc, oe.Key)
			}
			return nil, fmt.Errorf("config %s:%s: store-options %q: %w", p, lineCol(data, where), loc, err)
		}
	}
	return cfg, nil
}

// configError turns a JSON decoding error into one naming file, line and
// column.
func configError(p string, data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	// Their offsets count the bytes read, the offending one included:
	// point at that byte.
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("config %s:%s: invalid JSON: %v", p, lineCol(data, int(syn.Offset)-1), err)
	case errors.As(err, &typ) && typ.Field == "":
		return fmt.Errorf("config %s:%s: the file must hold a JSON object, not a JSON %s", p, lineCol(data, int(typ.Offset)-1), typ.Value)
	case errors.As(err, &typ):
		return fmt.Errorf("config %s:%s: %q wants a %s, not a JSON %s", p, lineCol(data, int(typ.Offset)-1), typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("config %s:%s: invalid JSON: unexpected end of file", p, lineCol(data, len(data)))
	}
	if k, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		k, _ = strconv.Unquote(k)
		return fmt.Errorf("config %s:%s: unknown key %q", p, lineCol(data, keyOffset(data, k)), k)
	}
	return fmt.Errorf("config %s: %w", p, err)
}

// keyOffset finds the JSON object keys in data, each after the previous one,
// and returns the offset of the last one found (0 if none). Good enough to
// point a user at the line of a mistake.
func keyOffset(data []byte, keys ...string) int {
	off, at := 0, 0
	for _, k := range keys {
		q, _ := json.Marshal(k)
		i := bytes.Index(data[off:], q)
		if i < 0 {
			break
		}
		at = off + i
		off = at + len(q)
	}
	return at
}

// lineCol formats a byte offset as 1-based "line:column".
func lineCol(data []byte, off int) string {
	off = min(max(off, 0), len(data))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("%d:%d", line, col)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// storeOptions returns the options of the store at location: desync's
// defaults, then the config entry whose pattern matches the location (two
// matching entries are an error).
func (c *config) storeOptions(location string) (storage.Options, error) {
	o := storage.DefaultOptions()
	var match string
	for _, pattern := range sortedKeys(c.StoreOptions) {
		if !locationMatch(pattern, location) {
			continue
		}
		if match != "" {
			return o, fmt.Errorf("config %s: store %q matches two store-options entries, %q and %q", c.path, location, match, pattern)
		}
		match = pattern
	}
	if match != "" {
		if err := storage.ParseOptions(location, c.StoreOptions[match], &o); err != nil {
			return o, fmt.Errorf("config %s: store-options %q: %w", c.path, match, err)
		}
	}
	o.Credentials = credentials{c, os.Getenv}
	return o, nil
}

// locationMatch reports whether a store location matches a store-options
// key, as desync matches them. For a URL the key is a glob over the whole
// location string (path.Match: "*" and "?" do not cross "/", so "*://host",
// "https://exampl?.*" and "https://host/?" are patterns, not URL parts); for
// a local path (or a file:// URL, which desync lacks) both are made absolute
// and cleaned first and matched with filepath.Match. Either way a trailing
// slash does not matter.
func locationMatch(pattern, location string) bool {
	if strings.Contains(location, "://") && !strings.HasPrefix(location, "file://") {
		ok, err := path.Match(strings.TrimSuffix(pattern, "/"), strings.TrimSuffix(location, "/"))
		return err == nil && ok
	}
	p, err1 := filepath.Abs(strings.TrimPrefix(pattern, "file://"))
	l, err2 := filepath.Abs(strings.TrimPrefix(location, "file://"))
	ok, err := filepath.Match(p, l)
	return err1 == nil && err2 == nil && err == nil && ok
}

// effective is the config as the program sees it: every store-options entry
// with the defaults filled in.
func (c *config) effective() (any, error) {
	opts := map[string]storage.Options{}
	for _, loc := range sortedKeys(c.StoreOptions) {
		o := storage.DefaultOptions()
		if err := storage.ParseOptions(loc, c.StoreOptions[loc], &o); err != nil {
			return nil, err
		}
		opts[loc] = o
	}
	creds := c.S3Credentials
	if creds == nil {
		creds = map[string]s3Credentials{}
	}
	return struct {
		HTTPTimeout    json.RawMessage            `json:"http-timeout,omitempty"`
		HTTPErrorRetry json.RawMessage            `json:"http-error-retry,omitempty"`
		S3Credentials  map[string]s3Credentials   `json:"s3-credentials"`
		OCICredentials map[string]ociCredentials  `json:"oci-credentials,omitempty"`
		StoreOptions   map[string]storage.Options `json:"store-options"`
	}{c.HTTPTimeout, c.HTTPErrorRetry, creds, c.OCICredentials, opts}, nil
}

// s3CredentialsFor returns the S3 credentials for a store URL, as desync
// finds them: S3_ACCESS_KEY / S3_SECRET_KEY / S3_SESSION_TOKEN (else the
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN) from the
// environment win (the original desync does the same, checked against it);
// otherwise the s3-credentials entry for the URL's endpoint (scheme without
// "s3+", and host). S3_REGION overrides the region.
func (c *config) s3CredentialsFor(u *url.URL, getenv func(string) string) (s3Credentials, error) {
	cr, err := c.s3CredentialsEntry(u)
	if err != nil {
		return s3Credentials{}, err
	}
	access, secret, token := getenv("S3_ACCESS_KEY"), getenv("S3_SECRET_KEY"), getenv("S3_SESSION_TOKEN")
	if access == "" && secret == "" {
		access, secret, token = getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN")
	}
	if access != "" || secret != "" {
		cr = s3Credentials{AccessKey: access, SecretKey: secret, SessionToken: token, AwsRegion: cr.AwsRegion}
	}
	if r := getenv("S3_REGION"); r != "" {
		cr.AwsRegion = r
	}
	return cr, nil
}

// s3CredentialsEntry returns the s3-credentials entry for u's endpoint
// ("http://host:port"): the entry of exactly that key (desync's only
// lookup), else the one entry whose key is a glob matching it
// ("https://*.example.com"). Two globs matching is an error naming them.
func (c *config) s3CredentialsEntry(u *url.URL) (s3Credentials, error) {
	endpoint := (&url.URL{Scheme: strings.TrimPrefix(u.Scheme, "s3+"), Host: u.Host}).String()
	if e, ok := c.S3Credentials[endpoint]; ok {
		return e, nil
	}
	var keys []string
	for k := range c.S3Credentials {
		if ok, err := path.Match(strings.TrimSuffix(k, "/"), endpoint); err == nil && ok {
			keys = append(keys, k)
		}
	}
	switch len(keys) {
	case 0:
		return s3Credentials{}, nil
	case 1:
		return c.S3Credentials[keys[0]], nil
	}
	slices.Sort(keys)
	return s3Credentials{}, fmt.Errorf("%s: s3-credentials entries %q all match the endpoint %s; make one of them its exact key", c.path, keys, endpoint)
}

// credentials is the one path by which the config's "s3-credentials" (and
// the environment's S3_* and AWS_* keys, which win, as in desync) reach a
// backend: it is every store's Options.Credentials.
type credentials struct {
	cfg    *config
	getenv func(string) string
}

// Credential returns the credential for the store at loc, or an error
// matching storage.ErrNoCredential when neither the config nor the
// environment has one.
func (c credentials) Credential(_ context.Context, loc *url.URL) (storage.Credential, error) {
	if strings.HasPrefix(loc.Scheme, "oci+") {
		return c.cfg.ociCredential(loc)
	}
	cr, err := c.cfg.s3CredentialsFor(loc, c.getenv)
	if err != nil {
		return storage.Credential{}, err
	}
	if cr == (s3Credentials{}) {
		return storage.Credential{}, fmt.Errorf("store %s: %w", loc.Redacted(), storage.ErrNoCredential)
	}
	attrs := map[string]string{}
	for k, v := range map[string]string{"region": cr.AwsRegion, "profile": cr.AwsProfile, "credentials-file": cr.AwsCredentialsFile} {
		if v != "" {
			attrs[k] = v
		}
	}
	return storage.Credential{ID: cr.AccessKey, Secret: storage.Secret(cr.SecretKey), Token: storage.Secret(cr.SessionToken), Attrs: attrs}, nil
}
