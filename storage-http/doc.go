// Package httpstore (module github.com/folbricht/desync/storage-http) holds
// desync's HTTP(S) chunk and index store clients. The chunk-server and
// index-server are in module github.com/folbricht/desync/httpserver, so a
// program that only reads and writes HTTP stores does not pull what the
// servers need (the Prometheus client above all).
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
// Files: store.go (Store, and the endpoint both stores share), index.go
// (IndexStore), driver.go (Driver: the object operations and the
// classification of their errors), client.go (the http.Client, TLS, URLs,
// StatusError), register.go (the schemes). The tests run the client
// against an in-memory HTTP object server of their own (objectserver_test.go)
// and a static file server; module httpserver runs it against ours.
package httpstore
