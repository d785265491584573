package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

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
	minArgs, maxArgs int
}

// Run executes the desync command line args (without the program name) and
// returns the process exit status: 0 on success, 1 when the work failed, 2 for
// usage errors. ctx cancels the work (main wires it to SIGINT/SIGTERM).
func Run(ctx context.Context, args []string, io Stdio) int {
	a := &app{io: io, log: slog.New(slog.NewTextHandler(io.Err, &slog.HandlerOptions{Level: slog.LevelWarn}))}
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

Run "desync <command> --help" for a command's flags and an example.`,
		FlagSet:   rootFlags(a),
		UsageFunc: usage,
		Exec: func(_ context.Context, args []string) error {
			if len(args) > 0 {
				return usageErr("unknown command %q; run desync --help for the list", args[0])
			}
			return flag.ErrHelp
		},
	}
	byName := map[string]*command{}
	for _, c := range cmds {
		c.FlagSet.SetOutput(io.Err)
		c.UsageFunc = usage
		root.Subcommands = append(root.Subcommands, c.Command)
		byName[c.Name] = c
		exec := c.Exec
		c.Exec = func(ctx context.Context, args []string) error {
			if len(args) < c.minArgs || (c.maxArgs >= 0 && len(args) > c.maxArgs) {
				return usageErr("%s: wrong number of arguments (%d); usage: %s", c.Name, len(args), c.ShortUsage)
			}
			return exec(ctx, args)
		}
	}
	root.FlagSet.SetOutput(io.Err)
	// Flags may follow positional arguments, as with desync's cobra
	// command line: move them in front of the positionals.
	if len(args) > 0 {
		if c, ok := byName[args[0]]; ok {
			args = append([]string{args[0]}, permute(c.FlagSet, args[1:])...)
		}
	}
	err := root.ParseAndRun(ctx, args)
	var ue *UsageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(io.Err, "desync: %v\n", err)
		return 2
	case isFlagError(err):
		// The flag package has printed the problem and the usage already.
		return 2
	}
	fmt.Fprintf(io.Err, "desync: %v\n", err)
	return 1
}

func rootFlags(a *app) *flag.FlagSet {
	fs := flag.NewFlagSet("desync", flag.ContinueOnError)
	fs.StringVar(&a.configPath, "config", "", "config file (default $HOME/.config/desync/config.json)")
	a.digest.add(fs)
	return fs
}

// isFlagError reports an error from parsing flags, which the flag package
// has already printed together with the usage.
func isFlagError(err error) bool {
	return strings.Contains(err.Error(), "error parsing commandline arguments")
}

// permute reorders args so that flags (with their values) come before the
// positional arguments, keeping the relative order within each group. A "--"
// ends flag parsing, as does a lone "-" only as a positional.
func permute(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // let the flag package report it
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return append(append(flags, "--"), pos...)
}

// openInput opens a file argument; "-" is stdin. Reads from stdin end with
// the context's error when ctx is cancelled, even while blocked on a pipe or
// terminal that sends nothing.
func openInput(ctx context.Context, name string, stdin io.Reader) (io.ReadCloser, error) {
	if name != "-" {
		return os.Open(name)
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, stdin)
		pw.CloseWithError(err)
	}()
	stop := context.AfterFunc(ctx, func() { pw.CloseWithError(context.Cause(ctx)) })
	return readCloser{pr, func() error { stop(); return pr.Close() }}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }
