package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/folbricht/desync/assemble"
)

func (a *app) catCmd() *command {
	var f commonFlags
	var sf storeFlags
	var offset, length int64
	c := a.newCommand(commandSpec{
		name:    "cat",
		usage:   "desync cat -s <store> [flags] <index> [<output>]",
		minArgs: 1,
		maxArgs: 2,
		short:   "stream the content of an index",
		long: `Writes the file <index> describes, or the part of it selected by -o and -l,
to <output> or stdout, in order, fetching chunks ahead in parallel. Unlike
extract it writes to pipes and other outputs that cannot seek.

Example:
  desync cat -s /var/store -o 1048576 -l 512 image.caibx | xxd`,
	})
	fs := c.FlagSet
	addStoreFlags(fs, &sf, storeFlagsUse{storeHelp: "chunk store to read from; repeat to add fallbacks", withCache: true})
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
