// Package s3store is desync's S3 backend: chunk and index stores in an S3
// bucket (AWS, MinIO, Ceph, versitygw, …) through minio-go. Importing it
// registers the schemes "s3+http" and "s3+https" with
// storage.DefaultRegistry ([Register] does so for any registry).
//
// What lives here:
//
//   - location.go: [ParseLocation] reads
//     s3+http[s]://host[:port]/bucket[/prefix][?lookup=path|dns|auto]; the
//     first path element is the bucket, the rest a key prefix. A location
//     with a user or password is refused (it would be printed in messages).
//   - client.go: [NewDriver] builds the minio-go client: the transport
//     (idle connections for -n, bounded dials and TLS handshakes, the TLS
//     options), and the signer: the store's storage.Credential if it has
//     keys (the command line puts S3_*/AWS_* of the environment, else
//     config.json's s3-credentials, there), or the credentials file and
//     profile it names, else minio-go's chain (AWS_* variables, the shared
//     credentials file with AWS_PROFILE, IAM). Its "region" attribute sets
//     the region; without one minio-go asks the bucket's. minio-go's own
//     retries are off: storage.Retry does that, with --error-retry.
//   - driver.go: [Driver], the storage.ObjectDriver (and ObjectStreamer):
//     GET, HEAD, a single PUT (its body's SHA-256 signed, computed once,
//     rather than minio-go's streaming signature over plain HTTP, which
//     costs client and server a signature per 64 KiB), DELETE, and a
//     listing that streams
//     ListObjectsV2 a page at a time. Each request is bounded by the
//     store's timeout (default [DefaultTimeout]). A HEAD answer has no
//     body, so a refused or missing HEAD is asked again as a one-byte GET
//     to learn the real reason (a missing bucket, a wrong key), until a
//     GET has seen the bucket exist.
//   - classify.go: the meaning of errors. NoSuchKey is a missing chunk;
//     refused credentials (AccessDenied, InvalidAccessKeyId,
//     SignatureDoesNotMatch, bad tokens), NoSuchBucket, other 4xx, TLS
//     failures and unknown hosts are permanent; throttling (503 SlowDown,
//     429), 5xx, timeouts, refused and reset connections are transient
//     (retried). [Error] names operation, bucket and key and says in
//     words what the S3 code means; no error or String holds a credential.
//   - store.go, register.go: [NewStore] (a storage.ObjectStore on the
//     driver: naming, compression, verification are the shared code's)
//     and [NewIndexStore] (a storage.ObjectIndexStore), and the
//     registration.
//
// Package s3test (a sub-package) starts a real versitygw for tests.
package s3store
