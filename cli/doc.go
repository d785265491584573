// Package cli is the desync command line: [Run] parses a command line and
// runs one command, returning its exit status (0 success, 1 the work
// failed, 2 a usage error). cli/cmd/desync is the binary around it.
//
// It is meant as a drop-in for the original desync's command line: the same
// commands, flags and short forms (ff/v3 under the hood, flags allowed after
// the positional arguments as with cobra), list flags that take several
// values separated by commas, the global flags --config, --digest and
// --verbose before or after the command name, and desync's config.json.
// Where it differs on purpose, the README's "Differences from the original
// desync" says so and why.
//
// # One command, one file
//
// Each command is a method (a *app) xxxCmd in a file of its own, named
// after the command without dashes; its tests are in the matching
// _test.go when it has tests of its own (list-chunks, chunk, verify-index
// and help are covered by app_test.go, config by config_test.go; tar, untar
// and mtree share tar_test.go; completion, manpage and version
// surface_test.go):
//
//	make           make.go           cut a file into chunks, store them, write the index
//	extract        extract.go        rebuild a file from its index, seeds and stores
//	cat            cat.go            stream an index's content (or a range of it)
//	chop           chop.go           store a file's chunks where its index cuts it
//	cache          cache.go          copy the chunks of indexes into a cache
//	prune          prune.go          delete the chunks no index refers to
//	verify         verify.go         check (and with -r repair) every chunk of a store
//	info           info.go           what an index holds, and how much of it stores and seeds have
//	list-chunks    listchunks.go     the chunk IDs of an index
//	inspect-chunks inspectchunks.go  the chunks of an index as JSON (which info --chunks-info reads)
//	chunk          chunk.go          the chunks of a file, without storing them
//	verify-index   verifyindex.go    check a file against an index
//	config         configcmd.go      show or write the configuration
//	chunk-server   chunkserver.go    serve chunk stores over HTTP(S)
//	index-server   indexserver.go    serve index files over HTTP(S)
//	mount-index    mountindex.go     FUSE mount of an index: a blob as a file, a .caidx as a tree (fuse module)
//	pull           pull.go           serve chunks (and an index) with casync's protocol on stdin/stdout, for ssh://
//	tar            tar.go            archive a tree (or a tar stream) as a catar, or a caidx and its chunks
//	untar          untar.go          extract a catar or caidx to a tree or a GNU tar stream; archive seeds
//	mtree          mtree.go          casync's mtree lines of a catar, a caidx or a directory
//	completion     completion.go     bash, zsh and fish completion scripts made from the command tree
//	manpage        manpage.go        man pages made from the command tree (the same text as --help)
//	version        version.go        the CLI's version and each desync module's, from the build information
//	help           help.go           the help of desync or of a command
//
// A new command is a new file with its xxxCmd, and one entry in the list
// of commands in app.go.
//
// # Shared pieces
//
//   - app.go: the app (one run: streams, config file, logger), the list of
//     commands, newCommand with the flags every command has, and Run: help
//     on stdout; a usage error is one line naming the flag as typed and a
//     pointer to --help.
//   - cmdline.go: flags after positional arguments (permute) and the
//     rewording of the flag package's errors; usage.go: the help text,
//     and flagGroups (a flag with its aliases) that the completion scripts
//     and man pages share with it.
//   - env.go: DESYNC_<FLAG> variables for every long flag, applied to
//     what the command line did not set, before config.json.
//   - flags.go: shared flag types (list, count, chunk sizes, digest,
//     verbose) and the flags several commands take (-n, -m, --print-stats).
//   - config.go: config.json, store-options globs over the whole location,
//     S3 credentials.
//   - stores.go: the store flags and how they combine with the config file
//     (a flag given on the command line wins, in both directions for
//     booleans); a storeSetup is what a command adds (digest, chunk size
//     cap, zstd level, -n); opening stores for reading (router, cache,
//     null chunk) and for writing; stale temporary file cleanup.
//   - backends.go: the store backends the command ships with (URL schemes
//     beyond local paths), each a blank import.
//   - index.go: reading an index argument (file, "-", or an index store
//     URL), streaming a large one, writing one as it is made, --digest
//     checks.
//   - files.go: input ("-" is stdin, cancellable) and output arguments,
//     same-file checks, --print-stats JSON.
//   - seeds.go: --seed and --seed-dir as desync parses them.
//   - idset.go: chunk ID sets from indexes and ID list files (--ignore,
//     --ignore-chunks, --keep-chunks).
//   - progress.go: the progress bar and desync's parsable progress lines.
//   - servers.go: what chunk-server and index-server share (TLS, listen
//     addresses, --authorization, access log); reload_*.go: SIGHUP.
//
// Tests: helpers_test.go holds the helpers the command tests share (run,
// a store fixture, a server started on a free port); app_test.go the tests
// of the command line as a whole; stores_test.go those of store routing,
// failover, the cache, the null chunk, missing and unreachable stores; servers_test.go and
// servers_tls_test.go those of both servers; interop_test.go runs casync
// against us (skipped without casync unless CI is set); hygiene_linux_test.go
// kills writers and checks what they leave behind.
package cli
