// Package chunk holds what every part of desync agrees on about a chunk:
//
//   - [ID], the 32-byte name of a chunk, and [Digest], the hash that makes it
//     (SHA-512/256 by default, SHA-256 optionally). A digest is a value you
//     pass, not a global setting.
//   - [Chunk], one chunk in plain and/or stored form; the other form is made
//     on first use through a [Converter] and kept. Stores decode with [Load]
//     into pooled buffers; a caller done with a chunk gives its buffer back
//     with [Chunk.Release] (a no-op for chunks a store marked [Chunk.Share]d),
//     so extraction reuses a few buffers instead of feeding the collector.
//   - [Zstd], the converter for casync's .cacnk files. It reuses encoders and
//     decoders, caps decoded size (set it to the index's max chunk size),
//     rejects trailing bytes after the frame, and reads casync's frames, which
//     carry no content size. [Uncompressed] is the identity converter.
//   - The store interfaces ([Store], [WriteStore], [PruneStore]) with
//     context.Context on every call, and the errors callers act on:
//     [ErrMissing] (via errors.Is, carried by [*MissingError]) and
//     [*InvalidError] (content does not match the ID).
//
// The only dependency is github.com/klauspost/compress.
package chunk
