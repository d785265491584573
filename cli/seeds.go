package cli

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/folbricht/desync/assemble"
	"github.com/folbricht/desync/caindex"
)

// seedFlags are desync's seed options of extract and info.
type seedFlags struct {
	seeds, dirs multiFlag
	skipInvalid bool
	regenerate  bool
}

// seedFlagsUse says which seed flags a command takes, for seedFlags.add.
type seedFlagsUse struct {
	// invalidSeeds adds --skip-invalid-seeds and
	// --regenerate-invalid-seeds, for a command that takes chunks from
	// seeds (extract; info only counts them).
	invalidSeeds bool
	// archive makes the seeds archive indexes and their trees (untar).
	archive bool
}

// add registers --seed and --seed-dir, and the flags use asks for.
func (f *seedFlags) add(fs *flag.FlagSet, use seedFlagsUse) {
	if use.archive {
		fs.Var(&f.seeds, "seed", "seed (with -i): an earlier archive index and the tree extracted from it, OLD.caidx:DIR or OLD.caidx (its tree is OLD); repeatable")
		fs.Var(&f.dirs, "seed-dir", "directory of seeds (with -i): every *.caidx in it and its subdirectories, with its tree next to it; repeatable")
	} else {
		fs.Var(&f.seeds, "seed", "seed: an index X.caibx (its data is X), INDEX:DATA (an index and its data), or any file or block device, chunked on the fly; repeatable")
		fs.Var(&f.dirs, "seed-dir", "directory of seeds: every *.caibx in it and its subdirectories, with its data next to it; repeatable")
	}
	if use.invalidSeeds {
		fs.BoolVar(&f.skipInvalid, "skip-invalid-seeds", false, "take from the store what a seed whose data does not match its index was to supply")
		fs.BoolVar(&f.regenerate, "regenerate-invalid-seeds", false, "rebuild, in memory, the index of a seed whose data does not match it (no file is written)")
	}
}

func (f *seedFlags) action() (assemble.InvalidSeedAction, error) {
	switch {
	case f.skipInvalid && f.regenerate:
		return 0, usageErr("--skip-invalid-seeds and --regenerate-invalid-seeds exclude each other")
	case f.skipInvalid:
		return assemble.InvalidSeedSkip, nil
	case f.regenerate:
		return assemble.InvalidSeedRegenerate, nil
	}
	return assemble.InvalidSeedFail, nil
}

// load reads the seeds' indexes; warn reports what is ignored. indexPath,
// the index being extracted, is not taken from a seed directory as a seed
// of itself.
func (f *seedFlags) load(indexPath string, warn func(msg string, args ...any)) ([]assemble.Seed, error) {
	var seeds []assemble.Seed
	for _, arg := range f.seeds {
		sa, err := parseSeed(arg)
		if err != nil {
			return nil, err
		}
		for _, opt := range sa.options {
			warn("unknown seed option ignored", "seed", arg, "option", opt)
		}
		seed, err := loadSeed(sa.index, sa.data)
		if err != nil {
			return nil, err
		}
		seeds = append(seeds, seed)
	}
	for _, dir := range f.dirs {
		err := walkSeedDir(dir, ".caibx", indexPath, isFile, warn, func(index, data string) error {
			seed, err := loadSeed(index, data)
			if err == nil {
				seeds = append(seeds, seed)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return seeds, nil
}

// walkSeedDir calls add for every index named *ext under dir (as desync
// does: subdirectories too, symlinked ones not followed), but indexPath
// itself, whose data (its name without ext) exists as dataOK wants it; an
// index without its data is skipped with a warning.
func walkSeedDir(dir, ext, indexPath string, dataOK func(string) bool, warn func(msg string, args ...any), add func(index, data string) error) error {
	err := filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(name) != ext || samePath(name, indexPath) {
			return err
		}
		data := strings.TrimSuffix(name, ext)
		if !dataOK(data) {
			warn("seed index skipped: its data is missing", "index", name, "data", data)
			return nil
		}
		return add(name, data)
	})
	if err != nil {
		return fmt.Errorf("seed directory %s: %w", dir, err)
	}
	return nil
}

// seedArg is a --seed argument taken apart: an index (none for a file
// chunked on the fly), its data, and the options after them.
type seedArg struct {
	index, data string
	options     []string
}

// parseSeed reads a --seed argument as desync does: INDEX.caibx (the data
// is INDEX), or INDEX:DATA[:OPTIONS] (desync knows no option yet and warns
// of any). Ours also takes any file or block device without an index. As
// paths may hold ':' (/dev/disk/by-path/...), an argument that names an
// existing file is that file, and INDEX and DATA are the shortest and the
// longest runs of ':'-separated fields that name existing files (when none
// does, the first field, so that the error names it).
func parseSeed(arg string) (seedArg, error) {
	if !strings.Contains(arg, ":") || isFile(arg) {
		if data, ok := strings.CutSuffix(arg, ".caibx"); ok {
			return seedArg{index: arg, data: data}, nil
		}
		return seedArg{data: arg}, nil
	}
	fields := strings.Split(arg, ":")
	k := 0
	for i := 1; i < len(fields) && k == 0; i++ {
		if isFile(strings.Join(fields[:i], ":")) {
			k = i
		}
	}
	if k == 0 {
		if strings.HasSuffix(arg, ".caibx") {
			return seedArg{index: arg, data: strings.TrimSuffix(arg, ".caibx")}, nil
		}
		k = 1
	}
	index, rest := strings.Join(fields[:k], ":"), fields[k:]
	n := 1
	for i := len(rest); i > 1; i-- {
		if isFile(strings.Join(rest[:i], ":")) {
			n = i
			break
		}
	}
	sa := seedArg{index: index, data: strings.Join(rest[:n], ":")}
	if sa.data == "" {
		return seedArg{}, usageErr("--seed %s: no data file after the index %s", arg, index)
	}
	for _, o := range rest[n:] {
		if o != "" {
			sa.options = append(sa.options, o)
		}
	}
	return sa, nil
}

// isFile reports whether p names something other than a directory.
func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// loadSeed reads the seed's index, if it has one.
func loadSeed(index, data string) (assemble.Seed, error) {
	if index == "" {
		return assemble.Seed{Path: data}, nil
	}
	ix, err := caindex.ReadFile(index)
	if err != nil {
		return assemble.Seed{}, fmt.Errorf("seed index: %w", err)
	}
	return assemble.Seed{Path: data, Index: ix, IndexPath: index}, nil
}
