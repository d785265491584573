package gcsstore_test

import (
	"context"

	"github.com/folbricht/desync/storage"
	_ "github.com/folbricht/desync/storage-gcs" // registers gs
)

// Example opens a chunk store and an index store in a GCS bucket by
// location. Credentials are Google's application default credentials;
// with STORAGE_EMULATOR_HOST set the store talks to that emulator.
func Example() {
	ctx := context.Background()
	o := storage.Options{N: 16}
	chunks, err := storage.Open(ctx, "gs://my-bucket/store", o)
	if err != nil {
		panic(err)
	}
	defer chunks.Close()
	indexes, err := storage.OpenIndexStore(ctx, "gs://my-bucket/indexes", o)
	if err != nil {
		panic(err)
	}
	defer indexes.Close()
	// chunks holds my-bucket/store/<4 hex>/<id>.cacnk, indexes
	// my-bucket/indexes/<name>.caibx.
}
