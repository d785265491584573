package cli

import (
	"net/url"
	"testing"
)

func TestS3CredentialsFor(t *testing.T) {
	cfg := &config{S3Credentials: map[string]s3Credentials{
		"https://s3.example.com": {AccessKey: "cfg-key", SecretKey: "cfg-secret", AwsRegion: "eu-1"},
		"http://127.0.0.1:9000":  {AwsCredentialsFile: "/creds", AwsProfile: "p"},
	}}
	for _, tc := range []struct {
		loc  string
		env  map[string]string
		want s3Credentials
	}{
		{"s3+https://s3.example.com/bucket/prefix", nil, s3Credentials{AccessKey: "cfg-key", SecretKey: "cfg-secret", AwsRegion: "eu-1"}},
		{"s3+http://127.0.0.1:9000/b", nil, s3Credentials{AwsCredentialsFile: "/creds", AwsProfile: "p"}},
		{"s3+https://other.example.com/b", nil, s3Credentials{}},
		{"s3+https://s3.example.com/b", map[string]string{"S3_ACCESS_KEY": "e", "S3_SECRET_KEY": "s", "S3_SESSION_TOKEN": "t"},
			s3Credentials{AccessKey: "e", SecretKey: "s", SessionToken: "t", AwsRegion: "eu-1"}},
		{"s3+https://s3.example.com/b", map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "S3_REGION": "us-2"},
			s3Credentials{AccessKey: "a", SecretKey: "b", AwsRegion: "us-2"}},
		{"s3+https://s3.example.com/b", map[string]string{"S3_ACCESS_KEY": "e", "AWS_ACCESS_KEY_ID": "ignored"},
			s3Credentials{AccessKey: "e", AwsRegion: "eu-1"}},
	} {
		u, _ := url.Parse(tc.loc)
		got := cfg.s3CredentialsFor(u, func(k string) string { return tc.env[k] })
		if got != tc.want {
			t.Errorf("%s %v: %+v, want %+v", tc.loc, tc.env, got, tc.want)
		}
	}
}
