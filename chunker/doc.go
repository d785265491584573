// Package chunker is casync's content-defined chunker: a 48-byte buzhash
// rolling hash that cuts a stream where the hash, modulo a discriminator
// derived from the average size, equals discriminator−1, never before the
// minimum size and always at the maximum. Its boundaries are identical to
// casync's and desync's, so chunks made here deduplicate against theirs.
//
// What lives here:
//   - [Params]: the min/avg/max sizes as stored in an index header,
//     [NewParams] (casync's rules for deriving missing values) and
//     [ParseParams] (desync's "16:64:256" in KiB and casync's "64K", "1.5M",
//     "20000B:30000B:40000B").
//   - [Chunker]: [Chunker.Next] finds the end of the chunk at the start of a
//     []byte without allocating; [Chunker.Split] and [Chunker.SplitParallel]
//     cut a whole buffer (the parallel form gives the identical result).
//   - [Reader]: cuts an io.Reader through one fixed buffer.
//
// The module has no dependencies outside the standard library, so anyone can
// import just the chunker.
//
// Decisions worth knowing: the hash restarts at every chunk start, so the
// boundary of a chunk depends only on its own bytes (this is what makes
// Next stateless and the parallel search exact); a cut is allowed at exactly
// min bytes (casync does this, older desync did not); min = avg = max selects
// fixed-size chunks; a min below 48 still cuts no earlier than 48.
package chunker
