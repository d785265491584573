// Package fuse mounts an index with FUSE: a blob index (.caibx) as a
// read-only directory holding one file, and an archive index (.caidx) as
// the read-only directory tree the archive holds. Chunks are fetched on
// demand from a chunk store; nothing is assembled on disk (except, if
// asked, into a copy-on-read file).
//
// What lives here:
//
//   - Blob (blob.go): random access to the stream an index describes, made
//     for a FUSE file. ReadAt fetches the chunks a read covers in parallel;
//     a bounded cache of chunks serves the page-sized pieces the kernel asks
//     for; sequential readers (the kernel's requests arrive a little out of
//     order, which still counts) get a read-ahead window that starts at one
//     chunk and doubles up to BlobOptions.ReadAhead (2 MiB by default, or
//     two chunks per fetch slot if more), fetched by Concurrency goroutines
//     whose digests are batched. Chunks
//     already read are dropped early (the last 16 are kept), and their
//     pooled buffers given back, so that a sequential read works in a few
//     MiB that stay in the CPU's caches; memory is bounded
//     by about twice the read-ahead plus Concurrency+4 chunks of the
//     index's maximum size. A chunk that cannot be fetched within
//     ChunkTimeout fails the reads that need it, and only those, with an
//     error naming the chunk and its offset, which is logged. The store
//     can be replaced while reads go on (SetStore; storeref.go closes the
//     old one when its fetches are done), which the CLI does on SIGHUP.
//   - CORFile (cor.go): the copy-on-read file. Chunks fetched are written
//     into a sparse file at their offset and read from it afterwards; its
//     state (a bitmap of the chunks it holds, in the original desync's
//     state file format) is saved and loaded; loading checks each marked
//     chunk against its ID, so a stale state costs fetches, not wrong data.
//     The original desync trusts the state; this is the one difference.
//   - MountBlob (blobfs.go) and MountTree (treefs.go), Mount (mount.go):
//     the go-fuse file systems and their mount (Linux and macOS; on other
//     platforms mount_other.go makes both fail with ErrUnsupported and
//     Supported is false, so that programs using the package still build).
//     A FUSE read is answered straight from the chunks holding it (one
//     writev of their pieces; chunkResult), the chunks given back once
//     go-fuse has written them: no copy in between.
//     Mounts are read-only, with 512 KiB kernel reads and read-ahead (the
//     mount's read_ahead_kb is raised when run as root) and the page cache
//     kept across opens (nothing ever changes). Unmount falls
//     back to a lazy unmount when a process still holds the mount busy.
//     A tree mount reads a directory from its goodbye table the first time
//     it is looked into (catar.Archive), never reading file contents for
//     a listing; a file's contents are read from the archive stream when
//     read. Inode numbers are entry offsets, stable across mounts.
//
// A read that fails is EIO to the reading process. The kernel retries a
// page that a failed (larger) read-ahead request covered with a read of
// that page alone, so an error stays confined to the pages of the chunk
// that failed.
package fuse
