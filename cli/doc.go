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
// Where things live:
//   - app.go: Run, help and usage errors (help on stdout; a usage error is
//     one line naming the flag as typed and a pointer to --help).
//   - flags.go: shared flag types (list, count, chunk sizes, digest,
//     verbose).
//   - config.go: config.json, store-options globs over the whole location,
//     S3 credentials.
//   - stores.go: the store flags and how they combine with the config file
//     (a flag given on the command line wins, in both directions for
//     booleans), opening stores for reading and writing.
//   - commands.go, storecmds.go, info.go: the commands; seeds.go: --seed
//     and --seed-dir as desync parses them; servers.go: chunk-server and
//     index-server.
package cli
