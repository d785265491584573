package cli

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

func (a *app) verifyCmd() *command {
	var f commonFlags
	var sf storeFlags
	var repair bool
	c := a.newCommand(commandSpec{
		name:    "verify",
		usage:   "desync verify -s <store> [-r] [flags]",
		minArgs: 0,
		maxArgs: 0,
		short:   "check every chunk in a store",
		long: `Reads every chunk of the store (-s), decodes it and checks that its content
hashes to its name. Invalid chunks, and chunk files that are not in the
directory of their first 4 hex digits (which no read finds), are listed on
stderr; with -r they are deleted (a later make, chop or cache writes them
again), and so are the temporary files of writers that died (never those of
a running writer). Exits 1 if invalid or misplaced chunks remain.

Example:
  desync verify -s /var/store -r`,
	})
	fs := c.FlagSet
	addStoreFlags(fs, &sf, storeFlagsUse{storeHelp: "chunk store to verify"})
	f.addConcurrency(fs)
	fs.BoolVar(&repair, "r", false, "delete invalid chunks")
	fs.BoolVar(&repair, "repair", false, "delete invalid chunks")
	c.Exec = func(ctx context.Context, args []string) error {
		cfg, err := a.config()
		if err != nil {
			return err
		}
		s, err := sf.openWrite(ctx, cfg, a.setup(storeSetup{digest: a.digest.d, concurrency: f.concurrency}))
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
			n, err := removeStaleTemps(ctx, s, sweepEverything)
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

func isInvalid(err error) bool {
	var inv *chunk.InvalidError
	return errors.As(err, &inv)
}
