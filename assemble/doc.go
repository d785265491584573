// Package assemble turns files into indexes plus stored chunks and back.
//
//   - [Make] reads its input once: the calling goroutine reads fixed-size
//     blocks and cuts them with the chunker; workers hash each chunk once,
//     and compress and store only chunks the store lacks (and only once per
//     run). Memory is a fixed number of 4 MiB blocks, whatever the input size.
//     The index is byte-identical to casync make's.
//   - [ExtractFile] fetches every distinct chunk once, in parallel, verifies
//     its size against the index (stores verify the hash), and writes it at
//     each of its offsets in a sparse temporary file next to the output; the
//     all-zero chunk of the index's max size is never fetched and zero chunks
//     are never written (they stay holes). The temporary file is synced and
//     renamed over the output only when complete, so a failure or a cancelled
//     context leaves the output as it was. [ExtractWriter] streams in order
//     to a writer (stdout) with bounded read-ahead.
//   - [VerifyIndex] checks a file against an index and lists the chunks that
//     differ ([MismatchError]).
//
// Seeds, in-place extraction and reflinks come in later releases.
package assemble
