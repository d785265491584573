// Package caindex reads and writes casync's index files: .caibx (an index of
// a blob: a file or block device) and .caidx (an index of a .catar archive
// stream). Both are one header (feature flags and the min/avg/max chunk
// sizes) followed by a table of (end offset, chunk ID) items and a tail.
//
// [Read] validates like casync: exact header and table markers, normalized
// feature flags without unknown bits ([Normalize]), sizes within [1, 128 MiB]
// and ordered, strictly increasing ends, no chunk larger than max, a tail that
// matches the table, and nothing after it. Every failure is a [*FormatError]
// naming the byte offset (and the file, with [ReadFile]).
//
// [Index.WriteTo] writes byte-identical output to casync's for the same
// chunks. [New] sets casync make's blob flags: 0xb000000000000000 for
// SHA-512/256 and 0x9000000000000000 for SHA-256. Indexes written by desync
// (0xa000000000000000, no EXCLUDE_FILE bit) are read as well.
//
// An index need not be held in memory: a [Reader] reads one a chunk at a
// time with Read's checks (Read is built on it), and a [Writer] writes one
// a chunk at a time, byte-identical to WriteTo (which uses it). Make and
// extract use them so that their memory does not grow with the index.
package caindex
