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
// The archive is a pre-order walk: the root directory's ENTRY, then for each
// child in strcmp (bytewise) order its FILENAME and its own serialization,
// then the directory's GOODBYE table, whose items are ordered by the
// SipHash-2-4 of the names in the layout of a complete binary search tree.
// Paths inside this package are slash-separated and relative to the archive
// root, "" being the root itself.
package catar
