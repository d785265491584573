// Package ocistore is desync's OCI registry backend: chunk stores in a
// repository of any OCI registry (the distribution registry, ghcr.io,
// Docker Hub, Harbor, zot, …) at oci+https://host[:port]/repository, or
// oci+http:// for a registry without TLS, registered with
// storage.DefaultRegistry when the package is imported. It is built on
// oras.land/oras-go/v2 and lays chunks out as the original desync does,
// so that both tools read and write the same repository:
//
//   - each chunk is its own artifact: a blob holding the chunk in the
//     store's stored form (compressed, plain, or encrypted), and a manifest
//     of artifact type application/vnd.desync.chunk.v1 with the empty
//     config ({}), that one blob as its layer, and the tag as its
//     org.opencontainers.image.title annotation; the manifest is compact
//     JSON with the original's field order, so the bytes (and digest) are
//     the same whichever tool pushed the chunk;
//   - the manifest is tagged "<id><suffix>": the chunk's object name
//     "<4 hex>/<id><suffix>" of the storage layout without its directory,
//     so the suffix (".cacnk", none for plain stores, or one with an
//     encryption part) is whatever the store's layout says;
//   - Get reads the manifest by tag, checks its artifact type and its one
//     layer, refuses a layer larger than the limit before fetching it, and
//     checks the blob's sha256 digest while reading it (the chunk's own
//     digest is then verified by storage.ObjectStore);
//   - Delete (prune) deletes a manifest by digest only if it is a desync
//     chunk artifact: an unrelated artifact under a chunk-shaped tag is
//     left alone. Blobs are left to the registry's garbage collection;
//   - List pages through the tag listing (1000 tags a page, Link headers)
//     and yields the tags that look like chunk names. It cannot tell a
//     foreign artifact under a chunk-shaped tag without reading its
//     manifest, so reading one (verify does) fails with a permanent error
//     that says the tag is not a desync chunk artifact.
//
// Index stores on a registry are refused, with the original's message
// (ErrIndexStore).
//
// Credentials, first match wins (the original's order): the environment
// (DESYNC_OCI_USERNAME, DESYNC_OCI_PASSWORD), then storage.Options
// Credentials (the CLI's "oci-credentials" section of config.json, keyed
// by store URL with globs), then the docker credential store
// ($DOCKER_CONFIG/config.json or ~/.docker/config.json and its credential
// helpers), anonymous otherwise. oras's auth client answers basic and
// bearer-token challenges. TLS settings (ca-cert, client-cert/-key,
// trust-insecure), timeout and n are the common store options.
//
// Errors: a 404 is a missing chunk; 401, 403 and other 4xx, a refused
// connection (no registry at that address), an unresolvable host and TLS
// failures are permanent, so a wrong login, a repository the login may not
// see or an unreachable registry fail at once, naming the store; 408, 429,
// 5xx and timeouts are transient and retried by storage.Retry. Setting up a
// connection (dial and TLS handshake) is bounded by ConnectTimeout (3 s),
// so a registry that does not answer fails within seconds, retries
// included, not after the minute of the request timeout per attempt.
//
// Files:
//   - location.go: the store URL, checked.
//   - manifest.go: the chunk manifest, built byte-identical to the
//     original's and parsed with its checks.
//   - credentials.go: where the login comes from.
//   - client.go: the HTTP client (pool, timeout, TLS) and oras's auth client.
//   - driver.go: the storage.ObjectDriver.
//   - errors.go: classification and hints for refusals.
//   - register.go: the schemes, NewStore, the index store refusal.
//   - ocitest: starts the distribution registry for tests (anonymous,
//     htpasswd basic auth, or behind a bearer-token proxy of its own; the
//     registry's own token mode needs a signing token server, the proxy is
//     smaller and exercises the same client code).
package ocistore
