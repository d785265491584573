package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/folbricht/desync/assemble"
	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/peterbourgon/ff/v3/ffcli"
)

// app is one run of the command line: its streams, the config file and
// the logger that store warnings (retries, failovers, repairs) go to.
type app struct {
	io         Stdio
	configPath string     // --config
	digest     digestFlag // --digest, on every command
	cfg        *config
	log        *slog.Logger
	logLevel   slog.LevelVar // --verbose lowers it to debug
}

// addVerbose registers --verbose, a global flag of the original desync.
func (a *app) addVerbose(fs *flag.FlagSet) {
	fs.Var(verboseFlag{&a.logLevel}, "verbose", "verbose mode: debug messages on stderr")
}

func commands(a *app) []*command {
	return []*command{
		a.makeCmd(), a.extractCmd(), a.catCmd(), a.chopCmd(), a.cacheCmd(), a.pruneCmd(), a.verifyCmd(),
		a.infoCmd(), a.listChunksCmd(), a.inspectChunksCmd(), a.chunkCmd(), a.verifyIndexCmd(), a.configCmd(),
		a.chunkServerCmd(), a.indexServerCmd(),
	}
}

func (a *app) newCommand(name, usage, short, long string, minArgs, maxArgs int) *command {
	fs := flag.NewFlagSet("desync "+name, flag.ContinueOnError)
	fs.StringVar(&a.configPath, "config", "", "config file (default $HOME/.config/desync/config.json)")
	a.digest.add(fs)
	a.addVerbose(fs)
	return &command{
		Command: &ffcli.Command{
			Name:       name,
			ShortUsage: usage,
			ShortHelp:  short,
			LongHelp:   long,
			FlagSet:    fs,
		},
		minArgs: minArgs,
		maxArgs: maxArgs,
	}
}

// config loads the config file on first use.
func (a *app) config() (*config, error) {
	if a.cfg == nil {
		cfg, err := loadConfig(a.configPath)
		if err != nil {
			return nil, err
		}
		a.cfg = cfg
	}
	return a.cfg, nil
}

// readIndex reads an index argument: a file, "-" for stdin, or the
// location of an index in an index store (https://host/dir/x.caibx).
func (a *app) readIndex(ctx context.Context, name string) (*caindex.Index, error) {
	var ix *caindex.Index
	var err error
	if name == "-" {
		if ix, err = caindex.Read(a.io.In); err != nil {
			return nil, fmt.Errorf("index from stdin: %w", err)
		}
	} else {
		_, _, o, err := a.indexLocation(name)
		if err != nil {
			return nil, err
		}
		if ix, err = storage.ReadIndex(ctx, name, o); err != nil {
			return nil, err
		}
	}
	if err := a.checkDigest(name, ix); err != nil {
		return nil, err
	}
	return ix, nil
}

// checkDigest refuses an index whose digest is not the one --digest names,
// when it was given: its chunks could not be found or verified.
func (a *app) checkDigest(name string, ix *caindex.Index) error {
	if !a.digest.set || ix.Digest() == a.digest.d {
		return nil
	}
	if name == "-" {
		name = "from stdin"
	}
	return usageErr("index %s uses the digest %s, but --digest %s was given", name, ix.Digest(), a.digest.d)
}

// writeIndex stores the index that write writes at location: a file
// (atomically, as it is written) or an index store location
// (https://host/dir/x.caibx).
func (a *app) writeIndex(ctx context.Context, location string, write func(io.Writer) error) error {
	dir, name, o, err := a.indexLocation(location)
	if err != nil {
		return err
	}
	s, err := storage.OpenIndexStore(ctx, dir, o)
	if err != nil {
		return err
	}
	defer s.Close()
	w, ok := s.(storage.IndexStreamStore)
	if !ok {
		return fmt.Errorf("index store %s does not accept indexes", dir)
	}
	return w.WriteIndex(ctx, name, write)
}

// indexLocation splits the location of an index into its index store and
// name, and returns the store's options from the config file.
func (a *app) indexLocation(location string) (dir, name string, o storage.Options, err error) {
	cfg, err := a.config()
	if err != nil {
		return "", "", o, err
	}
	if dir, name, err = storage.SplitIndexLocation(location); err != nil {
		return "", "", o, err
	}
	if o, err = cfg.storeOptions(dir); err != nil {
		return "", "", o, err
	}
	o.Logger = a.log
	return dir, name, o, nil
}

// streamIndex opens the index at location to be read a chunk at a time,
// where it can be: a regular local file as it is; a remote index (from an
// index store that can copy it) downloaded first to a temporary file in
// tmpDir, removed by done. For a pipe, stdin or another index store it
// returns a nil reader: read the index whole. A pipe is read whole because
// the progress total is read from the file's end. name is what errors
// call the index.
func (a *app) streamIndex(ctx context.Context, location, tmpDir string) (r *caindex.Reader, name string, done func(), err error) {
	if location == "-" {
		return nil, "", nil, nil
	}
	if p, local := storage.LocalPath(location); local {
		if !isRegular(p) {
			return nil, "", nil, nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, "", nil, err
		}
		if r, err = caindex.NewReader(f); err != nil {
			f.Close()
			return nil, "", nil, indexFileErr(p, err)
		}
		if err := a.checkDigest(location, r.Header()); err != nil {
			f.Close()
			return nil, "", nil, err
		}
		return r, p, func() { f.Close() }, nil
	}
	dir, name, o, err := a.indexLocation(location)
	if err != nil {
		return nil, "", nil, err
	}
	s, err := storage.OpenIndexStore(ctx, dir, o)
	if err != nil {
		return nil, "", nil, err
	}
	defer s.Close()
	cs, ok := s.(storage.IndexCopyStore)
	if !ok {
		return nil, "", nil, nil
	}
	f, err := os.CreateTemp(tmpDir, ".desync-index.*.tmp")
	if err != nil {
		return nil, "", nil, err
	}
	done = func() {
		f.Close()
		os.Remove(f.Name())
	}
	if err = cs.CopyIndex(ctx, name, f); err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err == nil {
		r, err = caindex.NewReader(f)
	}
	if err != nil {
		done()
		return nil, "", nil, indexFileErr(name, err)
	}
	if err := a.checkDigest(location, r.Header()); err != nil {
		done()
		return nil, "", nil, err
	}
	return r, name, done, nil
}

// indexFileErr names the index file in a format error of an index read as
// a stream, as caindex.ReadFile does.
func indexFileErr(path string, err error) error {
	var fe *caindex.FormatError
	if errors.As(err, &fe) && fe.Path == "" {
		fe.Path = path
	}
	return err
}

// isRegular reports whether path is a regular file.
func isRegular(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// samePath reports whether two path arguments name the same file.
func samePath(a, b string) bool {
	if a == "-" || b == "-" {
		return false
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb)
	}
	pa, _ := filepath.Abs(a)
	pb, _ := filepath.Abs(b)
	return pa == pb
}

// printStats writes v as indented JSON.
func printStats(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (a *app) makeCmd() *command {
	var f commonFlags
	var sf storeFlags
	c := a.newCommand("make", "desync make [flags] <index> <file>",
		"cut a file into chunks, store them and write its index",
		`Reads <file> ("-" for stdin) once, cuts it into content-defined chunks,
writes the chunks the store does not have yet into the store (-s; without
one only the index is made) and writes the index to <index> ("-" for
stdout, or an index store URL). The index is byte-identical to casync make's with the same chunk
sizes and digest.

Example:
  desync make -s /var/store -m 16:64:256 image.caibx image.raw`, 2, 2)
	fs := c.FlagSet
	addStoreFlags(fs, &sf, "chunk store to write to", false)
	f.addChunkSize(fs)
	f.addConcurrency(fs)
	f.addStats(fs)
	level := chunk.DefaultLevel
	fs.IntVar(&level, "compression-level", level, "zstd level of stored chunks, 1-22 (casync uses 3; the index is the same)")
	c.Exec = func(ctx context.Context, args []string) error {
		indexPath, inputPath := args[0], args[1]
		if level < 1 || level > 22 {
			return usageErr("make: --compression-level %d out of range 1-22", level)
		}
		if samePath(indexPath, inputPath) {
			return usageErr("make: the index %s is the input file", indexPath)
		}
		var store chunk.WriteStore
		if len(sf.stores) > 0 {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			s, err := sf.openWrite(ctx, cfg, a.setup(a.digest.d, f.params.p.Max, level, f.concurrency))
			if err != nil {
				return err
			}
			defer s.Close() // flushes chunks a failed or interrupted make left pending
			store = s
			// What a make that was killed left in the store goes now;
			// the files of a make still running stay.
			if n, err := removeStaleTemps(ctx, s, false); err != nil {
				a.log.Warn("make: removing stale temporary files failed", "store", s, "error", err)
			} else if n > 0 {
				a.log.Info("make: removed stale temporary files", "store", s, "count", n)
			}
		}
		in, err := openInput(ctx, inputPath, a.io.In)
		if err != nil {
			return err
		}
		defer in.Close()
		// The index is written as it is made, so memory does not grow
		// with the input.
		var stats assemble.MakeStats
		makeTo := func(w io.Writer) (err error) {
			_, stats, err = assemble.Make(ctx, in, assemble.MakeOptions{
				Params: f.params.p, Digest: a.digest.d, Store: store, Concurrency: f.concurrency,
				IndexTo: w, CountUnique: f.printStats,
			})
			if err != nil {
				return fmt.Errorf("make %s: %w", inputPath, err)
			}
			return nil
		}
		statsOut := a.io.Out
		if indexPath == "-" {
			statsOut = a.io.Err
			err = makeTo(a.io.Out)
		} else {
			err = a.writeIndex(ctx, indexPath, makeTo)
		}
		if err != nil {
			return err
		}
		if f.printStats {
			return printStats(statsOut, stats)
		}
		return nil
	}
	return c
}

// setup describes the stores a command opens.
func (a *app) setup(d chunk.Digest, maxChunk uint64, level, n int) storeSetup {
	return storeSetup{digest: d, maxChunk: maxChunk, level: level, n: n, log: a.log}
}

// openRead reads the config and opens the stores of sf for reading the
// chunks of ix.
func (a *app) openRead(ctx context.Context, sf *storeFlags, ix *caindex.Index, n int) (chunk.Store, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	return openReadOnly(ctx, sf, cfg, a.setup(ix.Digest(), ix.Max, 0, n), ix)
}

func (a *app) extractCmd() *command {
	var f commonFlags
	var sf storeFlags
	var seeds seedFlags
	var inPlace, noReflink, noSync bool
	c := a.newCommand("extract", "desync extract -s <store> [flags] <index> <output>",
		"rebuild a file from its index, seeds and chunk stores",
		`Reads <index> ("-" for stdin, or an index store URL) and writes the file it
describes to <output> ("-" for stdout). Chunks come, in this order of
preference, from the output itself (with -k, chunks already at their
offset stay), from seeds (--seed, --seed-dir: the longest runs of chunks
a seed holds in order, cloned on Btrfs/XFS where aligned, else copied),
and from the stores (-s, tried in order; "a|b" is a failover group)
through the cache (-c). All-zero chunks become holes. Every chunk is
verified against its ID, seed data as it is read.

A seed is an index X.caibx whose data is the file X; INDEX:DATA, an index
and its data (a third ':' field is for options, of which there are none
yet: they are ignored with a warning); or any other file or block device
(an earlier version, the other partition of an A/B pair), which is
chunked on the fly with the index's chunk sizes. --seed-dir takes every
*.caibx under a directory whose data is next to it, and skips, with a
warning, those whose data is missing. A seed whose data no longer matches
its index fails the extraction, naming it, when a chunk is taken from
where it differs: --skip-invalid-seeds takes those chunks from the store
instead; --regenerate-invalid-seeds checks the seeds first and rebuilds
the index of one that does not match from its data, in memory (no file
is written).

Without -k the file is written to a temporary file next to <output> and
renamed into place only when complete; on failure <output> is left as it
was. With -k (a block device needs it) the output is updated in place,
which is faster for small updates but not atomic. Either way the output is
synced to disk before extract returns; --no-sync skips that (as casync and
desync do), for outputs that will be synced later or can be made again.

Example:
  desync extract -s /var/store -c /var/cache image.caibx image.raw
  desync extract -s https://example.com/store --seed image-v1.caibx image-v2.caibx image.raw
  desync extract -s /var/store --seed /tmp/v1.caibx:/mnt/v1.img v2.caibx v2.img
  desync extract -k -s /var/store --seed /dev/sda2 rootfs-v2.caibx /dev/sda3`, 2, 2)
	fs := c.FlagSet
	addStoreFlags(fs, &sf, "chunk store to read from; repeat to add fallbacks", true)
	seeds.add(fs, true)
	fs.BoolVar(&inPlace, "k", false, "extract in place: update the existing output, keeping chunks already at their offset")
	fs.BoolVar(&inPlace, "in-place", false, "extract in place: update the existing output, keeping chunks already at their offset")
	fs.BoolVar(&noReflink, "no-reflink", false, "copy seed data even where the file system could clone it")
	fs.BoolVar(&noSync, "no-sync", false, "do not wait for the output to reach the disk (faster; not crash-safe)")
	f.addConcurrency(fs)
	f.addStats(fs)
	c.Exec = func(ctx context.Context, args []string) error {
		indexPath, outPath := args[0], args[1]
		if samePath(indexPath, outPath) {
			return usageErr("extract: the output %s is the index", outPath)
		}
		action, err := seeds.action()
		if err != nil {
			return err
		}
		if outPath == "-" && inPlace {
			return usageErr("extract: -k needs an output file or device, not stdout")
		}
		seedList, err := seeds.load(indexPath, a.log.Warn)
		if err != nil {
			return err
		}
		// The index is read as the extraction goes, unless seeds or -k
		// need all of it: memory then stays the same for any index.
		var ix *caindex.Index
		var stream *caindex.Reader
		var streamName string
		if len(seedList) == 0 && !inPlace && outPath != "-" {
			var done func()
			stream, streamName, done, err = a.streamIndex(ctx, indexPath, filepath.Dir(outPath))
			if err != nil {
				return err
			}
			if stream != nil {
				defer done()
				ix = stream.Header()
			}
		}
		if ix == nil {
			if ix, err = a.readIndex(ctx, indexPath); err != nil {
				return err
			}
		}
		store, err := a.openRead(ctx, &sf, ix, f.concurrency)
		if err != nil {
			return err
		}
		defer store.Close()
		o := assemble.ExtractOptions{Store: store, Concurrency: f.concurrency, Seeds: seedList,
			InvalidSeeds: action, InPlace: inPlace, NoReflink: noReflink, NoSync: noSync}
		var stats assemble.ExtractStats
		statsOut := a.io.Out
		if outPath == "-" {
			statsOut = a.io.Err
			stats, err = assemble.ExtractWriter(ctx, ix, a.io.Out, o)
		} else {
			p := &phases{w: a.io.Err}
			o.Progress = p
			if stream != nil {
				stats, err = assemble.ExtractStream(ctx, stream, outPath, o)
				err = indexFileErr(streamName, err)
			} else {
				stats, err = assemble.ExtractFile(ctx, ix, outPath, o)
			}
			p.Finish()
		}
		if err != nil {
			return fmt.Errorf("extract %s: %w", outPath, err)
		}
		for _, s := range stats.RegeneratedSeeds {
			a.log.Warn("seed does not match its index; used with an index rebuilt in memory from its data (no file changed)", "seed", s)
		}
		for _, s := range stats.InvalidSeeds {
			a.log.Warn("seed does not match its index; its chunks came from the store", "seed", s)
		}
		if f.printStats {
			return printStats(statsOut, stats)
		}
		return nil
	}
	return c
}

func (a *app) chunkCmd() *command {
	var f commonFlags
	c := a.newCommand("chunk", "desync chunk [flags] <file>",
		"list the chunks of a file without storing them",
		`Cuts <file> ("-" for stdin) into chunks and prints one line per chunk:
start offset, size and chunk ID, separated by tabs.

Example:
  desync chunk -m 16:64:256 image.raw`, 1, 1)
	fs := c.FlagSet
	f.addChunkSize(fs)
	f.addConcurrency(fs)
	c.Exec = func(ctx context.Context, args []string) error {
		in, err := openInput(ctx, args[0], a.io.In)
		if err != nil {
			return err
		}
		defer in.Close()
		ix, _, err := assemble.Make(ctx, in, assemble.MakeOptions{Params: f.params.p, Digest: a.digest.d, Concurrency: f.concurrency})
		if err != nil {
			return fmt.Errorf("chunk %s: %w", args[0], err)
		}
		w := bufio.NewWriterSize(a.io.Out, 64<<10)
		for _, c := range ix.Chunks {
			fmt.Fprintf(w, "%d\t%d\t%s\n", c.Start, c.Size, c.ID)
		}
		return w.Flush()
	}
	return c
}

func (a *app) listChunksCmd() *command {
	c := a.newCommand("list-chunks", "desync list-chunks <index>",
		"list the chunk IDs of an index",
		`Prints the ID of every chunk in <index> ("-" for stdin), one per line, in
index order (repeated chunks are listed each time).

Example:
  desync list-chunks image.caibx | sort -u | wc -l`, 1, 1)
	c.Exec = func(ctx context.Context, args []string) error {
		ix, err := a.readIndex(ctx, args[0])
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(a.io.Out, 64<<10)
		for _, c := range ix.Chunks {
			fmt.Fprintln(w, c.ID)
		}
		return w.Flush()
	}
	return c
}

func (a *app) verifyIndexCmd() *command {
	var f commonFlags
	c := a.newCommand("verify-index", "desync verify-index [flags] <index> <file>",
		"check that a file matches an index",
		`Hashes every chunk of <file> at the offsets <index> gives and reports the
chunks that differ. Exits 0 when the file matches, 1 otherwise.

Example:
  desync verify-index image.caibx /dev/sda2`, 2, 2)
	f.addConcurrency(c.FlagSet)
	c.Exec = func(ctx context.Context, args []string) error {
		ix, err := a.readIndex(ctx, args[0])
		if err != nil {
			return err
		}
		file, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer file.Close()
		size, err := file.Seek(0, io.SeekEnd)
		if err != nil {
			return err
		}
		if err := assemble.VerifyIndex(ctx, ix, file, size, f.concurrency); err != nil {
			return fmt.Errorf("%s: %w", args[1], err)
		}
		return nil
	}
	return c
}

func (a *app) catCmd() *command {
	var f commonFlags
	var sf storeFlags
	var offset, length int64
	c := a.newCommand("cat", "desync cat -s <store> [flags] <index> [<output>]",
		"stream the content of an index",
		`Writes the file <index> describes, or the part of it selected by -o and -l,
to <output> or stdout, in order, fetching chunks ahead in parallel. Unlike
extract it writes to pipes and other outputs that cannot seek.

Example:
  desync cat -s /var/store -o 1048576 -l 512 image.caibx | xxd`, 1, 2)
	fs := c.FlagSet
	addStoreFlags(fs, &sf, "chunk store to read from; repeat to add fallbacks", true)
	f.addConcurrency(fs)
	fs.Int64Var(&offset, "o", 0, "offset in bytes to start at")
	fs.Int64Var(&offset, "offset", 0, "offset in bytes to start at")
	fs.Int64Var(&length, "l", 0, "number of bytes to write (0: to the end)")
	fs.Int64Var(&length, "length", 0, "number of bytes to write (0: to the end)")
	c.Exec = func(ctx context.Context, args []string) error {
		if offset < 0 || length < 0 {
			return usageErr("cat: negative offset or length")
		}
		if len(args) == 2 && samePath(args[0], args[1]) {
			return usageErr("cat: the output %s is the index", args[1])
		}
		ix, err := a.readIndex(ctx, args[0])
		if err != nil {
			return err
		}
		if size := int64(ix.Size()); offset > size || (length > 0 && offset+length > size) {
			return usageErr("cat: range %d+%d is beyond the end of the file (%d bytes)", offset, length, size)
		}
		s, err := a.openRead(ctx, &sf, ix, f.concurrency)
		if err != nil {
			return err
		}
		defer s.Close()
		r := assemble.NewReader(ctx, ix, assemble.ReaderOptions{Store: s, Concurrency: f.concurrency})
		defer r.Close()
		if _, err := r.Seek(offset, io.SeekStart); err != nil {
			return err
		}
		return writeOutput(args, 1, func(w io.Writer) error {
			var err error
			if length > 0 {
				_, err = io.CopyN(w, r, length)
			} else {
				_, err = io.Copy(w, r)
			}
			if err != nil {
				return fmt.Errorf("cat %s: %w", args[0], err)
			}
			return nil
		}, a.io.Out)
	}
	return c
}
