package cli

// The backends the desync command ships with. Each registers its URL
// schemes with storage's default registry when it is imported; a store
// location with a scheme of none of them ("s3://…" before the S3 backend
// lands) is refused as an unknown scheme, naming the known ones. A new
// backend module is one more blank import here (and a require in go.mod).
//
// The servers (chunk-server, index-server) are module httpserver, imported
// by the files of those commands; it registers no scheme. The imports here
// are what makes the schemes part of the command.
import (
	_ "github.com/folbricht/desync/storage-gcs"      // gs://: chunk and index stores in Google Cloud Storage
	_ "github.com/folbricht/desync/storage-http"     // http://, https://: chunk and index stores over HTTP(S)
	_ "github.com/folbricht/desync/storage-oci"      // oci+http://, oci+https://: chunk stores in OCI registries (one artifact per chunk, as the original desync)
	_ "github.com/folbricht/desync/storage-s3"       // s3+http://, s3+https://: chunk and index stores in S3 buckets
	_ "github.com/folbricht/desync/storage-sftp"     // sftp://: chunk and index stores over SFTP (the ssh program)
	_ "github.com/folbricht/desync/storage/sshstore" // ssh://: read-only chunk stores over casync's protocol (casync pull, or desync pull, on the remote)
)
