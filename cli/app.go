package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/peterbourgon/ff/v3/ffcli"
)

// Stdio are the streams a command reads and writes; tests pass buffers.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// UsageError is a mistake on the command line: exit status 2 and a hint.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

func usageErr(format string, a ...any) error { return &UsageError{fmt.Sprintf(format, a...)} }

// command is one subcommand: its ffcli definition plus how many positional
// arguments it takes.
type command struct {
	*ffcli.Command
	minArgs, maxArgs int // maxArgs anyArgs: no limit
}

// commandSpec describes a command for app.newCommand.
type commandSpec struct {
	name    string // as typed after "desync"
	usage   string // the one-line synopsis: "desync make [flags] <index> <file>"
	minArgs int    // positional arguments it needs
	maxArgs int    // positional arguments it takes at most; anyArgs: no limit
	short   string // one line for the list of commands
	long    string // what it does, and an example
}

// anyArgs is commandSpec.maxArgs of a command that takes any number of
// positional arguments.
const anyArgs = -1

// app is one run of the command line: its streams, the config file and
// the logger that store warnings (retries, failovers, repairs) go to.
type app struct {
	io         Stdio
	configPath string     // --config
	digest     digestFlag // --digest, on every command
	cfg        *config
	log        *slog.Logger
	logLevel   slog.LevelVar // --verbose lowers it to debug
	version    bool          // --version, before any command
	// root is the command tree, for the commands that describe it
	// (completion, manpage); Run sets it.
	root *ffcli.Command
}

// addVerbose registers --verbose, a global flag of the original desync.
func (a *app) addVerbose(fs *flag.FlagSet) {
	fs.Var(verboseFlag{&a.logLevel}, "verbose", "verbose mode: debug messages on stderr")
}

// commands are desync's commands, in the order "desync --help" lists them
// (Run adds help last). Each is defined in a file of its own, named after
// it (see the package documentation and TestOneFilePerCommand).
func commands(a *app) []*command {
	return []*command{
		a.makeCmd(), a.extractCmd(), a.catCmd(), a.chopCmd(), a.cacheCmd(), a.pruneCmd(), a.verifyCmd(),
		a.infoCmd(), a.listChunksCmd(), a.inspectChunksCmd(), a.chunkCmd(), a.verifyIndexCmd(), a.configCmd(),
		a.chunkServerCmd(), a.indexServerCmd(), a.mountIndexCmd(), a.pullCmd(), a.tarCmd(), a.untarCmd(), a.mtreeCmd(),
		a.completionCmd(), a.manpageCmd(), a.versionCmd(),
	}
}

// newCommand makes the command of spec, with the flags every command has
// (--config, --digest, --verbose).
func (a *app) newCommand(spec commandSpec) *command {
	fs := flag.NewFlagSet("desync "+spec.name, flag.ContinueOnError)
	fs.StringVar(&a.configPath, "config", "", "config file (default $HOME/.config/desync/config.json)")
	a.digest.add(fs)
	a.addVerbose(fs)
	return &command{
		Command: &ffcli.Command{
			Name:       spec.name,
			ShortUsage: spec.usage,
			ShortHelp:  spec.short,
			LongHelp:   spec.long,
			FlagSet:    fs,
		},
		minArgs: spec.minArgs,
		maxArgs: spec.maxArgs,
	}
}

// config loads the config file on first use.
func (a *app) config() (*config, error) {
	if a.cfg == nil {
		cfg, err := loadConfig(a.configPath)
		if err != nil {
			return nil, err
		}
		a.cfg = cfg
	}
	return a.cfg, nil
}

// Run executes the desync command line args (without the program name) and
// returns the process exit status: 0 on success, 1 when the work failed, 2 for
// usage errors. ctx cancels the work (main wires it to SIGINT/SIGTERM).
//
// Help (--help, -h, "desync help [command]") goes to stdout. A usage error
// is one line naming the problem, and one pointing to the command's --help,
// on stderr.
func Run(ctx context.Context, args []string, stdio Stdio) int {
	a := &app{io: stdio}
	a.logLevel.Set(slog.LevelWarn)
	a.log = slog.New(slog.NewTextHandler(stdio.Err, &slog.HandlerOptions{Level: &a.logLevel}))
	cmds := commands(a)
	root := &ffcli.Command{
		Name:       "desync",
		ShortUsage: "desync <command> [flags] [args...]",
		ShortHelp:  "content-addressed binary distribution, compatible with casync",
		LongHelp: `desync cuts files into content-defined chunks, stores them compressed in
chunk stores, and rebuilds files from small index files and those stores.
Indexes and stores are byte-compatible with casync.

Example:
  desync make -s /var/store image.caibx image.raw
  desync extract -s /var/store image.caibx image.copy

Run "desync <command> --help" or "desync help <command>" for a command's
flags and an example.`,
		FlagSet:   rootFlags(a),
		UsageFunc: usage,
		Exec: func(_ context.Context, args []string) error {
			if len(args) > 0 {
				return usageErr("unknown command %q", args[0])
			}
			if a.version {
				writeVersion(stdio.Out)
				return nil
			}
			return flag.ErrHelp
		},
	}
	a.root = root
	byName := map[string]*command{}
	cmds = append(cmds, a.helpCmd(root, byName))
	for _, c := range cmds {
		c.UsageFunc = usage
		root.Subcommands = append(root.Subcommands, c.Command)
		byName[c.Name] = c
		exec := c.Exec
		c.Exec = func(ctx context.Context, args []string) error {
			if err := applyEnv(c.FlagSet); err != nil {
				return err
			}
			if len(args) < c.minArgs || (c.maxArgs != anyArgs && len(args) > c.maxArgs) {
				return usageErr("%s: wrong number of arguments (%d); usage: %s", c.Name, len(args), c.ShortUsage)
			}
			return exec(ctx, args)
		}
	}
	// The flag package would print problems and the whole help to the
	// flag set's output; Run reports them itself.
	root.FlagSet.SetOutput(io.Discard)
	for _, c := range cmds {
		c.FlagSet.SetOutput(io.Discard)
	}
	// Flags may follow positional arguments, as with desync's cobra
	// command line: move them in front of the positionals.
	if len(args) > 0 {
		if c, ok := byName[args[0]]; ok {
			args = append([]string{args[0]}, permute(c.FlagSet, args[1:])...)
		}
	}
	err := root.ParseAndRun(ctx, args)
	if err == nil {
		return 0
	}
	// The command the error is about: the last whose flags were parsed.
	cur := root
	for _, c := range cmds {
		if c.FlagSet.Parsed() {
			cur = c.Command
		}
	}
	var ue *UsageError
	var problem string
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdio.Out, usage(cur))
		return 0
	case errors.As(err, &ue):
		problem = err.Error()
	case isFlagError(err):
		problem = flagProblem(err, args)
	default:
		fmt.Fprintf(stdio.Err, "desync: %v\n", err)
		return 1
	}
	help := "desync --help"
	if cur != root && cur.Name != "help" {
		help = "desync " + cur.Name + " --help"
	}
	fmt.Fprintf(stdio.Err, "desync: %s\nrun '%s' for usage\n", problem, help)
	return 2
}

func rootFlags(a *app) *flag.FlagSet {
	fs := flag.NewFlagSet("desync", flag.ContinueOnError)
	fs.StringVar(&a.configPath, "config", "", "config file (default $HOME/.config/desync/config.json)")
	a.digest.add(fs)
	a.addVerbose(fs)
	fs.BoolVar(&a.version, "version", false, "show the version of desync and of its modules")
	return fs
}
