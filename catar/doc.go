// Package catar reads and writes casync's .catar archive format: a directory
// tree serialized as one byte stream of records (format description §5–§6 in
// the project's spec), which the chunker cuts and a .caidx indexes.
//
// What lives here:
//
//   - Features (features.go): the archive's feature-flag word, casync's
//     --with/--without names, and the normalization every archive carries.
//   - Entry (entry.go): one filesystem object with the metadata the archive
//     holds for it; the common currency of the writer, the reader and the
//     bridges to disk, tar and mtree.
//   - FormatError (errors.go, dec_errors.go): a malformed archive, with the
//     byte offset and the entry involved; Unwrap gives io.ErrUnexpectedEOF
//     for a truncated stream.
//
// Decoding side:
//
//   - Reader (reader.go): the streaming decoder. NewReader, Next (io.EOF
//     after the root's GOODBYE), Read for the current file's payload,
//     Features, Offset, PayloadOffset. One pass, memory bounded by the depth and the width
//     of the open directories; validates as casync does (§5.4), checks every
//     goodbye table item by item, caps record sizes before allocating.
//   - Extract (extract.go; system calls in extract_linux.go, stubs in
//     extract_other.go; ACL xattr blobs and chattr bits in extract_acl.go):
//     an archive to a directory, confined with os.Root; owners, modes, ns
//     times, xattrs, ACLs, fcaps, chattr flags, devices, fifos, sockets;
//     small files written by a bounded pool of workers; with CloneFrom,
//     large files cloned (FICLONE) from a file said to hold the same bytes
//     and corrected against the payload. ExtractError names the entry and
//     offset of a failure on disk.
//   - WriteTar (totar.go): an archive as a GNU tar stream (PAX headers for
//     entries with xattrs).
//   - WriteMtree (mtree.go): casync's `mtree` lines of an archive.
//   - Tests: vectors in testdata/ (README there), hostile archives from the
//     in-test record writer dec_build_test.go, FuzzReader and FuzzExtract in
//     dec_fuzz_test.go, BenchmarkExtract.
//
// The encoder side (tree or tar -> archive):
//
//   - Writer (writer.go): serializes entries given in archive order into
//     records and GOODBYE tables. It is the one place that applies the
//     feature flags to raw metadata (§5.2: mode, masked flags, ids, rounded
//     mtime, which records exist), and refuses misuse (order, names, payload
//     length) with a *FormatError. Memory: the open directories' items.
//   - EncodeTree (encode.go, fs_linux.go; fs_other.go elsewhere): archives a
//     directory from disk as casync make does (sorted walk, nodump,
//     .caexclude, submounts, API file systems, xattrs, ACLs, fcaps, chattr,
//     project IDs, cached user names); byte-identical with casync 2.
//   - EncodeTar (fromtar.go): archives a GNU/PAX tar stream; metadata held in
//     memory, contents spooled to a temporary file, then written in strcmp
//     order.
//   - enc_acl.go (POSIX ACL xattr blobs), enc_exclude.go (.caexclude
//     patterns): helpers of the encoders.
//   - TreeImage (image.go): the archive a tree encodes to as random-access
//     bytes (io.ReaderAt) without writing it: EncodeTree's records without
//     payloads kept in memory, file contents read on demand; FileAt maps a
//     payload offset to its file. Untar's seeds read old chunks from it.
//   - catartest: builds casync's vector tree (testdata) for tests, as root;
//     the CLI's tests use it too.
//
// The archive is a pre-order walk: the root directory's ENTRY, then for each
// child in strcmp (bytewise) order its FILENAME and its own serialization,
// then the directory's GOODBYE table, whose items are ordered by the
// SipHash-2-4 of the names in the layout of a complete binary search tree.
// Paths inside this package are slash-separated and relative to the archive
// root, "" being the root itself.
package catar
