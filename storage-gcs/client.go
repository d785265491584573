package gcsstore

import (
	"context"
	"os"

	gcs "cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/folbricht/desync/storage"
)

// EmulatorEnv names the variable that points the client at an emulator
// (such as fake-gcs-server): "host:port" or "http://host:port". The
// client library reads it; with it set, no credentials are looked for.
const EmulatorEnv = "STORAGE_EMULATOR_HOST"

// newClient makes the JSON API client of a store: application default
// credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's application
// default login, or the metadata server), or none for an emulator. Reads
// use the JSON API too, so that every call goes to one endpoint and
// answers in one error form; client metrics are off (a command line
// tool exports no telemetry).
func newClient(ctx context.Context, _ storage.Options) (*gcs.Client, error) {
	opts := []option.ClientOption{gcs.WithJSONReads(), gcs.WithDisabledClientMetrics(), option.WithUserAgent("desync")}
	if os.Getenv(EmulatorEnv) != "" {
		opts = append(opts, option.WithoutAuthentication())
	}
	return gcs.NewClient(ctx, opts...)
}
