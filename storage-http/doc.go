// Package httpstore (module github.com/folbricht/desync/storage-http) holds
// desync's HTTP(S) chunk and index store clients and the chunk-server and
// index-server HTTP handlers.
//
// Importing the package registers the "http" and "https" schemes with
// storage.DefaultRegistry, which storage.Open uses (remote, so chunk stores
// get a storage.Retry and index stores a storage.IndexRetry); [Register]
// adds them to a registry of one's own:
//
//	import _ "github.com/folbricht/desync/storage-http"
//	s, err := storage.Open(ctx, "https://example.com/store", storage.DefaultOptions())
//
// Clients: the HTTP backend is a [Driver] (driver.go: GET, HEAD, PUT and
// DELETE of objects under the base URL, streamed GETs, and the
// classification of its errors), under the shared code of package
// storage: [Store] is a storage.ObjectStore over it, [IndexStore] a
// storage.ObjectIndexStore.
//   - [Store]: chunks at <base>/<4 hex>/<id>.cacnk (zstd), or <base>/<4 hex>/<id>
//     for uncompressed stores, the layout of casync and desync, so any static
//     web server holding a casync store works. Reads are decoded with a size
//     cap and verified like storage.Local's; HEAD answers HasChunk; PUT
//     stores. 404 is a missing chunk (chunk.ErrMissing); any other status is a
//     [*StatusError] naming the URL and status: 5xx, 408 and 429 are
//     transient, other 4xx storage.Permanent. Connection errors and timeouts
//     are marked storage.Transient; TLS failures and a host that does not
//     resolve are storage.Permanent; their message names the store, the chunk (or index)
//     and the method, not the whole URL again.
//   - [IndexStore]: GET and PUT of <base>/<name>; CopyIndex downloads an
//     index unparsed (storage.IndexCopyStore), for a caller that reads it a
//     chunk at a time.
//
// Both take their settings from storage.Options: N sizes the idle
// connection pool (so -n concurrent requests reuse connections), Timeout
// bounds each request (0: [DefaultTimeout], negative: none), CACert
// replaces the system roots, ClientCert/ClientKey do mutual TLS,
// TrustInsecure (never on by default) skips certificate verification,
// HTTPAuth and HTTPCookie are sent as the Authorization and Cookie headers.
// The DESYNC_HTTP_AUTH environment variable is, as in desync, read by the
// servers only (the CLI does so); a client's Authorization value comes
// from the config file's "http-auth", so a secret meant for one server is
// not sent to every HTTP store.
//
// Servers:
//   - [NewChunkServer]: GET, HEAD and (when writable) PUT of chunks over a
//     chunk.Store, in desync's chunk-server protocol. Uploaded chunks are
//     always decoded and verified against their ID before they are stored
//     (desync skips this by default; we do not): a mismatch is refused with
//     422 and nothing is stored; a 200 means the chunk is durable (a
//     batching store is flushed). At most MaxUploads uploads are read at
//     once (default 4 per CPU), and their bodies together stay within
//     MaxUploadBytes (default 256 MiB; each reserves its Content-Length
//     first), which bounds a writable server's memory. A body larger than
//     the largest zstd frame of a MaxChunkSize chunk is 413, refused by its
//     Content-Length before any of it is read. Uncompressed serving converts as needed.
//     A local store in the served form is served straight from its files
//     (sendfile); each file is verified the first time it is sent (the bytes
//     checked are the bytes sent) and then remembered by inode, size and
//     modification time in a bounded set. A corrupt chunk is never sent:
//     it is an error (500). Verified chunks are sent with Cache-Control
//     "immutable" for CDNs, 404s with "no-store". With SkipVerifyRead
//     (--skip-verify-read) files and chunks are sent unverified, with
//     "no-cache" instead, so a cache never keeps an unchecked chunk.
//     [ChunkServer.SetStore] swaps the store (a --store-file reload).
//   - [NewIndexServer]: GET, HEAD and (when writable) PUT of index files in
//     one directory, confined with os.Root: names with "/", "\", "..",
//     encoded slashes or a leading "." are refused, and symlinks cannot lead
//     outside. Only index files: a name must end in .caibx or .caidx and a
//     file served must start with an index header; anything else is 400, so
//     other files in the directory are never sent or overwritten. Uploads are validated as indexes and written to a temporary
//     file that is renamed into place.
//
// Both handlers check the Authorization header in constant time when one is
// configured, log each request through slog, never put a backend's error
// text in a response, and count requests, bytes and latency in a private
// Prometheus registry served at /metrics ([Metrics]; names start with
// desync_, labels are the operation, method and result, never a chunk ID).
// [Serve] runs a handler on listeners with timeouts, TLS and mutual TLS and
// shuts down gracefully when its context ends.
package httpstore
