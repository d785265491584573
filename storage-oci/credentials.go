package ocistore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"

	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/folbricht/desync/storage"
)

// The environment variables that hold a registry login, first in the
// order of credential sources.
const (
	EnvUsername = "DESYNC_OCI_USERNAME"
	EnvPassword = "DESYNC_OCI_PASSWORD"
)

// credentialSource says where a store's login came from, for messages
// (never the login itself).
type credentialSource string

// credentialFunc returns how the store at loc signs in, in the original
// desync's order, first match winning:
//
//  1. DESYNC_OCI_USERNAME and DESYNC_OCI_PASSWORD from the environment (a
//     password without a user name is an error);
//  2. o.Credentials (the CLI: config.json's "oci-credentials" entry for the
//     store URL), unless it has none for the store (storage.ErrNoCredential);
//  3. the docker credential store: $DOCKER_CONFIG/config.json or
//     ~/.docker/config.json, with its credential helpers (docker login,
//     oras login);
//
// and anonymous when the docker store has nothing for the registry either.
// A login from 1 or 2 is given for the store's registry host only.
func credentialFunc(ctx context.Context, loc *url.URL, l Location, o storage.Options, getenv func(string) string) (auth.CredentialFunc, credentialSource, error) {
	user, pass := getenv(EnvUsername), getenv(EnvPassword)
	if pass != "" && user == "" {
		return nil, "", fmt.Errorf("%s is set without %s", EnvPassword, EnvUsername)
	}
	if user != "" {
		return auth.StaticCredential(l.Host, auth.Credential{Username: user, Password: pass}), "environment", nil
	}
	if o.Credentials != nil {
		cr, err := o.Credentials.Credential(ctx, loc)
		switch {
		case err == nil && (cr.ID != "" || cr.Secret != ""):
			return auth.StaticCredential(l.Host, auth.Credential{Username: cr.ID, Password: cr.Secret.Reveal()}), "config", nil
		case err != nil && !errors.Is(err, storage.ErrNoCredential):
			return nil, "", err
		}
	}
	ds, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
	if err != nil {
		return nil, "", fmt.Errorf("failed to load docker credential config: %w", err)
	}
	return credentials.Credential(ds), "docker", nil
}

// osGetenv is os.Getenv, replaced by tests.
var osGetenv = os.Getenv
