package ocistore_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	ocistore "github.com/folbricht/desync/storage-oci"
	"github.com/folbricht/desync/storage-oci/ocitest"
)

// TestCredentialOrder: the environment wins over Options.Credentials (the
// config), which wins over the docker credential store, used when the
// others have nothing; with none, the registry's refusal is permanent,
// names the store and says what to do.
func TestCredentialOrder(t *testing.T) {
	srv := ocitest.StartBasic(t)
	good := storage.StaticCredentials{srv.Addr: {ID: srv.User, Secret: storage.Secret(srv.Pass)}}
	bad := storage.StaticCredentials{srv.Addr: {ID: srv.User, Secret: "wrong-password"}}
	docker := func(t *testing.T, pass string) {
		dir := t.TempDir()
		auth := base64.StdEncoding.EncodeToString([]byte(srv.User + ":" + pass))
		cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, srv.Addr, auth)
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("DOCKER_CONFIG", dir)
	}
	for _, tc := range []struct {
		name       string
		envUser    string
		envPass    string
		creds      storage.Credentials
		dockerPass string // "" for no docker login
		ok         bool
	}{
		{"EnvBeatsConfig", srv.User, srv.Pass, bad, "", true},
		{"EnvWrong", srv.User, "wrong", good, srv.Pass, false},
		{"ConfigBeatsDocker", "", "", good, "wrong", true},
		{"ConfigWrong", "", "", bad, srv.Pass, false},
		{"Docker", "", "", nil, srv.Pass, true},
		{"DockerNoEntry", "", "", storage.StaticCredentials{}, srv.Pass, true},
		{"Anonymous", "", "", nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noDocker(t)
			t.Setenv(ocistore.EnvUsername, tc.envUser)
			t.Setenv(ocistore.EnvPassword, tc.envPass)
			if tc.dockerPass != "" {
				docker(t, tc.dockerPass)
			}
			s := open(t, srv.URL(newRepo()), storage.Options{Credentials: tc.creds})
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c := chunk.New(chunk.SHA512_256.Sum([]byte(tc.name)), []byte(tc.name))
			err := s.StoreChunk(ctx, c)
			switch {
			case tc.ok && err != nil:
				t.Fatalf("StoreChunk: %v", err)
			case !tc.ok && err == nil:
				t.Fatal("StoreChunk with the wrong login: no error")
			case !tc.ok:
				if !storage.IsPermanent(err) || !strings.Contains(err.Error(), s.String()) || !strings.Contains(err.Error(), "credentials") {
					t.Errorf("StoreChunk: %v, want a permanent error naming the store and the credentials", err)
				}
				if strings.Contains(err.Error(), srv.Pass) || strings.Contains(err.Error(), "wrong-password") {
					t.Errorf("the error shows a password: %v", err)
				}
			}
		})
	}
	t.Run("PasswordWithoutUser", func(t *testing.T) {
		noDocker(t)
		t.Setenv(ocistore.EnvPassword, "x")
		_, err := ocistore.NewStore(context.Background(), mustURL(t, srv.URL("r")), storage.Options{})
		if err == nil || !strings.Contains(err.Error(), "DESYNC_OCI_PASSWORD is set without DESYNC_OCI_USERNAME") {
			t.Errorf("open: %v, want the original's complaint", err)
		}
	})
}

// TestLocation: the schemes and the URL checks.
func TestLocation(t *testing.T) {
	for loc, want := range map[string]string{
		"oci+https://ghcr.io/user/store":  "",
		"oci+http://127.0.0.1:5000/a/b/c": "",
		"oci+ftp://host/repo":             "unsupported scheme oci+ftp, expected oci+https or oci+http",
		"oci+https://host/":               "want oci+https://host[:port]/repository",
		"oci+https://host/Upper":          "invalid",
		"oci+https://u:hunter2@host/repo": "credentials in the URL",
		"oci+https://host/repo?x=1":       "query",
	} {
		_, err := ocistore.ParseLocation(mustURL(t, loc))
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", loc, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want %q", loc, err, want)
		case err != nil && strings.Contains(err.Error(), "hunter2"):
			t.Errorf("%s: the error shows the password: %v", loc, err)
		}
	}
}
