package cli

import (
	"bufio"
	"context"
	"fmt"
)

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
