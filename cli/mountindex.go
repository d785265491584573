package cli

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/catar"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/fuse"
)

func (a *app) mountIndexCmd() *command {
	var f commonFlags
	var sf storeFlags
	var storeFile storeFileFlag
	var corFile, corSave, corInit string
	var corInitN int
	c := a.newCommand(commandSpec{
		name:    "mount-index",
		usage:   "desync mount-index [flags] <index> <mountpoint>",
		minArgs: 2,
		maxArgs: 2,
		short:   "FUSE mount an index (a blob as one file, a .caidx as a tree)",
		long: `Mounts an index read-only with FUSE, reading chunks from the stores (-s,
tried in order; "a|b" is a failover group) and the cache (-c) as they are
read; nothing is assembled on disk. Use extract to get a whole blob: it is
faster. The index is a file, "-" for stdin, or an index store URL.

A blob index (.caibx) shows as one file in the mount point, named after the
index without its extension (image.caibx: <mountpoint>/image). Sequential
readers get the chunks ahead of them fetched in parallel (-n); memory stays
bounded. An archive index (.caidx) shows as the directory tree it holds,
with names, types, sizes, modes, owners, times, symlink targets and xattrs;
directories are listed from the archive's goodbye tables, and file contents
read by chunk when read.

--cor-file names a copy-on-read file (blobs): every chunk read is written into
it, a sparse file as long as the blob, and later reads of it come from there.
--cor-state-save writes which chunks the file holds on exit and on SIGHUP;
--cor-state-init (or --cor-state-load) reads such a state at start, checking
each chunk it lists against its ID with --cor-init-n goroutines (a chunk that
does not match is fetched again). A state belongs to one file and one index.

--store-file names a JSON file {"stores": [...], "cache": "..."} used instead
of -s and -c; it is read again on SIGHUP, under load (reads in flight finish
with the old stores). A chunk that cannot be read is an I/O error (EIO) for
the reading process, logged with the chunk ID and offset. SIGINT or SIGTERM
unmount and exit.

Example:
  desync mount-index -s http://192.168.1.1/ file.caibx /mnt/blob
  desync mount-index -s /path/to/store --cor-file /var/tmp/blob.cor blob.caibx /mnt/blob
  desync mount-index -s /path/to/store tree.caidx /mnt/tree`,
	})
	fs := c.FlagSet
	addStoreFlags(fs, &sf, storeFlagsUse{storeHelp: "source store; repeat to add fallbacks", withCache: true})
	f.addConcurrency(fs)
	storeFile.add(fs)
	fs.StringVar(&corFile, "cor-file", "", "use a copy-on-read sparse file as cache")
	fs.StringVar(&corSave, "cor-state-save", "", "file to store the copy-on-read state in on exit or SIGHUP")
	fs.StringVar(&corInit, "cor-state-init", "", "state file to initialize the copy-on-read cache from")
	fs.StringVar(&corInit, "cor-state-load", "", "the same as --cor-state-init")
	fs.IntVar(&corInitN, "cor-init-n", 10, "number of goroutines to use for initialization (with --cor-state-init)")
	c.Exec = func(ctx context.Context, args []string) error {
		if !fuse.Supported {
			return usageErr("mount-index: FUSE mounts are not supported on %s", runtime.GOOS)
		}
		if err := storeFile.check("mount-index", &sf); err != nil {
			return err
		}
		if corFile == "" && (corSave != "" || corInit != "") {
			return usageErr("mount-index: --cor-state-save and --cor-state-init need --cor-file")
		}
		cfg, err := a.config()
		if err != nil {
			return err
		}
		ix, err := a.readIndex(ctx, args[0])
		if err != nil {
			return err
		}
		mnt := args[1]
		tree := isArchiveIndex(args[0], ix)
		if tree && corFile != "" {
			return usageErr("mount-index: --cor-file is for blob indexes, %s is an archive index", args[0])
		}
		setup := a.setup(storeSetup{digest: ix.Digest(), maxChunk: ix.Max, concurrency: f.concurrency})
		open := func() (chunk.Store, error) {
			flags, err := storeFile.flags(sf)
			if err != nil {
				return nil, err
			}
			return openReadOnly(ctx, &flags, cfg, setup, ix)
		}
		store, err := open()
		if err != nil {
			return err
		}
		var cor *fuse.CORFile
		if corFile != "" {
			if cor, err = fuse.OpenCOR(corFile, ix); err != nil {
				store.Close()
				return err
			}
			defer cor.Close()
			if corInit != "" {
				if err := loadCORState(a, cor, corInit, corInitN); err != nil {
					store.Close()
					return err
				}
			}
		}
		b := fuse.NewBlob(ix, fuse.BlobOptions{Store: store, Concurrency: f.concurrency, COR: cor, Logger: a.log})
		defer b.Close()
		saveState := func() {
			if cor == nil || corSave == "" {
				return
			}
			if err := cor.SaveState(corSave); err != nil {
				a.log.Error("mount-index: saving the copy-on-read state failed", "file", corSave, "error", err)
			}
		}
		// SIGHUP is handled before the mount exists: its default action
		// would end the process with the mount left behind.
		stop := onReload(func() {
			if storeFile.path != "" {
				s, err := open()
				if err != nil {
					a.log.Error("mount-index: reloading the store file failed; reading from the old stores", "file", storeFile.path, "error", err)
				} else {
					b.SetStore(s)
					a.log.Warn("mount-index: reloaded the store file", "file", storeFile.path)
				}
			}
			saveState()
		})
		defer stop()
		mo := fuse.MountOptions{FsName: "desync", Logger: a.log}
		var m *fuse.Mount
		if tree {
			ar, err := catar.OpenArchive(b, b.Size())
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			m, err = fuse.MountTree(mnt, ar, mo)
			if err != nil {
				return err
			}
		} else {
			if m, err = fuse.MountBlob(mnt, blobName(args[0]), b, mo); err != nil {
				return err
			}
		}
		unmounted := make(chan struct{})
		go func() {
			m.Wait()
			close(unmounted)
		}()
		select {
		case <-ctx.Done():
			err = m.Unmount()
		case <-unmounted: // fusermount -u from outside
		}
		saveState()
		return err
	}
	return c
}

// isArchiveIndex reports whether ix indexes an archive (.caidx) rather than
// a blob: its flags carry archive features, as casync and desync write them,
// or its name says so.
func isArchiveIndex(name string, ix *caindex.Index) bool {
	return ix.Flags&uint64(catar.WithAll) != 0 || strings.HasSuffix(name, ".caidx")
}

// blobName is the name of the file a blob mount shows: the index's name
// without its directory and extension, as the original desync names it
// ("-" for stdin).
func blobName(index string) string {
	base := path.Base(filepath.ToSlash(index))
	if i := strings.Index(base, "?"); i >= 0 { // an index store URL's query
		base = base[:i]
	}
	if ext := path.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return base
}

// loadCORState marks the chunks a state file lists in cor.
func loadCORState(a *app, cor *fuse.CORFile, file string, n int) error {
	fh, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("copy-on-read state: %w", err)
	}
	defer fh.Close()
	marked, mismatched, err := cor.LoadState(fh, n)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if mismatched > 0 {
		a.log.Warn("mount-index: chunks of the copy-on-read state do not match the file; they will be fetched again", "state", file, "mismatched", mismatched)
	}
	a.log.Info("mount-index: copy-on-read state loaded", "state", file, "chunks", marked)
	return nil
}
