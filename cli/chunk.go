package cli

import (
	"bufio"
	"context"
	"fmt"

	"github.com/folbricht/desync/assemble"
)

func (a *app) chunkCmd() *command {
	var f commonFlags
	c := a.newCommand(commandSpec{
		name:    "chunk",
		usage:   "desync chunk [flags] <file>",
		minArgs: 1,
		maxArgs: 1,
		short:   "list the chunks of a file without storing them",
		long: `Cuts <file> ("-" for stdin) into chunks and prints one line per chunk:
start offset, size and chunk ID, separated by tabs.

Example:
  desync chunk -m 16:64:256 image.raw`,
	})
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
		w := bufio.NewWriterSize(a.io.Out, listingBufferSize)
		for _, c := range ix.Chunks {
			fmt.Fprintf(w, "%d\t%d\t%s\n", c.Start, c.Size, c.ID)
		}
		return w.Flush()
	}
	return c
}
