package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/folbricht/desync/assemble"
)

func (a *app) verifyIndexCmd() *command {
	var f commonFlags
	c := a.newCommand(commandSpec{
		name:    "verify-index",
		usage:   "desync verify-index [flags] <index> <file>",
		minArgs: 2,
		maxArgs: 2,
		short:   "check that a file matches an index",
		long: `Hashes every chunk of <file> at the offsets <index> gives and reports the
chunks that differ. Exits 0 when the file matches, 1 otherwise.

Example:
  desync verify-index image.caibx /dev/sda2`,
	})
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
