// Package sshstore is the ssh:// chunk store: read-only access to a chunk
// store on another host through casync's remote protocol (package
// casyncproto), by running the pull server there over ssh, as casync and
// desync do. It needs only an ssh binary; nothing runs on this side but
// that process.
//
// Location: ssh://[user@]host[:port]/path. The store runs
//
//	$CASYNC_SSH_PATH [-p PORT] -- [USER@]HOST "$CASYNC_REMOTE_PATH pull - - - 'PATH'"
//
// ($CASYNC_SSH_PATH defaults to "ssh", $CASYNC_REMOTE_PATH to "casync";
// desync's pull command is a drop-in remote). The command is an argv,
// never a local shell. Its last word is a command line for the remote
// user's shell (that is what sshd runs), so the path is single-quoted,
// each single quote written as quote, backslash, quote, quote; a path with spaces, quotes, $(…) or ; reaches the
// server as one intact argument. A host or user starting with "-" is
// refused (and "--" stops ssh's option parsing anyway), as is a password
// in the URL. The remote program is taken as the environment gives it, as
// casync does.
//
// Decisions:
//   - Concurrency: up to Options.N connections (at least one), each a
//     separate ssh process, dialled when first needed (the first when the
//     store opens, so a bad login fails there). GetChunk calls are spread
//     over them round robin; on each, concurrent calls are multiplexed: a
//     writer goroutine packs the IDs queued meanwhile into one REQUEST (at
//     most 64 KiB of IDs, as casync batches), and a reader goroutine hands
//     each CHUNK or MISSING to the call waiting for that ID. Requests are
//     pipelined, so throughput is not bound by the round trip.
//   - Answers are matched by ID (casync answers in request order; matching
//     by ID also copes with a server that does not). An answer for an ID
//     nobody asked for is a protocol error that ends the connection.
//   - A CHUNK flagged COMPRESSED is decoded as a .cacnk (zstd, or gzip) and
//     verified through storage.ChunkFormat; an uncompressed one is
//     verified as it is. Content that does not match the ID is a
//     *chunk.InvalidError naming chunk and store. MISSING is a
//     chunk.ErrMissing naming both.
//   - HasChunk asks for the chunk (the protocol has no other question) but
//     does not decode it.
//   - Failures: a connection that breaks (ssh exits, the pipe closes)
//     fails its waiting calls as transient errors, and the next call dials
//     a new one (storage.Retry repeats the call). An ABORT ([AbortError],
//     with the server's reason), a malformed message or a failed HELLO
//     check is permanent. The last 2 KiB of the ssh command's stderr are
//     added to connection errors. The start of a connection (ssh login
//     and HELLO) is bounded by Options.Timeout, or 30 s.
//   - StoreChunk returns [ErrReadOnly] (permanent, matching
//     errors.ErrUnsupported): the pull side of the protocol only reads.
//     There is no index store for ssh://.
//   - Close sends GOODBYE on each connection, closes its input and waits
//     up to 10 s for the server to end before killing the ssh process.
//
// Importing the package registers the "ssh" scheme with
// storage.DefaultRegistry; [Register] adds it to another registry.
package sshstore
