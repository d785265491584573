// Package gcsstore holds desync's Google Cloud Storage backend: chunk and
// index stores at gs://bucket/prefix, registered as the "gs" scheme with
// storage.DefaultRegistry when the package is imported.
//
// The layout is casync's: chunk <id> is the object
// prefix/<first 4 hex digits>/<id>.cacnk (zstd; the bare <id> for an
// uncompressed store), so a bucket copied to disk is a local store casync
// reads. Index "x.caibx" of an index store is the object prefix/x.caibx.
// Naming, stored form, verification, retries and index handling are the
// storage package's (storage.ObjectStore, storage.ObjectIndexStore); this
// package supplies the [Driver] (Get, Open, Exists, Put, Delete, List) and
// the meaning of its errors ([Driver.Classify]).
//
// Files:
//   - register.go: the scheme, [NewStore], [NewIndexStore].
//   - location.go: gs://bucket/prefix parsed; String() shows only that.
//   - client.go: the client library's client: application default
//     credentials, or none when STORAGE_EMULATOR_HOST names an emulator
//     (fake-gcs-server in the tests); its own retries are off. Its HTTP
//     transport is the store's own: HTTP/1.1, idle connections kept for
//     the store's concurrency (-n, at least 16), and the connection setup
//     (dial, TLS handshake) bounded by [ConnectTimeout], so that an
//     endpoint that does not answer fails in seconds, retries included.
//   - driver.go: the object operations. Uploads are one request with a
//     CRC32C; listings stream page by page (1000 names a page), nothing is
//     collected.
//   - timeout.go: every call is bounded by the caller's context and the
//     store's timeout (the common "timeout" store option, [DefaultTimeout]
//     when 0, none when negative). A single request is bounded whole; a
//     listing or a streamed index read is bounded per page or per read, so
//     a long transfer that moves is not cut, but a server that stops
//     answering fails the call (a *[TimeoutError], transient) instead of
//     hanging, which the original desync did.
//   - errors.go: classification. A missing object is missing; since GCS
//     answers a read from a missing bucket with the same 404, the bucket
//     is asked for once, until it is known to exist, so a missing bucket
//     is a permanent error, never a missing chunk. Refused credentials
//     (401, 403) are permanent; 408, 429, 5xx, timeouts and failed
//     connections transient.
//
// Credentials: only the environment's (application default credentials:
// GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login,
// the metadata server of a GCE/GKE machine), as in desync. They never
// appear in a location, in String() or in errors; a location with a user
// or password is refused. storage.Options.Credentials is not consulted:
// what the command line puts there are S3 keys (config.json's
// s3-credentials, S3_* and AWS_* variables), which mean nothing to GCS,
// and desync has no GCS credential setting to carry; ADC already covers
// every way to name a service account or a user.
//
// Package gcstest (a sub-package) starts fake-gcs-server for the tests of
// this module and of cli.
package gcsstore
