package cli

// The backends the desync command ships with. Each registers its URL
// schemes with storage's default registry when it is imported; a store
// location with a scheme of none of them ("s3://…" before the S3 backend
// lands) is refused as an unknown scheme, naming the known ones. A new
// backend module is one more blank import here (and a require in go.mod).
//
// Other files import some of these modules for more than their schemes
// (chunk-server and index-server serve with storage-http); the imports here are
// what makes the schemes part of the command whatever those files do.
import (
	_ "github.com/folbricht/desync/storage-gcs"  // gs://: chunk and index stores in Google Cloud Storage
	_ "github.com/folbricht/desync/storage-http" // http://, https://: chunk and index stores over HTTP(S)
)
