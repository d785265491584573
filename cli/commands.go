package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/folbricht/desync/assemble"
	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/peterbourgon/ff/v3/ffcli"
)

func commands(io Stdio) []*command {
	return []*command{
		makeCmd(io), extractCmd(io), chunkCmd(io), listChunksCmd(io), infoCmd(io), verifyIndexCmd(io),
	}
}

func newCommand(name, usage, short, long string, minArgs, maxArgs int) *command {
	return &command{
		Command: &ffcli.Command{
			Name:       name,
			ShortUsage: usage,
			ShortHelp:  short,
			LongHelp:   long,
			FlagSet:    flag.NewFlagSet("desync "+name, flag.ContinueOnError),
		},
		minArgs: minArgs,
		maxArgs: maxArgs,
	}
}

// openStore opens the single local chunk store of a command. Chunks are
// verified with digest, capped at maxChunk bytes and written at the given
// zstd level (0: the default).
func openStore(locations []string, digest chunk.Digest, maxChunk uint64, level int) (*storage.Local, error) {
	switch {
	case len(locations) == 0:
		return nil, usageErr("no store given (-s)")
	case len(locations) > 1:
		return nil, usageErr("%d stores given; this release reads from one store (-s)", len(locations))
	}
	loc := locations[0]
	if i := strings.Index(loc, "://"); i > 0 || strings.Contains(loc, "|") {
		return nil, fmt.Errorf("store %s: unsupported location; this release supports local directories", loc)
	}
	return storage.NewLocal(loc, storage.LocalOptions{Digest: digest, MaxChunkSize: int(maxChunk), CompressionLevel: level})
}

// readIndex reads an index file argument; "-" is stdin.
func readIndex(name string, stdin io.Reader) (*caindex.Index, error) {
	if name == "-" {
		ix, err := caindex.Read(stdin)
		if err != nil {
			return nil, fmt.Errorf("index from stdin: %w", err)
		}
		return ix, nil
	}
	return caindex.ReadFile(name)
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

func makeCmd(io Stdio) *command {
	var f commonFlags
	c := newCommand("make", "desync make [flags] <index> <file>",
		"cut a file into chunks, store them and write its index",
		`Reads <file> ("-" for stdin) once, cuts it into content-defined chunks,
writes the chunks the store does not have yet into the store (-s; without
one only the index is made) and writes the index to <index> ("-" for
stdout). The index is byte-identical to casync make's with the same chunk
sizes and digest.

Example:
  desync make -s /var/store -m 16:64:256 image.caibx image.raw`, 2, 2)
	fs := c.FlagSet
	f.addStores(fs, "chunk store to write to (a directory)")
	f.addChunkSize(fs)
	f.addConcurrency(fs)
	f.addDigest(fs)
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
		if len(f.stores) > 0 {
			s, err := openStore(f.stores, f.digest.d, f.params.p.Max, level)
			if err != nil {
				return err
			}
			defer s.Close() // flushes chunks a failed or interrupted make left pending
			store = s
		}
		in, err := openInput(ctx, inputPath, io.In)
		if err != nil {
			return err
		}
		defer in.Close()
		ix, stats, err := assemble.Make(ctx, in, assemble.MakeOptions{
			Params: f.params.p, Digest: f.digest.d, Store: store, Concurrency: f.concurrency,
		})
		if err != nil {
			return fmt.Errorf("make %s: %w", inputPath, err)
		}
		statsOut := io.Out
		if indexPath == "-" {
			statsOut = io.Err
			if _, err := ix.WriteTo(io.Out); err != nil {
				return err
			}
		} else if err := storage.NewLocalIndex(filepath.Dir(indexPath)).StoreIndex(ctx, filepath.Base(indexPath), ix); err != nil {
			return err
		}
		if f.printStats {
			return printStats(statsOut, stats)
		}
		return nil
	}
	return c
}

func extractCmd(io Stdio) *command {
	var f commonFlags
	c := newCommand("extract", "desync extract -s <store> [flags] <index> <output>",
		"rebuild a file from its index and a chunk store",
		`Reads <index> ("-" for stdin) and writes the file it describes to <output>
("-" for stdout), fetching chunks from the store in parallel. Every chunk is
verified against its ID. The file is written to a temporary file next to
<output> and renamed into place only when complete; on failure <output> is
left as it was. All-zero chunks become holes.

Example:
  desync extract -s /var/store image.caibx image.raw`, 2, 2)
	fs := c.FlagSet
	f.addStores(fs, "chunk store to read from (a directory)")
	f.addConcurrency(fs)
	f.addStats(fs)
	c.Exec = func(ctx context.Context, args []string) error {
		indexPath, outPath := args[0], args[1]
		if samePath(indexPath, outPath) {
			return usageErr("extract: the output %s is the index", outPath)
		}
		ix, err := readIndex(indexPath, io.In)
		if err != nil {
			return err
		}
		store, err := openStore(f.stores, ix.Digest(), ix.Max, 0)
		if err != nil {
			return err
		}
		defer store.Close()
		o := assemble.ExtractOptions{Store: store, Concurrency: f.concurrency}
		var stats assemble.ExtractStats
		statsOut := io.Out
		if outPath == "-" {
			statsOut = io.Err
			stats, err = assemble.ExtractWriter(ctx, ix, io.Out, o)
		} else {
			stats, err = assemble.ExtractFile(ctx, ix, outPath, o)
		}
		if err != nil {
			return fmt.Errorf("extract %s: %w", outPath, err)
		}
		if f.printStats {
			return printStats(statsOut, stats)
		}
		return nil
	}
	return c
}

func chunkCmd(io Stdio) *command {
	var f commonFlags
	c := newCommand("chunk", "desync chunk [flags] <file>",
		"list the chunks of a file without storing them",
		`Cuts <file> ("-" for stdin) into chunks and prints one line per chunk:
start offset, size and chunk ID, separated by tabs.

Example:
  desync chunk -m 16:64:256 image.raw`, 1, 1)
	fs := c.FlagSet
	f.addChunkSize(fs)
	f.addConcurrency(fs)
	f.addDigest(fs)
	c.Exec = func(ctx context.Context, args []string) error {
		in, err := openInput(ctx, args[0], io.In)
		if err != nil {
			return err
		}
		defer in.Close()
		ix, _, err := assemble.Make(ctx, in, assemble.MakeOptions{Params: f.params.p, Digest: f.digest.d, Concurrency: f.concurrency})
		if err != nil {
			return fmt.Errorf("chunk %s: %w", args[0], err)
		}
		w := bufio.NewWriterSize(io.Out, 64<<10)
		for _, c := range ix.Chunks {
			fmt.Fprintf(w, "%d\t%d\t%s\n", c.Start, c.Size, c.ID)
		}
		return w.Flush()
	}
	return c
}

func listChunksCmd(io Stdio) *command {
	c := newCommand("list-chunks", "desync list-chunks <index>",
		"list the chunk IDs of an index",
		`Prints the ID of every chunk in <index> ("-" for stdin), one per line, in
index order (repeated chunks are listed each time).

Example:
  desync list-chunks image.caibx | sort -u | wc -l`, 1, 1)
	c.Exec = func(ctx context.Context, args []string) error {
		ix, err := readIndex(args[0], io.In)
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(io.Out, 64<<10)
		for _, c := range ix.Chunks {
			fmt.Fprintln(w, c.ID)
		}
		return w.Flush()
	}
	return c
}

// indexInfo is info's output, with desync's JSON keys.
type indexInfo struct {
	Total     int    `json:"total"`
	Unique    int    `json:"unique"`
	InStore   *int   `json:"in-store,omitempty"`
	Size      uint64 `json:"size"`
	DedupSize uint64 `json:"dedup-size"`
	Min       uint64 `json:"chunk-size-min"`
	Avg       uint64 `json:"chunk-size-avg"`
	Max       uint64 `json:"chunk-size-max"`
	Digest    string `json:"digest"`
	Flags     string `json:"feature-flags"`
}

func infoCmd(io Stdio) *command {
	var f commonFlags
	c := newCommand("info", "desync info [-s <store>] <index>",
		"show information about an index",
		`Prints, as JSON, the number of chunks in <index> ("-" for stdin), how many
are distinct, the size of the file and of its distinct chunks, the chunk
sizes, and, with -s, how many distinct chunks the store holds.

Example:
  desync info -s /var/store image.caibx`, 1, 1)
	f.addStores(c.FlagSet, "chunk store to count chunks in")
	c.Exec = func(ctx context.Context, args []string) error {
		ix, err := readIndex(args[0], io.In)
		if err != nil {
			return err
		}
		info := indexInfo{Total: len(ix.Chunks), Size: ix.Size(), Min: ix.Min, Avg: ix.Avg, Max: ix.Max,
			Digest: ix.Digest().String(), Flags: fmt.Sprintf("%#x", ix.Flags)}
		seen := map[chunk.ID]bool{}
		for _, c := range ix.Chunks {
			if !seen[c.ID] {
				seen[c.ID] = true
				info.DedupSize += c.Size
			}
		}
		info.Unique = len(seen)
		if len(f.stores) > 0 {
			s, err := openStore(f.stores, ix.Digest(), ix.Max, 0)
			if err != nil {
				return err
			}
			defer s.Close()
			n := 0
			for id := range seen {
				ok, err := s.HasChunk(ctx, id)
				if err != nil {
					return err
				}
				if ok {
					n++
				}
			}
			info.InStore = &n
		}
		return printStats(io.Out, info)
	}
	return c
}

func verifyIndexCmd(io Stdio) *command {
	var f commonFlags
	c := newCommand("verify-index", "desync verify-index [flags] <index> <file>",
		"check that a file matches an index",
		`Hashes every chunk of <file> at the offsets <index> gives and reports the
chunks that differ. Exits 0 when the file matches, 1 otherwise.

Example:
  desync verify-index image.caibx /dev/sda2`, 2, 2)
	f.addConcurrency(c.FlagSet)
	c.Exec = func(ctx context.Context, args []string) error {
		ix, err := readIndex(args[0], io.In)
		if err != nil {
			return err
		}
		file, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer file.Close()
		size, err := file.Seek(0, 2)
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
