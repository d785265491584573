package s3store_test

import (
	"context"
	"os"

	"github.com/folbricht/desync/storage"
	_ "github.com/folbricht/desync/storage-s3" // registers s3+http and s3+https
)

// Example opens a chunk store in an S3 bucket by location, as the CLI
// does: importing the package registers its schemes, and the keys reach
// the backend through Options.Credentials (here static ones; the CLI's
// come from config.json and the environment). Without a credential the
// backend walks minio-go's chain: AWS_* variables, the shared
// credentials file, IAM.
func Example() {
	ctx := context.Background()
	o := storage.Options{
		N: 16,
		Credentials: storage.StaticCredentials{
			"https://s3.example.com": {
				ID:     os.Getenv("S3_ACCESS_KEY"),
				Secret: storage.Secret(os.Getenv("S3_SECRET_KEY")),
				Attrs:  map[string]string{"region": "eu-west-1"},
			},
		},
	}
	s, err := storage.Open(ctx, "s3+https://s3.example.com/bucket/store?lookup=path", o)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	// s is a chunk.Store (and a chunk.WriteStore): chunks are the objects
	// store/<4 hex>/<id>.cacnk in the bucket.
}
