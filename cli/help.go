package cli

import (
	"context"
	"fmt"

	"github.com/peterbourgon/ff/v3/ffcli"
)

// helpCmd is "desync help [command]": the help of desync or of a command,
// as --help prints it.
func (a *app) helpCmd(root *ffcli.Command, byName map[string]*command) *command {
	c := a.newCommand(commandSpec{
		name:    "help",
		usage:   "desync help [<command>]",
		minArgs: 0,
		maxArgs: 1,
		short:   "show the help of desync or of a command",
		long: `Prints the help of <command>, the same as "desync <command> --help", or
without one the list of commands, the same as "desync --help".

Example:
  desync help extract`,
	})
	c.Exec = func(_ context.Context, args []string) error {
		if len(args) == 0 {
			fmt.Fprint(a.io.Out, usage(root))
			return nil
		}
		sc, ok := byName[args[0]]
		if !ok {
			return usageErr("help: unknown command %q", args[0])
		}
		fmt.Fprint(a.io.Out, usage(sc.Command))
		return nil
	}
	return c
}
