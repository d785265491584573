package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/folbricht/desync/assemble"
	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/catar"
	"github.com/folbricht/desync/chunk"
)

func (a *app) untarCmd() *command {
	var f commonFlags
	var sf storeFlags
	var seeds seedFlags
	var index, noSameOwner, noSamePerms bool
	outputFormat := "disk"
	c := a.newCommand(commandSpec{
		name:    "untar",
		usage:   "desync untar [flags] <catar|index> <target>",
		minArgs: 2,
		maxArgs: 2,
		short:   "extract a directory tree from a catar, or from a caidx and chunk stores",
		long: `Extracts the tree of the archive <catar> ("-" for stdin), or with -i of the
archive index <index> (a file, "-" or an index store URL) whose chunks come
from -s through the cache -c, into the directory <target>. A new <target>
is extracted next to it under a temporary name and renamed into place when
complete (a failed untar leaves nothing); into an existing directory the
entries the archive names replace what it holds under that name; nothing outside <target> is ever written: names with "..", absolute
names and paths through symlinks are refused, naming the entry. As root,
owners, permissions, times, xattrs, ACLs, file capabilities, chattr flags,
devices and fifos are restored; as another user what the system allows.

With --output-format gnu-tar a GNU tar stream is written to <target> ("-"
for stdout) instead.

With -i, --seed takes an earlier archive index and the tree it was
extracted to (OLD.caidx:DIR, or OLD.caidx whose tree is the directory OLD):
the chunks the two archives share are read from that tree and verified
instead of fetched (a file of the tree changed since is just not used: its
chunks are fetched). --seed-dir takes every *.caidx under a directory whose
tree is next to it. --print-stats says how much came from seeds.

Example:
  desync untar docs.catar /tmp/documents
  desync untar -i -s http://192.168.1.1/store -c /var/cache docs.caidx /tmp/documents
  desync untar -i -s /var/store --seed v1.caidx:/srv/v1 v2.caidx /srv/v2`,
	})
	fs := c.FlagSet
	addStoreFlags(fs, &sf, storeFlagsUse{storeHelp: "chunk store to read from (with -i); repeat to add fallbacks", withCache: true})
	seeds.add(fs, seedFlagsUse{archive: true})
	f.addConcurrency(fs)
	f.addStats(fs)
	fs.BoolVar(&index, "i", false, "read an archive index (caidx) and its chunks from the stores, not a catar")
	fs.BoolVar(&index, "index", false, "read an archive index (caidx) and its chunks from the stores, not a catar")
	fs.BoolVar(&noSameOwner, "no-same-owner", false, "extract files as the current user, not the archive's owners")
	fs.BoolVar(&noSamePerms, "no-same-permissions", false, "apply the current umask to the archive's permissions")
	fs.StringVar(&outputFormat, "output-format", outputFormat, "'disk' (extract into <target>) or 'gnu-tar' (write a tar stream to <target>, '-' for stdout)")
	c.Exec = func(ctx context.Context, args []string) error {
		source, target := args[0], args[1]
		if outputFormat != "disk" && outputFormat != "gnu-tar" {
			return usageErr("untar: --output-format %q: want disk or gnu-tar", outputFormat)
		}
		if !index && (len(sf.stores) > 0 || len(seeds.seeds) > 0 || len(seeds.dirs) > 0) {
			return usageErr("untar: -s and --seed need -i (a catar holds its data itself)")
		}
		if index && len(sf.stores) == 0 {
			return usageErr("untar: -i needs a store (-s)")
		}
		if outputFormat == "disk" && target == "-" {
			return usageErr("untar: extracting to disk needs a target directory, not -")
		}
		in, err := a.archiveStream(ctx, source, index, f.concurrency, &sf, &seeds)
		if err != nil {
			return err
		}
		defer in.Close()
		if outputFormat == "gnu-tar" {
			return writeOutput(args, 1, func(w io.Writer) error {
				if err := catar.WriteTar(ctx, w, in); err != nil {
					return fmt.Errorf("untar %s: %w", source, err)
				}
				return nil
			}, a.io.Out)
		}
		xs, err := extractTree(ctx, in, target, catar.ExtractOptions{
			NoSameOwner: noSameOwner, NoSamePermissions: noSamePerms, Workers: f.concurrency, Logger: a.log,
			CloneFrom: in.cloneFrom,
		})
		if err != nil {
			return fmt.Errorf("untar %s: %w", source, err)
		}
		if f.printStats {
			st := untarStats{Archive: xs}
			if index {
				cs := in.chunks()
				st.ExtractStats = &cs
			}
			return printStats(a.io.Out, st)
		}
		return nil
	}
	return c
}

// extractTree extracts the archive r to target. A target that does not
// exist yet is extracted to a temporary directory next to it, renamed into
// place when complete and removed on failure, so a failed untar leaves
// nothing behind; into an existing directory the entries are written in
// place.
func extractTree(ctx context.Context, r io.Reader, target string, o catar.ExtractOptions) (catar.ExtractStats, error) {
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		return catar.Extract(ctx, r, target, o)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(target), "."+filepath.Base(target)+".desync-*.tmp")
	if err != nil {
		return catar.ExtractStats{}, err
	}
	xs, err := catar.Extract(ctx, r, tmp, o)
	if err == nil {
		err = os.Rename(tmp, target)
	}
	if err != nil {
		os.RemoveAll(tmp)
	}
	return xs, err
}

// untarStats are what untar --print-stats reports: where the chunks came
// from (with -i) and what was extracted.
type untarStats struct {
	*assemble.ExtractStats                    // with -i only
	Archive                catar.ExtractStats `json:"archive"`
}

// archiveInput is an archive stream and, with -i, where its chunks came
// from and which files of seed trees hold its files' contents.
type archiveInput struct {
	io.ReadCloser
	chunks    func() assemble.ExtractStats // once the stream is read
	cloneFrom func(e *catar.Entry, payloadOffset int64) string
}

// archiveStream opens the archive stream of source: the catar file (or
// stdin), or with index the stream its archive index describes, read from
// the stores of sf and from archive seeds.
func (a *app) archiveStream(ctx context.Context, source string, index bool, n int, sf *storeFlags, seeds *seedFlags) (*archiveInput, error) {
	if !index {
		in, err := openInput(ctx, source, a.io.In)
		if err != nil {
			return nil, err
		}
		return &archiveInput{ReadCloser: in, chunks: func() assemble.ExtractStats { return assemble.ExtractStats{} }}, nil
	}
	ix, err := a.readIndex(ctx, source)
	if err != nil {
		return nil, err
	}
	var seedList []assemble.Seed
	if seeds != nil {
		if seedList, err = loadArchiveSeeds(ctx, seeds, source, a.log.Warn); err != nil {
			return nil, err
		}
	}
	store, err := a.openRead(ctx, sf, ix, n)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	var xs assemble.ExtractStats
	done := make(chan struct{})
	go func() {
		defer close(done)
		var err error
		xs, err = assemble.ExtractWriter(ctx, ix, pw, assemble.ExtractOptions{
			// A seed tree that changed since it was extracted loses the
			// chunks that changed, which come from the store.
			Store: store, Concurrency: n, Seeds: seedList, InvalidSeeds: assemble.InvalidSeedSkip,
		})
		if err != nil {
			err = fmt.Errorf("%s: %w", source, err)
		}
		pw.CloseWithError(err)
	}()
	closer := func() error {
		pr.CloseWithError(errors.New("archive reader closed"))
		<-done
		return store.Close()
	}
	return &archiveInput{
		ReadCloser: readCloser{pr, closer},
		chunks:     func() assemble.ExtractStats { <-done; return xs },
		cloneFrom:  cloneSource(ix, seedList),
	}, nil
}

// cloneSource returns, for untar's extraction of the archive ix describes,
// a function that finds a file of a seed tree holding the same bytes as a
// file of the archive: the first and last chunks of the payload are in the
// seed's index, shifted alike, and a file of the seed's tree image starts
// at the shifted offset with the same size. The extraction verifies what
// it clones, so a wrong guess costs a rewrite, never wrong data. Nil
// without seeds.
func cloneSource(ix *caindex.Index, seeds []assemble.Seed) func(e *catar.Entry, payloadOffset int64) string {
	type loc struct {
		seed  int
		start uint64
	}
	locs := make(map[chunk.ID]loc)
	for i, s := range seeds {
		for _, c := range s.Index.Chunks {
			if _, ok := locs[c.ID]; !ok {
				locs[c.ID] = loc{i, c.Start}
			}
		}
	}
	if len(locs) == 0 {
		return nil
	}
	// inner returns the first and last chunks of the payload [start, end):
	// those wholly inside it when there are any (the chunks at its edges
	// also hold neighbouring records, which may differ), else the chunks
	// holding its edges.
	inner := func(start, end uint64) (first, last caindex.Chunk) {
		cs := ix.Chunks
		i := sort.Search(len(cs), func(k int) bool { return cs[k].End() > start })
		j := sort.Search(len(cs), func(k int) bool { return cs[k].End() >= end })
		i, j = min(i, len(cs)-1), min(j, len(cs)-1)
		if cs[i].Start < start && i+1 <= j && cs[i+1].End() <= end {
			i++
		}
		if cs[j].End() > end && j-1 >= i && cs[j-1].Start >= start {
			j--
		}
		return cs[i], cs[j]
	}
	return func(e *catar.Entry, payloadOffset int64) string {
		start := uint64(payloadOffset)
		first, end := inner(start, start+uint64(e.Size))
		l1, ok1 := locs[first.ID]
		l2, ok2 := locs[end.ID]
		if !ok1 || !ok2 || l1.seed != l2.seed || l1.start-first.Start != l2.start-end.Start {
			return ""
		}
		img, ok := seeds[l1.seed].Data.(*catar.TreeImage)
		if !ok {
			return ""
		}
		file, size, ok := img.FileAt(int64(start + l1.start - first.Start))
		if !ok || size != e.Size {
			return ""
		}
		return file
	}
}

// loadArchiveSeeds reads the --seed and --seed-dir arguments of untar: an
// archive index and the tree extracted from it. Each becomes a seed whose
// data is the archive the tree encodes to now, with the old index's
// feature flags; where the tree changed, its chunks fail verification and
// the store supplies them.
func loadArchiveSeeds(ctx context.Context, f *seedFlags, indexPath string, warn func(msg string, args ...any)) ([]assemble.Seed, error) {
	var seeds []assemble.Seed
	add := func(index, dir string) error {
		s, err := archiveSeed(ctx, index, dir)
		if err != nil {
			return err
		}
		seeds = append(seeds, s)
		return nil
	}
	for _, arg := range f.seeds {
		index, dir, ok := strings.Cut(arg, ":")
		if !ok {
			dir, ok = strings.CutSuffix(arg, ".caidx")
			if !ok {
				return nil, usageErr("untar: --seed %s: want OLD.caidx (its tree is OLD) or OLD.caidx:DIR", arg)
			}
		}
		if err := add(index, dir); err != nil {
			return nil, err
		}
	}
	isDir := func(p string) bool { fi, err := os.Stat(p); return err == nil && fi.IsDir() }
	for _, d := range f.dirs {
		if err := walkSeedDir(d, ".caidx", indexPath, isDir, warn, add); err != nil {
			return nil, err
		}
	}
	return seeds, nil
}

// archiveSeed is the seed of an archive index and its extracted tree.
func archiveSeed(ctx context.Context, index, dir string) (assemble.Seed, error) {
	ix, err := caindex.ReadFile(index)
	if err != nil {
		return assemble.Seed{}, fmt.Errorf("seed %s: %w", index, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return assemble.Seed{}, fmt.Errorf("seed %s: its tree: %w", index, err)
	}
	if !fi.IsDir() {
		return assemble.Seed{}, fmt.Errorf("seed %s: its tree %s is not a directory", index, dir)
	}
	img, err := catar.NewTreeImage(ctx, dir, catar.Features(ix.Flags))
	if err != nil {
		return assemble.Seed{}, fmt.Errorf("seed %s: %w", index, err)
	}
	return assemble.Seed{Path: dir, Index: ix, IndexPath: index, Data: img}, nil
}
