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
//   - FormatError (errors.go): a malformed archive, with the byte offset and
//     the entry involved.
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
