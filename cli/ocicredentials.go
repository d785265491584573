package cli

import (
	"fmt"
	"net/url"
	"slices"

	"github.com/folbricht/desync/storage"
)

// ociCredentials are one entry of config.json's "oci-credentials", the
// original desync's keys: a registry login for the store URLs the entry's
// key matches.
type ociCredentials struct {
	Username string `json:"username,omitempty"`
	Secret   string `json:"secret,omitempty"`
}

// ociCredential returns the login of config.json for an OCI store: the
// "oci-credentials" entry keyed by the store URL exactly, else the one
// entry whose key, a glob as store-options keys are, matches it (two is
// an error naming them). None is storage.ErrNoCredential: the backend
// then asks the docker credential store. (DESYNC_OCI_USERNAME and
// DESYNC_OCI_PASSWORD, which win over the config, are the backend's.)
func (c *config) ociCredential(loc *url.URL) (storage.Credential, error) {
	store := loc.Redacted()
	e, ok := c.OCICredentials[store]
	if !ok {
		var keys []string
		for k := range c.OCICredentials {
			if locationMatch(k, store) {
				keys = append(keys, k)
			}
		}
		switch len(keys) {
		case 0:
			return storage.Credential{}, fmt.Errorf("store %s: %w", store, storage.ErrNoCredential)
		case 1:
			e = c.OCICredentials[keys[0]]
		default:
			slices.Sort(keys)
			return storage.Credential{}, fmt.Errorf("%s: oci-credentials entries %q all match the store %s; make one of them its exact key", c.path, keys, store)
		}
	}
	if e == (ociCredentials{}) {
		return storage.Credential{}, fmt.Errorf("store %s: %w", store, storage.ErrNoCredential)
	}
	return storage.Credential{ID: e.Username, Secret: storage.Secret(e.Secret)}, nil
}
