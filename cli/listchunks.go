package cli

import (
	"bufio"
	"context"
	"fmt"
)

func (a *app) listChunksCmd() *command {
	c := a.newCommand(commandSpec{
		name:    "list-chunks",
		usage:   "desync list-chunks <index>",
		minArgs: 1,
		maxArgs: 1,
		short:   "list the chunk IDs of an index",
		long: `Prints the ID of every chunk in <index> ("-" for stdin), one per line, in
index order (repeated chunks are listed each time).

Example:
  desync list-chunks image.caibx | sort -u | wc -l`,
	})
	c.Exec = func(ctx context.Context, args []string) error {
		ix, err := a.readIndex(ctx, args[0])
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(a.io.Out, listingBufferSize)
		for _, c := range ix.Chunks {
			fmt.Fprintln(w, c.ID)
		}
		return w.Flush()
	}
	return c
}
