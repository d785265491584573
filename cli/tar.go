package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/folbricht/desync/assemble"
	"github.com/folbricht/desync/catar"
	"github.com/folbricht/desync/chunk"
)

// archiveFlags are the feature options of an archive made by tar, under
// casync's names.
type archiveFlags struct {
	with, without multiFlag
	noTime        bool
}

func (f *archiveFlags) add(fs *flag.FlagSet) {
	names := strings.Join(catar.FeatureNames(), ", ")
	fs.Var(&f.with, "with", "archive only this metadata (casync's --with; repeatable, replaces the default of everything): "+names)
	fs.Var(&f.without, "without", "leave this metadata out of the archive (casync's --without; repeatable)")
	fs.BoolVar(&f.noTime, "no-time", false, "archive no timestamps (every mtime is 0)")
}

// features computes the archive's feature flags; sha256 is --digest sha256.
func (f *archiveFlags) features(sha256 bool) (catar.Features, error) {
	o := catar.FeatureOptions{With: f.with, Without: f.without, SHA256: sha256}
	if f.noTime {
		o.Without = append(o.Without, "sec-time", "usec-time", "nsec-time", "2sec-time")
	}
	feat, err := o.Features()
	if err != nil {
		return 0, usageErr("tar: %v", err)
	}
	return feat, nil
}

func (a *app) tarCmd() *command {
	var f commonFlags
	var sf storeFlags
	var af archiveFlags
	var index, oneFS, addRoot bool
	inputFormat := "disk"
	c := a.newCommand(commandSpec{
		name:    "tar",
		usage:   "desync tar [flags] <catar|index> <source>",
		minArgs: 2,
		maxArgs: 2,
		short:   "archive a directory tree as a catar, or as a caidx and its chunks",
		long: `Encodes the directory <source> into a catar archive written to <catar>, or
with -i into an archive index (caidx) written to <index>, its chunks stored
in -s; "-" writes to stdout. The archive is byte-identical to casync make's:
by default it holds everything casync archives (owners and user names,
permissions, nanosecond times, symlinks, devices, fifos, sockets, xattrs,
ACLs, file capabilities, chattr flags), entries with chattr +d and the
patterns of .caexclude files are left out; --with and --without choose as
casync's do. With -i the archive is never written to disk: it is cut into
chunks as it is made.

With --input-format tar, <source> is a tar archive (GNU or PAX; "-" for
stdin) whose entries are archived instead of a directory; --tar-add-root
puts them under a common root directory.

Example:
  desync tar documents.catar $HOME/Documents
  desync tar -i -s /var/store pics.caidx $HOME/Pictures
  tar -C dir -c . | desync tar --input-format tar -i -s /var/store dir.caidx -`,
	})
	fs := c.FlagSet
	addStoreFlags(fs, &sf, storeFlagsUse{storeHelp: "chunk store to write to (with -i)"})
	f.addChunkSize(fs)
	f.addConcurrency(fs)
	f.addStats(fs)
	af.add(fs)
	fs.BoolVar(&index, "i", false, "write an archive index (caidx) and store the chunks, not a catar")
	fs.BoolVar(&index, "index", false, "write an archive index (caidx) and store the chunks, not a catar")
	fs.StringVar(&inputFormat, "input-format", inputFormat, "what <source> is: 'disk' (a directory) or 'tar' (a tar archive, '-' for stdin)")
	fs.BoolVar(&oneFS, "x", false, "do not cross file system boundaries")
	fs.BoolVar(&oneFS, "one-file-system", false, "do not cross file system boundaries")
	fs.BoolVar(&addRoot, "tar-add-root", false, "with --input-format tar: put every tar entry under one root directory")
	level := chunk.DefaultLevel
	fs.IntVar(&level, "compression-level", level, "zstd level of stored chunks, 1-22 (casync uses 3)")
	var noSync bool
	fs.BoolVar(&noSync, "no-sync", false, noSyncStoreHelp)
	c.Exec = func(ctx context.Context, args []string) error {
		out, source := args[0], args[1]
		if inputFormat != "disk" && inputFormat != "tar" {
			return usageErr("tar: --input-format %q: want disk or tar", inputFormat)
		}
		if addRoot && inputFormat != "tar" {
			return usageErr("tar: --tar-add-root needs --input-format tar")
		}
		if !index && len(sf.stores) > 0 {
			return usageErr("tar: -s needs -i (a catar holds its data itself)")
		}
		if level < 1 || level > 22 {
			return usageErr("tar: --compression-level %d out of range 1-22", level)
		}
		feat, err := af.features(a.digest.d == chunk.SHA256)
		if err != nil {
			return err
		}
		if inputFormat == "disk" {
			fi, err := os.Stat(source)
			if err != nil {
				return fmt.Errorf("tar: %w", err)
			}
			if !fi.IsDir() {
				return usageErr("tar: %s is not a directory (use make for a file)", source)
			}
		}
		eo := catar.EncodeOptions{Features: feat, OneFileSystem: oneFS, TarAddRoot: addRoot, Logger: a.log}
		var stats tarStats
		encode := func(w io.Writer) (err error) {
			if inputFormat == "tar" {
				in, err := openInput(ctx, source, a.io.In)
				if err != nil {
					return err
				}
				defer in.Close()
				stats.Archive, err = catar.EncodeTar(ctx, w, in, eo)
				return err
			}
			stats.Archive, err = catar.EncodeTree(ctx, w, source, eo)
			return err
		}
		if index {
			stats.MakeStats, err = a.tarIndex(ctx, out, f, &sf, storeSetup{level: level, noSync: noSync}, uint64(feat), encode)
		} else {
			err = writeOutput(args, 0, func(w io.Writer) error {
				if err := encode(w); err != nil {
					return fmt.Errorf("tar %s: %w", source, err)
				}
				return nil
			}, a.io.Out)
		}
		if err != nil || !f.printStats {
			return err
		}
		if out == "-" {
			return printStats(a.io.Err, stats)
		}
		return printStats(a.io.Out, stats)
	}
	return c
}

// tarStats are what tar --print-stats reports: what was archived, and with
// -i the chunks as make reports them.
type tarStats struct {
	*assemble.MakeStats                   // with -i only
	Archive             catar.EncodeStats `json:"archive"`
}

// tarIndex writes the archive encode makes as an index at location, its
// chunks into the stores of sf, without writing the archive anywhere: the
// encoder feeds the chunker through a pipe.
func (a *app) tarIndex(ctx context.Context, location string, f commonFlags, sf *storeFlags, setup storeSetup, flags uint64, encode func(io.Writer) error) (*assemble.MakeStats, error) {
	pr, pw := io.Pipe()
	encoded := make(chan error, 1)
	go func() {
		err := encode(pw)
		pw.CloseWithError(err)
		encoded <- err
	}()
	stats, err := a.makeInto(ctx, "tar", location, pr, f, sf, setup, flags)
	pr.CloseWithError(err) // an encoder still writing stops
	if encErr := <-encoded; encErr != nil && (err == nil || errors.Is(err, encErr)) {
		return &stats, fmt.Errorf("tar: %w", encErr) // the encoder failed first
	}
	return &stats, err
}
