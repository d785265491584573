package s3store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/folbricht/desync/storage"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// NewDriver returns the driver for the store at u (an s3+http or s3+https
// URL) with the options of o that apply: Credentials, N (idle
// connections kept), Timeout, the TLS settings, Logger. It sends no
// request.
func NewDriver(ctx context.Context, u *url.URL, o storage.Options) (*Driver, error) {
	loc, err := ParseLocation(u)
	if err != nil {
		return nil, err
	}
	creds, region, kind, err := signer(ctx, u, loc, o)
	if err != nil {
		return nil, err
	}
	tr, err := transport(loc, o)
	if err != nil {
		return nil, err
	}
	c, err := minio.New(loc.Endpoint, &minio.Options{
		Creds:        creds,
		Secure:       loc.Secure,
		Transport:    tr,
		Region:       region,
		BucketLookup: loc.Lookup,
		MaxRetries:   1, // storage.Retry retries, with the user's --error-retry
	})
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", loc, err)
	}
	d := newDriver(c, tr, loc, o)
	if region == "" {
		region = "auto"
	}
	d.log.Debug("opened S3 store", "store", d.name, "credentials", kind, "region", region)
	return d, nil
}

// signer returns what signs the store's requests, its region and a word
// on where the keys come from (for debug logs). In this order:
//
//   - the store's credential from o.Credentials with an access key (the
//     command line: S3_* or AWS_* keys of the environment, else
//     config.json's s3-credentials for the endpoint): static keys;
//   - a credential naming a credentials file or a profile: that file's
//     profile (minio-go's FileAWSCredentials; an empty file name means
//     AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials);
//   - otherwise minio-go's chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
//     (and AWS_SESSION_TOKEN), the shared credentials file with
//     AWS_PROFILE, then IAM (the instance or container role); with none of
//     them the requests go unsigned (decided once: see chainOnce).
//
// The region is the credential's "region" attribute (S3_REGION or the
// config's aws-region on the command line); empty, minio-go asks the
// bucket's.
func signer(ctx context.Context, u *url.URL, loc *Location, o storage.Options) (*credentials.Credentials, string, string, error) {
	var cr storage.Credential
	if o.Credentials != nil {
		var err error
		cr, err = o.Credentials.Credential(ctx, u)
		if err != nil && !errors.Is(err, storage.ErrNoCredential) {
			return nil, "", "", fmt.Errorf("store %s: credentials: %w", loc, err)
		}
	}
	region := cr.Attrs["region"]
	file, profile := cr.Attrs["credentials-file"], cr.Attrs["profile"]
	switch {
	case cr.ID != "" || cr.Secret.Reveal() != "":
		if cr.ID == "" || cr.Secret.Reveal() == "" {
			return nil, "", "", fmt.Errorf("store %s: the credential has an access key or a secret key but not both", loc)
		}
		return credentials.NewStaticV4(cr.ID, cr.Secret.Reveal(), cr.Token.Reveal()), region, "static keys", nil
	case file != "" || profile != "":
		return credentials.NewFileAWSCredentials(file, profile), region, "credentials file", nil
	}
	return newChainOnce(
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
		&credentials.IAM{Client: &http.Client{Timeout: 5 * time.Second}},
	), region, "environment, shared file or IAM", nil
}

// transport is the HTTP transport of one store: connections kept for its
// concurrency, bounded dials and handshakes, and the TLS settings of o.
func transport(loc *Location, o storage.Options) (*http.Transport, error) {
	idle := max(o.N, 16) * 2
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          idle,
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true, // chunks are compressed already; minio-go asks for identity
	}
	if !loc.Secure {
		return tr, nil
	}
	cfg, err := storage.ClientTLS(o)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", loc, err)
	}
	tr.TLSClientConfig = cfg
	return tr, nil
}
