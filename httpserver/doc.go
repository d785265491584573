// Package httpserver (module github.com/folbricht/desync/httpserver) holds
// desync's chunk-server and index-server: HTTP handlers over a chunk.Store
// and over a directory of index files, their Prometheus metrics, and
// [Serve], which runs a handler with TLS and a graceful shutdown. The CLI's
// chunk-server and index-server commands are thin wrappers around it.
//
// The clients of these servers are in module
// github.com/folbricht/desync/storage-http (package httpstore), which does
// not import this one: a program that only reads HTTP stores does not pull
// the Prometheus client. Both sides take the chunk names
// (/<4 hex>/<id>.cacnk, or /<4 hex>/<id> for plain chunks), the stored
// form and the upload cap from storage.ChunkFormat, so they agree by
// construction; this module's tests run the httpstore client against the
// servers (the conformance suites of package storagetest included).
//
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
//     Content-Length before any of it is read. Uncompressed serving converts as needed,
//     and so does encrypted serving (ChunkServerOptions.Encryption, the
//     original desync's --encryption): chunks are served and accepted
//     encrypted at .cacnk.<algorithm>-<key id> whatever form the store keeps,
//     and uploads are decrypted and verified before they are stored.
//     A local store in the served form (the same chunk name suffix, so the
//     same compression, algorithm and key ID) is served straight from its files
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
//
// Files: chunkserver.go (ChunkServer), budget.go (the byte budget of
// uploads in memory), inode_*.go (a file's identity for the verified-file
// set), indexserver.go (IndexServer), middleware.go (authorization, access
// log, metrics around both), metrics.go (Metrics), serve.go (Serve, Listen,
// ServerTLSConfig).
package httpserver
