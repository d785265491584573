package cli

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/chunker"
)

// multiFlag collects a repeatable string flag (-s A -s B). As with the
// original desync's list flags, one value may also hold several, separated
// by commas (-s A,B), with CSV quoting for a value that holds a comma
// (-s '"/srv/a,b"').
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error {
	if v == "" {
		*m = append(*m, v) // let the command say what is wrong with it
		return nil
	}
	r := csv.NewReader(strings.NewReader(v))
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err != nil {
		return fmt.Errorf("cannot split %q at its commas: %w", v, err)
	}
	*m = append(*m, fields...)
	return nil
}

// verboseFlag is --verbose: debug messages on stderr.
type verboseFlag struct{ level *slog.LevelVar }

func (f verboseFlag) IsBoolFlag() bool { return true }
func (f verboseFlag) String() string {
	if f.level != nil && f.level.Level() <= slog.LevelDebug {
		return "true"
	}
	return "false"
}
func (f verboseFlag) Set(v string) error {
	on, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	if on {
		f.level.Set(slog.LevelDebug)
	} else {
		f.level.Set(slog.LevelWarn)
	}
	return nil
}

// countFlag is an int flag that must not be negative, so that a bad value
// is refused as the command line is read.
type countFlag int

func (f *countFlag) String() string { return strconv.Itoa(int(*f)) }
func (f *countFlag) Get() any       { return int(*f) }
func (f *countFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return errors.New("not a whole number")
	case n < 0:
		return errors.New("must not be negative")
	}
	*f = countFlag(n)
	return nil
}

// paramsFlag is -m/--chunk-size.
type paramsFlag struct{ p chunker.Params }

func (f *paramsFlag) String() string { return "16:64:256" }
func (f *paramsFlag) Set(v string) error {
	p, err := chunker.ParseParams(v)
	if err != nil {
		return err
	}
	f.p = p
	return nil
}

// digestFlag is --digest, accepted by every command as desync's global
// flag. set tells a digest chosen on the command line from the default.
type digestFlag struct {
	d   chunk.Digest
	set bool
}

func (f *digestFlag) String() string { return f.d.String() }
func (f *digestFlag) Set(v string) error {
	d, err := chunk.ParseDigest(v)
	if err != nil {
		return err
	}
	f.d, f.set = d, true
	return nil
}

const digestHelp = "digest of chunk IDs: sha512-256 or sha256; an index read must use it"

func (f *digestFlag) add(fs *flag.FlagSet) { fs.Var(f, "digest", digestHelp) }

// noSyncStoreHelp is the help of make's and tar's --no-sync.
const noSyncStoreHelp = "do not make the chunks written to a local store durable before the index is written (faster, as casync and desync do; a crash may lose chunks the index names)"

// commonFlags are shared by several commands, under desync's names.
type commonFlags struct {
	concurrency int
	printStats  bool
	params      paramsFlag
}

// defaultConcurrency is desync's -n default (10), or the number of CPUs if
// larger: enough requests in flight to hide a remote store's latency, and
// every core busy with local work.
var defaultConcurrency = max(runtime.GOMAXPROCS(0), 10)

func (c *commonFlags) addConcurrency(fs *flag.FlagSet) {
	c.concurrency = defaultConcurrency
	fs.IntVar(&c.concurrency, "n", c.concurrency, "number of concurrent goroutines")
	fs.IntVar(&c.concurrency, "concurrency", c.concurrency, "number of concurrent goroutines")
}

func (c *commonFlags) addStats(fs *flag.FlagSet) {
	fs.BoolVar(&c.printStats, "print-stats", false, "print statistics as JSON")
}

func (c *commonFlags) addChunkSize(fs *flag.FlagSet) {
	c.params.p = chunker.DefaultParams()
	const help = "chunk sizes min:avg:max in KiB (16:64:256), or casync's forms (64K, 20000B:30000B:40000B)"
	fs.Var(&c.params, "m", help)
	fs.Var(&c.params, "chunk-size", help)
}
