package cli

import (
	"context"
	"fmt"

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
		// Only a local store has temporary files, and it can list and
		// delete chunks, which VerifyStore checks first for any other.
		if repair {
			n, err := removeStaleTemps(ctx, s, sweepEverything)
			if err != nil {
				return fmt.Errorf("verify %s: %w", s, err)
			}
			if n > 0 {
				fmt.Fprintf(a.io.Err, "%d stale temporary files deleted\n", n)
			}
		}
		r, err := storage.VerifyStore(ctx, s, storage.VerifyOptions{
			Concurrency: f.concurrency,
			Repair:      repair,
			Problem:     func(p storage.VerifyProblem) { fmt.Fprintf(a.io.Err, "%v\n", p.Err) },
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(a.io.Err, "%d chunks checked, %d invalid, %d misplaced, %d deleted\n", r.Checked, r.Invalid, r.Misplaced, r.Removed)
		if !repair && r.Invalid+r.Misplaced > 0 {
			return fmt.Errorf("verify %s: %d invalid chunks, %d misplaced chunk files (delete them with -r)", s, r.Invalid, r.Misplaced)
		}
		return nil
	}
	return c
}
