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
//     It lists, removes and prunes chunks ([Lister],
//     [Remover], chunk.PruneStore); prune also deletes temporary files
//     abandoned for over an hour. Chunk files outside the directory of
//     their first 4 hex digits, which nothing else sees, are listed and
//     removed by name ([MisplacedLister], for verify). A store that does
//     not exist reads as empty; [CheckExists] is the check for callers that
//     only read.
//   - [LocalIndex]: indexes by name under a directory; names cannot escape it.
//     It is an [IndexStreamStore]: WriteIndex stores an index while it is
//     written (atomically), so it is never held in memory whole. Remote
//     index stores may be an [IndexCopyStore], which copies an index's
//     bytes unparsed, to be read a chunk at a time.
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
//     ([IsTransient]: not a missing or invalid chunk, not a cancelled
//     context, not marked [Permanent]), waiting n × BaseInterval before
//     retry n; a call is made at most Attempts times in all (desync's
//     --error-retry: 3 means 3 requests, 0 and 1 mean one).
//   - [Dedup]: concurrent requests for one chunk share one fetch (or write).
//   - [NullChunk]: answers for the all-zero chunk of one size without asking.
//
// Optional capabilities are small interfaces found by type assertion
// ([Lister], [Remover], chunk.PruneStore, chunk.Flusher); [As] finds one
// through the decorators, like errors.As.
//
// Opening: [Open] and [OpenWith] turn a location into a store: a path (or
// file:// URL) is a [Local]; "A|B" a [Failover]; a URL goes to the backend
// that registered its scheme with [Register] (remote backends get a [Retry]).
// Backend modules (storage-http, storage-s3, …) register themselves when
// imported, so a program has exactly the schemes it imports, and an unknown
// scheme is an error listing the known ones. [Options] are one store's
// settings, read from desync's config.json "store-options" JSON.
// [OpenIndexStore], [SplitIndexLocation] and [ReadIndex] do the same for
// index stores.
//
// Package storagetest (a sub-package) is the conformance suite every store
// type runs, plus fault-injecting stores to test compositions with.
package storage
