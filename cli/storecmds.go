package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/folbricht/desync/assemble"
	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// idSet is a set of chunk IDs from indexes and ID list files.
type idSet map[chunk.ID]bool

func (s idSet) addIndex(ix *caindex.Index) {
	for _, c := range ix.Chunks {
		s[c.ID] = true
	}
}

// addList reads a file of chunk IDs, one per line (blank lines and lines
// starting with # are skipped), as list-chunks writes them.
func (s idSet) addList(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, err := chunk.ParseID(line)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
		s[id] = true
	}
	return sc.Err()
}

// readIgnores builds the set of chunks named by --ignore indexes and
// --ignore-chunks files.
func (a *app) readIgnores(ctx context.Context, indexes, lists []string) (idSet, error) {
	ids := idSet{}
	for _, name := range indexes {
		ix, err := a.readIndex(ctx, name)
		if err != nil {
			return nil, err
		}
		ids.addIndex(ix)
	}
	for _, name := range lists {
		if err := ids.addList(name); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func (a *app) chopCmd() *command {
	var f commonFlags
	var sf storeFlags
	var ignore, ignoreChunks multiFlag
	c := a.newCommand("chop", "desync chop -s <store> [flags] <index> <file>",
		"store the chunks of a file, cut where its index says",
		`Reads the chunks of <index> from <file> (the file the index was made from)
at the index's offsets, checks each against its ID, and stores those the
store lacks. Unlike make it does not chunk the file again. Chunks of the
--ignore indexes and in the --ignore-chunks files (one ID per line, as
list-chunks prints them) are left out, e.g. what another store already has.

Example:
  desync chop -s /var/store --ignore old.caibx image.caibx image.raw`, 2, 2)
	fs := c.FlagSet
	addStoreFlags(fs, &sf, "chunk store to write to", false)
	f.addConcurrency(fs)
	f.addStats(fs)
	fs.Var(&ignore, "ignore", "index whose chunks are not stored; repeatable")
	fs.Var(&ignoreChunks, "ignore-chunks", "file of chunk IDs not to store; repeatable")
	c.Exec = func(ctx context.Context, args []string) error {
		ix, err := a.readIndex(ctx, args[0])
		if err != nil {
			return err
		}
		skip, err := a.readIgnores(ctx, ignore, ignoreChunks)
		if err != nil {
			return err
		}
		file, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer file.Close()
		cfg, err := a.config()
		if err != nil {
			return err
		}
		s, err := sf.openWrite(ctx, cfg, a.setup(ix.Digest(), ix.Max, 0, f.concurrency))
		if err != nil {
			return err
		}
		defer s.Close()
		stats, err := assemble.Chop(ctx, ix, file, assemble.ChopOptions{
			Store: s, Concurrency: f.concurrency, Skip: func(id chunk.ID) bool { return skip[id] },
		})
		if err != nil {
			return fmt.Errorf("chop %s: %w", args[1], err)
		}
		if f.printStats {
			return printStats(a.io.Out, stats)
		}
		return nil
	}
	return c
}

func (a *app) cacheCmd() *command {
	var f commonFlags
	var sf storeFlags
	var ignore, ignoreChunks multiFlag
	c := a.newCommand("cache", "desync cache -s <store> -c <cache> [flags] <index>...",
		"copy the chunks of indexes into a cache",
		`Fetches every chunk of the indexes from the stores (-s) into the cache (-c)
without writing any file, e.g. to fill a local cache before going offline.
Chunks the cache already has are not fetched; invalid ones are replaced
(unless -r=false). Chunks of --ignore indexes and --ignore-chunks files are
left out.

Example:
  desync cache -s https://example.com/store -c /var/cache image.caibx`, 1, -1)
	fs := c.FlagSet
	addStoreFlags(fs, &sf, "chunk store to read from; repeat to add fallbacks", true)
	f.addConcurrency(fs)
	f.addStats(fs)
	fs.Var(&ignore, "ignore", "index whose chunks are not cached; repeatable")
	fs.Var(&ignoreChunks, "ignore-chunks", "file of chunk IDs not to cache; repeatable")
	c.Exec = func(ctx context.Context, args []string) error {
		if sf.cache == "" {
			return usageErr("cache: no cache given (-c)")
		}
		skip, err := a.readIgnores(ctx, ignore, ignoreChunks)
		if err != nil {
			return err
		}
		var chunks []caindex.Chunk
		var first *caindex.Index
		for _, name := range args {
			ix, err := a.readIndex(ctx, name)
			if err != nil {
				return err
			}
			if first == nil {
				first = ix
			} else if ix.Digest() != first.Digest() {
				return fmt.Errorf("cache: %s uses %s, %s uses %s", name, ix.Digest(), args[0], first.Digest())
			}
			first.Max = max(first.Max, ix.Max)
			for _, c := range ix.Chunks {
				if !skip[c.ID] {
					skip[c.ID] = true // once across indexes
					chunks = append(chunks, c)
				}
			}
		}
		cfg, err := a.config()
		if err != nil {
			return err
		}
		// Without the index (no NullChunk): the zero chunk is fetched and
		// cached like any other, as desync's cache does.
		s, err := openReadOnly(ctx, &sf, cfg, a.setup(first.Digest(), first.Max, 0, f.concurrency), nil)
		if err != nil {
			return err
		}
		defer s.Close()
		var fetched atomic.Int64
		err = forEach(ctx, chunks, f.concurrency, func(ctx context.Context, c caindex.Chunk) error {
			if _, err := s.GetChunk(ctx, c.ID); err != nil {
				return fmt.Errorf("chunk %s: %w", c.ID, err)
			}
			fetched.Add(1)
			return nil
		})
		if ferr := flushStore(s); err == nil {
			err = ferr
		}
		if err != nil {
			return fmt.Errorf("cache %s: %w", sf.cache, err)
		}
		if f.printStats {
			return printStats(a.io.Out, map[string]int64{"chunks-total": int64(len(chunks)), "chunks-cached": fetched.Load()})
		}
		return nil
	}
	return c
}

// flushStore makes what a store (or the cache in it) holds back durable.
func flushStore(s chunk.Store) error {
	if f, ok := s.(chunk.Flusher); ok {
		return f.Flush(context.Background())
	}
	return nil
}

func (a *app) pruneCmd() *command {
	var sf storeFlags
	var yes bool
	var keepChunks multiFlag
	c := a.newCommand("prune", "desync prune -s <store> [-y] [--keep-chunks <file>] <index>...",
		"delete the chunks no index refers to",
		`Deletes every chunk of the store (-s) that none of the indexes refers to
(and none of the --keep-chunks files lists), after asking for confirmation
unless -y (--yes) is given. Chunks are deleted one at a time: an interrupted prune
leaves every chunk the indexes need in place. Temporary files that writers
which died left behind are deleted too. Do not run it while chunks are
being written to the store.

Example:
  desync prune -s /var/store -y current.caibx previous.caibx`, 0, -1)
	fs := c.FlagSet
	addStoreFlags(fs, &sf, "chunk store to prune", false)
	fs.BoolVar(&yes, "y", false, "do not ask for confirmation")
	fs.BoolVar(&yes, "yes", false, "do not ask for confirmation")
	fs.Var(&keepChunks, "keep-chunks", "file of chunk IDs to keep, one per line; repeatable")
	c.Exec = func(ctx context.Context, args []string) error {
		if len(args) == 0 && len(keepChunks) == 0 {
			return usageErr("prune: no index or --keep-chunks file given; that would delete every chunk")
		}
		keep, err := a.readIgnores(ctx, args, keepChunks)
		if err != nil {
			return err
		}
		cfg, err := a.config()
		if err != nil {
			return err
		}
		s, err := sf.openWrite(ctx, cfg, a.setup(a.digest.d, 0, 0, 1))
		if err != nil {
			return err
		}
		defer s.Close()
		if err := storage.CheckExists(s); err != nil {
			return err
		}
		p, ok := storage.As[chunk.PruneStore](s)
		if !ok {
			return fmt.Errorf("prune: store %s does not support pruning", s)
		}
		if !yes {
			fmt.Fprintf(a.io.Err, "The indexes refer to %d distinct chunks. Delete every other chunk from %s? [y/N]: ", len(keep), s)
			answer, _ := bufio.NewReader(a.io.In).ReadString('\n')
			if a := strings.TrimSpace(answer); a != "y" && a != "Y" && a != "yes" {
				return fmt.Errorf("prune: not confirmed; nothing deleted")
			}
		}
		if err := p.Prune(ctx, func(id chunk.ID) bool { return keep[id] }); err != nil {
			return fmt.Errorf("prune %s: %w", s, err)
		}
		return nil
	}
	return c
}

func (a *app) verifyCmd() *command {
	var f commonFlags
	var sf storeFlags
	var repair bool
	c := a.newCommand("verify", "desync verify -s <store> [-r] [flags]",
		"check every chunk in a store",
		`Reads every chunk of the store (-s), decodes it and checks that its content
hashes to its name. Invalid chunks, and chunk files that are not in the
directory of their first 4 hex digits (which no read finds), are listed on
stderr; with -r they are deleted (a later make, chop or cache writes them
again), and so are the temporary files of writers that died (never those of
a running writer). Exits 1 if invalid or misplaced chunks remain.

Example:
  desync verify -s /var/store -r`, 0, 0)
	fs := c.FlagSet
	addStoreFlags(fs, &sf, "chunk store to verify", false)
	f.addConcurrency(fs)
	fs.BoolVar(&repair, "r", false, "delete invalid chunks")
	fs.BoolVar(&repair, "repair", false, "delete invalid chunks")
	c.Exec = func(ctx context.Context, args []string) error {
		cfg, err := a.config()
		if err != nil {
			return err
		}
		s, err := sf.openWrite(ctx, cfg, a.setup(a.digest.d, 0, 0, f.concurrency))
		if err != nil {
			return err
		}
		defer s.Close()
		if err := storage.CheckExists(s); err != nil {
			return err
		}
		lister, ok := storage.As[storage.Lister](s)
		if !ok {
			return fmt.Errorf("verify: store %s cannot list its chunks", s)
		}
		remover, canRemove := storage.As[storage.Remover](s)
		if repair && !canRemove {
			return fmt.Errorf("verify: store %s cannot delete chunks", s)
		}
		if repair {
			n, err := removeStaleTemps(ctx, s, true)
			if err != nil {
				return fmt.Errorf("verify %s: %w", s, err)
			}
			if n > 0 {
				fmt.Fprintf(a.io.Err, "%d stale temporary files deleted\n", n)
			}
		}
		var ids []chunk.ID
		for id, err := range lister.ListChunks(ctx) {
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			ids = append(ids, id)
		}
		// Chunk files out of place: no read finds them, so they are
		// reported (and deleted with -r) by name.
		var misplaced []string
		ml, canList := storage.As[storage.MisplacedLister](s)
		if canList {
			for name, err := range ml.ListMisplaced(ctx) {
				if err != nil {
					return fmt.Errorf("verify: %w", err)
				}
				misplaced = append(misplaced, name)
			}
		}
		var invalid, removed atomic.Int64
		var errMu sync.Mutex // the workers report invalid chunks one line at a time
		for _, name := range misplaced {
			fmt.Fprintf(a.io.Err, "misplaced chunk file %s in store %s: its directory is not the first 4 digits of its name\n", name, s)
			if repair {
				if err := ml.RemoveMisplaced(ctx, name); err != nil {
					return fmt.Errorf("verify: %w", err)
				}
				removed.Add(1)
			}
		}
		err = forEach(ctx, ids, f.concurrency, func(ctx context.Context, id chunk.ID) error {
			_, err := s.GetChunk(ctx, id)
			if err == nil || !isInvalid(err) {
				return err
			}
			invalid.Add(1)
			errMu.Lock()
			fmt.Fprintf(a.io.Err, "%v\n", err)
			errMu.Unlock()
			if repair {
				if err := remover.RemoveChunk(ctx, id); err != nil {
					return err
				}
				removed.Add(1)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("verify %s: %w", s, err)
		}
		fmt.Fprintf(a.io.Err, "%d chunks checked, %d invalid, %d misplaced, %d deleted\n", len(ids)+len(misplaced), invalid.Load(), len(misplaced), removed.Load())
		if !repair && invalid.Load()+int64(len(misplaced)) > 0 {
			return fmt.Errorf("verify %s: %d invalid chunks, %d misplaced chunk files (delete them with -r)", s, invalid.Load(), len(misplaced))
		}
		return nil
	}
	return c
}

// removeStaleTemps removes the temporary files that writers which died
// left in a local store (storage.Local.RemoveStaleTemps, which never
// touches a live writer's); other stores have none of ours to clean. It
// returns how many it removed.
func removeStaleTemps(ctx context.Context, s chunk.Store, all bool) (int, error) {
	if l, ok := storage.As[*storage.Local](s); ok {
		return l.RemoveStaleTemps(ctx, all)
	}
	return 0, nil
}

// openReadOnly opens the stores of f that a command only reads from (see
// storeFlags.openRead), and fails at once, naming it, for a local store
// that does not exist (storage.CheckExists), rather than for every chunk
// as missing from it.
func openReadOnly(ctx context.Context, f *storeFlags, cfg *config, s storeSetup, ix *caindex.Index) (chunk.Store, error) {
	st, err := f.openRead(ctx, cfg, s, ix)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckExists(st); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func isInvalid(err error) bool {
	var inv *chunk.InvalidError
	return errors.As(err, &inv)
}

func (a *app) configCmd() *command {
	var write bool
	c := a.newCommand("config", "desync config [-w]",
		"show or write the configuration",
		`Prints the configuration in effect: the config file ($HOME/.config/desync/
config.json or --config) with every store's options completed with the
defaults. With -w it writes that to the config file, e.g. to start one.

Example:
  desync --config desync.json config -w`, 0, 0)
	c.FlagSet.BoolVar(&write, "w", false, "write the configuration to the config file")
	c.FlagSet.BoolVar(&write, "write", false, "write the configuration to the config file")
	c.Exec = func(ctx context.Context, args []string) error {
		cfg, err := a.config()
		if write && a.configPath != "" && errors.Is(err, fs.ErrNotExist) {
			cfg, err = &config{path: a.configPath}, nil // -w starts the --config file
		}
		if err != nil {
			return err
		}
		eff, err := cfg.effective()
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(eff, "", "  ")
		if err != nil {
			return err
		}
		b = append(b, '\n')
		if !write {
			_, err = a.io.Out.Write(b)
			return err
		}
		if cfg.path == "" {
			return fmt.Errorf("config: no config file location (set $HOME or use --config)")
		}
		if err := os.MkdirAll(filepath.Dir(cfg.path), 0o755); err != nil {
			return err
		}
		if err := storage.WriteFileAtomic(cfg.path, 0o600, nil, func(f *os.File) error { _, err := f.Write(b); return err }); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		fmt.Fprintf(a.io.Err, "wrote %s\n", cfg.path)
		return nil
	}
	return c
}
