// Package storage holds desync's chunk and index stores that need nothing
// beyond the standard library (and x/sys), the composition types that
// combine stores, and the opening of stores by location.
//
// Stores:
//   - [Local]: a chunk store in a directory, laid out like casync's
//     (<dir>/<4 hex>/<id>.cacnk, zstd; or <id> for uncompressed stores).
//     Reads are decoded with a size cap and verified against the chunk ID;
//     writes go to a temporary file that is renamed into place only once its
//     data is durable (on Linux one syncfs per batch of 256 chunks, run in
//     the background while writers go on, or at Flush/Close, instead of an
//     fsync per chunk), and an existing chunk is never rewritten (the batch
//     is renamed with RENAME_NOREPLACE, so a write needs no lookup first).
//     Flush syncs again after the renames, so that an index written after
//     it never names a chunk a crash can lose. It lists, removes and prunes
//     chunks ([Lister], [Remover], chunk.PruneStore); prune also deletes
//     stale temporary files (see below). Chunk files outside the directory
//     of their first 4 hex digits, which nothing else sees, are listed and
//     removed by name ([MisplacedLister], for verify). A store that does
//     not exist reads as empty; [CheckExists] is the check for callers that
//     only read.
//   - [LocalIndex]: indexes by name under a directory; names cannot escape it.
//     It is an [IndexStreamStore]: WriteIndex stores an index while it is
//     written (atomically), so it is never held in memory whole. Remote
//     index stores may be an [IndexCopyStore], which copies an index's
//     bytes unparsed, to be read a chunk at a time.
//
// The driver layer (format.go, object.go): what every backend shares is
// written once here, and a remote backend supplies only object operations.
//
//   - [ChunkLayout] names chunks: <4 hex>/<id><suffix>, the suffix ".cacnk"
//     for zstd, "" for plain chunks, ".cacnk.<algorithm>-<key id>" or
//     ".<algorithm>-<key id>" for encrypted ones.
//   - Encryption (encryption.go): the store options "encryption",
//     "encryption-key" (or $DESYNC_ENCRYPTION_KEY, [EncryptionKeyEnv]) and
//     "encryption-algorithm" become an [Encryption] ([Options.EncryptionSettings]),
//     which [FormatOptions] turns into a chunk.Encrypted converter over
//     the zstd or plain one, with the original desync's suffix: every
//     store built on a ChunkFormat (local, object stores, the chunk
//     server) is encrypted the same way. [CheckIndexOptions] refuses
//     encryption for index stores. A [ChunkFiler]'s file is sent as it is
//     only to a server of the same suffix, so never in another form or key.
//   - [ChunkFormat] is a layout plus the stored form (zstd or plain, from
//     [FormatOptions]), the decoded-size cap and the largest stored object
//     it allows ([MaxStoredSize]), Encode (pooled) and Decode (capped,
//     decoded, verified; a failure is a *chunk.InvalidError naming chunk
//     and store). [ChunkError] names store, operation and chunk.
//   - [ObjectDriver] is a remote backend: Get(name, limit), Exists, Put,
//     Delete, List(prefix), and Classify(err) → [ErrorKind] (missing,
//     permanent, transient, unknown), String, Close.
//     A driver classifies its protocol's own errors and leaves the rest to
//     [ClassifyStatus] (an HTTP status) and [ClassifyNetwork] (TLS, DNS,
//     timeouts, connections), so every backend means the same by them;
//     [ClientTLS] is the client TLS of Options for those that speak TLS.
//   - [ObjectStore] makes any driver a full chunk store (GetChunk,
//     HasChunk, StoreChunk, RemoveChunk, ListChunks, Prune): context
//     checks, names, format, and the driver's errors turned into missing
//     or invalid chunks or a [ChunkError] marked [Permanent] or
//     [Transient] as the driver classified it.
//   - [Local] keeps its own file code (raw syscalls, batched syncs,
//     RENAME_NOREPLACE) but uses the same ChunkFormat.
//
// Composition, each a decorator over chunk.Store (the CLI stacks them as
// NullChunk(Dedup(Cache(Router(stores…), cache)))):
//   - [Router] (-s A -s B): tries stores in order; only a missing chunk falls
//     through, any other error is returned.
//   - [Failover] ("A|B"): mirrors; on a failure switches to the next member
//     and stays; if all fail, a [GroupError] carries each member's error.
//   - [Cache] (-c): reads through a writable cache; with Repair an invalid
//     cached chunk is replaced from the store.
//   - [Retry]: repeats calls that fail with a transient error
//     ([IsTransient]: marked [Transient] by the backend, or with a method
//     Transient() bool saying so, or a timeout; an error nobody classified
//     is not retried), waiting n × BaseInterval before
//     retry n; a call is made at most Attempts times in all (desync's
//     --error-retry: 3 means 3 requests, 0 and 1 mean one).
//   - [Dedup]: concurrent requests for one chunk share one fetch (or write).
//   - [NullChunk]: answers for the all-zero chunk of one size without asking.
//   - [Uploads]: a write-behind queue for a remote store that is written
//     to (make, chop, cache -c): StoreChunk returns once the chunk is
//     queued, and U uploaders of its own (not the caller's workers; the
//     CLI gives max(-n, 8), [UploaderCount]) write it to the wrapped store.
//     Decision: the chunk is encoded in the caller, into a pooled buffer
//     the queue owns, when an [ObjectStore] is found under the queue (its
//     ChunkFormat says how): so compression stays on make's CPU workers,
//     the caller may reuse its data buffer at once, and the queue holds
//     the (smaller) stored form; the uploader hands the wrapped store a
//     chunk already in its stored form, which ObjectStore puts as it is.
//     Over any other store it keeps a copy of the plain data. The queue is
//     bounded by bytes (the capacity of the buffers it holds, queued and
//     being uploaded; [DefaultUploadBytes]); a StoreChunk that does not
//     fit waits, and a chunk larger than the bound goes in alone. A chunk
//     queued or being uploaded is pending: HasChunk says true and GetChunk
//     returns a copy without asking the store, and storing it again queues
//     nothing. It sits above [Retry], so a failed upload is one that
//     failed after the retries; the first failure (a [ChunkError] naming
//     chunk and store) is returned by every later StoreChunk and by Flush,
//     what is still queued is dropped and no upload is started any more.
//     Flush waits for every pending upload, then flushes the wrapped
//     store; Close flushes, stops the uploaders and closes it. The context
//     given to [NewUploads] bounds the uploaders: once it is done, uploads
//     in flight are cancelled and Flush reports it. Listing before
//     writing: when the queue is over an [ObjectStore], its first HasChunk
//     lists the store once ([ObjectStore.KnownChunks], bounded by the
//     store option list-before-write, Options.ListBeforeWrite: at most
//     [DefaultListBeforeWrite] objects by default), the other callers
//     waiting for it (up to UploadOptions.ListWait, [DefaultListWait];
//     past it they ask per chunk while it goes on, so that the slow
//     listing of a large store costs little); once the listing ends within
//     the bound, HasChunk
//     answers from it and from the uploads since, and asks the store
//     nothing. A listing past the bound, failed (logged at debug level) or
//     unsupported (HTTP) leaves HasChunk asking the store for each chunk
//     not pending (make's HEAD before a PUT). Decision: the listing only
//     ever makes a writer upload more, never skip a chunk: a chunk is
//     taken as stored only if the listing named it or this queue uploaded
//     it; one another writer stores after the listing is uploaded again,
//     the same bytes. Only the write path lists (the queue is made for
//     make, chop and cache -c); reads ask per chunk. Measured: on
//     loopback (bench/remote.sh, 2 cores) make is bound by the CPU of
//     client and server, so a request saved is time saved; with a 1 ms
//     round trip (BenchmarkUploadsLatency, 2 workers) the queue halves the
//     time per chunk and the HEAD is then what bounds it, which the
//     listing removes for small stores (for large ones, a "store if
//     missing" run by the uploaders is the next step).
//
// Optional capabilities are small interfaces found by type assertion
// ([Lister], [Remover], chunk.PruneStore, chunk.Flusher); [As] finds one
// through the decorators, like errors.As. [ChunkFiler] (the file that
// holds a chunk, for a server's sendfile path) is instead forwarded by the
// decorators for which sending the file is what a read would return
// (Retry, Dedup, NullChunk, Cache), so a server asks the store it serves
// and never looks at the concrete types behind it.
//
// Opening: [Open] and [OpenWith] turn a location into a store: a path (or
// file:// URL) is a [Local]; "A|B" a [Failover]; a URL goes to the backend
// that registered its scheme (remote backends get a [Retry], their index
// stores an [IndexRetry]). Schemes live in a [Registry], a value: backend
// modules (storage-http, storage-s3, …) register themselves with
// [DefaultRegistry] when imported, which the package-level functions use,
// so a program has exactly the schemes it imports; a program or test can
// build its own with [NewRegistry]. An unknown scheme is an error listing
// the known ones.
//
// Options per backend: the common ones are [Options] fields; a backend
// with options of its own registers a ParseOptions in its [Backend], and
// [Registry.ParseOptions] hands it the keys of a store-options entry that
// are not common ones (desync's keys, unchanged; [DecodeOptions] decodes
// them strictly into a typed struct), to be found in Options.Backend when
// the store is opened. Secrets reach a backend by one path,
// Options.Credentials ([Credentials]; [StaticCredentials] by endpoint, as
// config.json's "s3-credentials"), held as [Secret] values that never
// print. [Options] are one store's
// settings, read from desync's config.json "store-options" JSON.
// [OpenIndexStore], [SplitIndexLocation] and [ReadIndex] do the same for
// index stores. Index stores are written with [WriteIndex] (streamed where
// the store can, else collected and stored whole) and copied unparsed with
// [CopyIndex] (parsed and rewritten where the store cannot copy), so callers
// need no type assertions; [ObjectIndexStore] is an index store over any
// [ObjectDriver].
//
// Temporary files and crashes: every file written here goes first to a
// temporary file next to its final name, recognisable as ours:
// ".<name>.desync-<rand>.tmp" ([WriteFileAtomic]: indexes, extract's output)
// or ".<name>.desync-<owner>-<rand>.tmp" (a [Local] store's chunks). Each has
// an owner lock that its writer holds while the file is in progress: the
// file itself, or for chunks the store's ".desync-<owner>.lock", created at
// the store's first write and removed by Close. On Linux the lock is an
// flock, held for the life of the open file: it ends however the process
// ends (SIGKILL too), and it is seen by every process of the machine,
// whatever its pid namespace. A temporary file whose owner lock can be
// taken is stale; the cleaner removes it while holding that lock (a
// writer's lock is taken right after an exclusive create, and a writer
// that finds its new file gone or renamed once it has the lock tries another
// name), so a live writer's file is never removed. A stale owner lock is
// renamed to ".desync-<owner>.dead" until its chunks' files are gone.
// [WriteFileAtomic] removes the stale temporary files of its path first;
// [Local.RemoveStaleTemps] those of a store: cheaply (only if an owner lock
// is stale) for make and a writable chunk-server's start, or all of them
// for prune and verify -r. Where locks are not available (systems other
// than Linux, file systems without locks, or whose locks are local to one
// client, such as NFS mounted with nolock: do not share a store across
// hosts that way) a temporary file is stale only once it is an hour old.
//
// Durability: every sync goes through a [Syncer] ([SystemSync] unless an
// option sets another, as tests do to check each sync and its order).
//
// Checking a store: [VerifyStore] lists a store's chunks (and, for a local
// store, chunk files under the wrong prefix directory, [MisplacedError]),
// decodes and verifies each on a worker pool, reports every problem through
// a callback and, with Repair, deletes what it reported.
//
// Package workpool (a sub-package) is the one bounded worker pool of the
// repository: verify, chop, cache, info and extraction's tasks run on it.
//
// Package casyncproto (a sub-package) is casync's remote protocol (the
// messages of casync pull/push, validated); package sshstore (a
// sub-package) is the read-only ssh:// chunk store built on it, which
// registers the "ssh" scheme when imported.
//
// Package storagetest (a sub-package) is the conformance suite every store
// type runs, plus fault-injecting stores to test compositions with.
package storage
