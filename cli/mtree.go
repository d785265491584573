package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/folbricht/desync/catar"
)

func (a *app) mtreeCmd() *command {
	var f commonFlags
	var sf storeFlags
	var af archiveFlags
	var index bool
	c := a.newCommand(commandSpec{
		name:    "mtree",
		usage:   "desync mtree [flags] <catar|index|dir>",
		minArgs: 1,
		maxArgs: 1,
		short:   "list an archive, an archive index or a directory in mtree format",
		long: `Prints one mtree line per entry of the archive <catar> ("-" for stdin), of
the archive index <index> with -i (its chunks from -s through -c), or of the
directory <dir> (archived as tar would, with --with/--without), exactly as
casync mtree prints them: the same tree gives the same lines whichever form
it is in.

Example:
  desync mtree docs.catar
  desync mtree -i -s http://192.168.1.1/store -c /var/cache docs.caidx
  desync mtree /path/to/dir`,
	})
	fs := c.FlagSet
	addStoreFlags(fs, &sf, storeFlagsUse{storeHelp: "chunk store to read from (with -i); repeat to add fallbacks", withCache: true})
	f.addConcurrency(fs)
	af.add(fs)
	fs.BoolVar(&index, "i", false, "read an archive index (caidx) and its chunks from the stores, not a catar")
	fs.BoolVar(&index, "index", false, "read an archive index (caidx) and its chunks from the stores, not a catar")
	c.Exec = func(ctx context.Context, args []string) error {
		source := args[0]
		if index && len(sf.stores) == 0 {
			return usageErr("mtree: -i needs a store (-s)")
		}
		var in io.ReadCloser
		if fi, err := os.Stat(source); err == nil && fi.IsDir() && !index {
			feat, err := af.features(false)
			if err != nil {
				return err
			}
			pr, pw := io.Pipe()
			go func() {
				_, err := catar.EncodeTree(ctx, pw, source, catar.EncodeOptions{Features: feat, Logger: a.log})
				pw.CloseWithError(err)
			}()
			in = pr
		} else {
			var err error
			if in, err = a.archiveStream(ctx, source, index, f.concurrency, &sf, nil); err != nil {
				return err
			}
		}
		defer in.Close()
		if err := catar.WriteMtree(a.io.Out, in); err != nil {
			return fmt.Errorf("mtree %s: %w", source, err)
		}
		return nil
	}
	return c
}
