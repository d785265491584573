package cli

import (
	"flag"
	"fmt"
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

func (f *seedFlags) add(fs *flag.FlagSet, withInvalid bool) {
	fs.Var(&f.seeds, "seed", "seed: an index X.caibx (its data is X) or any file or block device, chunked on the fly; repeatable")
	fs.Var(&f.dirs, "seed-dir", "directory of seeds: every *.caibx in it, with its data next to it; repeatable")
	if withInvalid {
		fs.BoolVar(&f.skipInvalid, "skip-invalid-seeds", false, "go on without a seed whose data does not match its index")
		fs.BoolVar(&f.regenerate, "regenerate-invalid-seeds", false, "go on without a seed whose data does not match its index, then rewrite its index")
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

// load reads the seeds' indexes. indexPath, the index being extracted, is
// not taken from a seed directory as a seed of itself.
func (f *seedFlags) load(indexPath string) ([]assemble.Seed, error) {
	var seeds []assemble.Seed
	for _, s := range f.seeds {
		seed, err := loadSeed(s)
		if err != nil {
			return nil, err
		}
		seeds = append(seeds, seed)
	}
	for _, dir := range f.dirs {
		names, err := filepath.Glob(filepath.Join(dir, "*.caibx"))
		if err != nil {
			return nil, fmt.Errorf("seed directory %s: %w", dir, err)
		}
		for _, name := range names {
			if samePath(name, indexPath) {
				continue
			}
			seed, err := loadSeed(name)
			if err != nil {
				return nil, err
			}
			seeds = append(seeds, seed)
		}
	}
	return seeds, nil
}

// loadSeed turns a --seed argument into a seed: an index (".caibx") with
// its data next to it, or a file to chunk.
func loadSeed(arg string) (assemble.Seed, error) {
	data, isIndex := strings.CutSuffix(arg, ".caibx")
	if !isIndex {
		return assemble.Seed{Path: arg}, nil
	}
	ix, err := caindex.ReadFile(arg)
	if err != nil {
		return assemble.Seed{}, fmt.Errorf("seed index: %w", err)
	}
	return assemble.Seed{Path: data, Index: ix, IndexPath: arg}, nil
}
