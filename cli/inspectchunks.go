package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// chunkInfo is one entry of inspect-chunks' output (desync's keys), also
// read back by info --chunks-info.
type chunkInfo struct {
	ID               chunk.ID `json:"id"`
	UncompressedSize uint64   `json:"uncompressed_size"`
	CompressedSize   int64    `json:"compressed_size,omitempty"`
}

func readChunksInfo(path string) (map[chunk.ID]chunkInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list []chunkInfo
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("chunks info %s: %w", path, err)
	}
	m := make(map[chunk.ID]chunkInfo, len(list))
	for _, ci := range list {
		m[ci.ID] = ci
	}
	return m, nil
}

func (a *app) inspectChunksCmd() *command {
	var sf storeFlags
	c := a.newCommand(commandSpec{
		name:    "inspect-chunks",
		usage:   "desync inspect-chunks [-s <store>] <index> [<output>]",
		minArgs: 1,
		maxArgs: 2,
		short:   "print the chunks of an index as JSON",
		long: `Prints, as JSON, every chunk of <index>: its ID and size and, with a local
compressed store (-s), the size of its chunk file. Writes to <output> or
stdout. info --chunks-info reads the result to estimate download sizes.

Example:
  desync inspect-chunks -s /var/store image.caibx chunks.json`,
	})
	addStoreFlags(c.FlagSet, &sf, storeFlagsUse{storeHelp: "local store to take compressed sizes from"})
	c.Exec = func(ctx context.Context, args []string) error {
		ix, err := a.readIndex(ctx, args[0])
		if err != nil {
			return err
		}
		var local *storage.Local
		if len(sf.stores) > 0 {
			if len(sf.stores) > 1 {
				return usageErr("inspect-chunks: one store (-s), not %d", len(sf.stores))
			}
			s, err := a.openRead(ctx, &sf, ix, 1)
			if err != nil {
				return err
			}
			defer s.Close()
			l, ok := storage.As[*storage.Local](s)
			if !ok {
				return fmt.Errorf("inspect-chunks: %s is not a local store", sf.stores[0])
			}
			if !l.Uncompressed() {
				local = l
			}
		}
		list := make([]chunkInfo, len(ix.Chunks))
		for i, c := range ix.Chunks {
			list[i] = chunkInfo{ID: c.ID, UncompressedSize: c.Size}
			if local != nil {
				fi, err := os.Stat(local.Path(c.ID))
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
				if err == nil {
					list[i].CompressedSize = fi.Size()
				}
			}
		}
		return writeOutput(args, 1, func(w io.Writer) error { return printStats(w, list) }, a.io.Out)
	}
	return c
}
