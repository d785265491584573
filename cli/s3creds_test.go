package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/folbricht/desync/storage"
)

func TestS3CredentialsFor(t *testing.T) {
	cfg := &config{S3Credentials: map[string]s3Credentials{
		"https://s3.example.com": {AccessKey: "cfg-key", SecretKey: "cfg-secret", AwsRegion: "eu-1"},
		"http://127.0.0.1:9000":  {AwsCredentialsFile: "/creds", AwsProfile: "p"},
		"https://*.example.org":  {AccessKey: "glob-key", SecretKey: "glob-secret"},
		"http*://s3.example.org": {AccessKey: "exact-wins", SecretKey: "no"},
		"https://s3.example.org": {AccessKey: "exact", SecretKey: "exact-secret"},
	}}
	for _, tc := range []struct {
		loc  string
		env  map[string]string
		want s3Credentials
	}{
		{"s3+https://s3.example.com/bucket/prefix", nil, s3Credentials{AccessKey: "cfg-key", SecretKey: "cfg-secret", AwsRegion: "eu-1"}},
		{"s3+http://127.0.0.1:9000/b", nil, s3Credentials{AwsCredentialsFile: "/creds", AwsProfile: "p"}},
		{"s3+https://other.example.com/b", nil, s3Credentials{}},
		{"s3+https://eu.example.org/b", nil, s3Credentials{AccessKey: "glob-key", SecretKey: "glob-secret"}},
		{"s3+https://s3.example.org/b", nil, s3Credentials{AccessKey: "exact", SecretKey: "exact-secret"}},
		{"s3+http://127.0.0.1:9001/b", nil, s3Credentials{}},
		{"s3+https://s3.example.com/b", map[string]string{"S3_ACCESS_KEY": "e", "S3_SECRET_KEY": "s", "S3_SESSION_TOKEN": "t"},
			s3Credentials{AccessKey: "e", SecretKey: "s", SessionToken: "t", AwsRegion: "eu-1"}},
		{"s3+https://s3.example.com/b", map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "S3_REGION": "us-2"},
			s3Credentials{AccessKey: "a", SecretKey: "b", AwsRegion: "us-2"}},
		{"s3+https://s3.example.com/b", map[string]string{"S3_ACCESS_KEY": "e", "AWS_ACCESS_KEY_ID": "ignored"},
			s3Credentials{AccessKey: "e", AwsRegion: "eu-1"}},
	} {
		u, _ := url.Parse(tc.loc)
		got, err := cfg.s3CredentialsFor(u, func(k string) string { return tc.env[k] })
		if err != nil || got != tc.want {
			t.Errorf("%s %v: %+v, %v, want %+v", tc.loc, tc.env, got, err, tc.want)
		}
	}
}

// TestS3CredentialsAmbiguous: two glob keys matching one endpoint is an
// error naming both keys and the config file, never a guess.
func TestS3CredentialsAmbiguous(t *testing.T) {
	cfg := &config{path: "config.json", S3Credentials: map[string]s3Credentials{
		"http://*:9000":         {AccessKey: "a", SecretKey: "secret-one"},
		"http://127.0.0.1:900?": {AccessKey: "b", SecretKey: "secret-two"},
	}}
	u, _ := url.Parse("s3+http://127.0.0.1:9000/bucket")
	_, err := cfg.s3CredentialsFor(u, func(string) string { return "" })
	if err == nil {
		t.Fatal("two matching globs: no error")
	}
	for _, want := range []string{"config.json", "http://*:9000", "http://127.0.0.1:900?", "http://127.0.0.1:9000"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "secret-") {
		t.Errorf("error %q shows a secret", err)
	}
}

// TestCredentialsPath: a store's options carry the config's s3-credentials
// (the environment winning) to its backend through Options.Credentials, and
// printing the options never shows the secret.
func TestCredentialsPath(t *testing.T) {
	cfg := &config{path: "config.json", S3Credentials: map[string]s3Credentials{
		"http://127.0.0.1:9000": {AccessKey: "cfg-key", SecretKey: "cfg-secret-xyz", AwsRegion: "eu-1", AwsProfile: "p"},
	}}
	o, err := cfg.storeOptions("s3+http://127.0.0.1:9000/bucket/prefix")
	if err != nil {
		t.Fatal(err)
	}
	if o.Credentials == nil {
		t.Fatal("storeOptions: no Credentials")
	}
	o.Credentials = credentials{cfg, func(string) string { return "" }} // the test's own environment must not count
	u, _ := url.Parse("s3+http://127.0.0.1:9000/bucket/prefix")
	cr, err := o.Credentials.Credential(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if cr.ID != "cfg-key" || cr.Secret.Reveal() != "cfg-secret-xyz" || cr.Attrs["region"] != "eu-1" || cr.Attrs["profile"] != "p" {
		t.Errorf("credential %+v (secret %q), want the config's", cr, cr.Secret.Reveal())
	}
	for _, s := range []string{fmt.Sprintf("%v", o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), fmt.Sprintf("%+v", cr)} {
		if strings.Contains(s, "cfg-secret-xyz") {
			t.Errorf("printed options show the secret: %s", s)
		}
	}
	other, _ := url.Parse("s3+http://127.0.0.1:9001/b")
	if _, err := o.Credentials.Credential(context.Background(), other); !errors.Is(err, storage.ErrNoCredential) {
		t.Errorf("other endpoint: %v, want ErrNoCredential", err)
	}
}
