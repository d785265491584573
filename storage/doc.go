// Package storage holds desync's chunk and index stores that need nothing
// beyond the standard library, and (in later releases) the composition
// types that combine stores.
//
// What lives here now:
//   - [Local]: a chunk store in a directory, laid out like casync's
//     (<dir>/<4 hex>/<id>.cacnk, zstd; or <id> for uncompressed stores).
//     Reads are decoded with a size cap and verified against the chunk ID;
//     writes go to a temporary file that is renamed into place only once its
//     data is durable (on Linux one syncfs per batch of 256 chunks, or at
//     Flush/Close, instead of an fsync per chunk), and an existing chunk is
//     never rewritten. Uses golang.org/x/sys/unix for syncfs.
//   - [LocalIndex]: indexes by name under a directory; names cannot escape it.
//   - The index store interfaces [IndexStore] and [IndexWriteStore] (the
//     chunk store interfaces live in package chunk).
package storage
