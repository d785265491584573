package cli

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/peterbourgon/ff/v3/ffcli"
)

// usage prints a command's help with each flag's aliases on one line
// ("-s, --store"), short names with one dash and long names with two.
func usage(c *ffcli.Command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "USAGE\n  %s\n\n", c.ShortUsage)
	if c.ShortHelp != "" {
		fmt.Fprintf(&b, "%s\n\n", c.ShortHelp)
	}
	if c.LongHelp != "" {
		fmt.Fprintf(&b, "%s\n\n", c.LongHelp)
	}
	tw := tabwriter.NewWriter(&b, 0, 2, 2, ' ', 0)
	if len(c.Subcommands) > 0 {
		fmt.Fprintln(&b, "COMMANDS")
		for _, sc := range c.Subcommands {
			fmt.Fprintf(tw, "  %s\t%s\n", sc.Name, sc.ShortHelp)
		}
		tw.Flush()
		fmt.Fprintln(&b)
	}
	if groups := flagGroups(c.FlagSet); len(groups) > 0 {
		fmt.Fprintln(&b, "FLAGS")
		for _, g := range groups {
			arg := " value"
			if !g.takesValue() {
				arg = ""
			}
			def := ""
			if g.f.DefValue != "" && g.f.DefValue != "false" {
				def = fmt.Sprintf(" (default %s)", g.f.DefValue)
			}
			env := ""
			if vars := g.envVars(); len(vars) > 0 {
				env = " [$" + strings.Join(vars, ", $") + "]"
			}
			fmt.Fprintf(tw, "  %s%s\t%s%s%s\n", strings.Join(g.dashed(), ", "), arg, g.f.Usage, def, env)
		}
		tw.Flush()
	}
	return b.String()
}

// flagGroup is one flag and its aliases (the names sharing its Value), as
// help, completion scripts and man pages show it.
type flagGroup struct {
	names []string // shortest first
	f     *flag.Flag
}

// flagGroups returns the flags of fs, aliases grouped, in the flag set's
// order.
func flagGroups(fs *flag.FlagSet) []*flagGroup {
	var groups []*flagGroup
	byValue := map[flag.Value]*flagGroup{}
	fs.VisitAll(func(f *flag.Flag) {
		if g, ok := byValue[f.Value]; ok {
			g.names = append(g.names, f.Name)
			return
		}
		g := &flagGroup{names: []string{f.Name}, f: f}
		byValue[f.Value] = g
		groups = append(groups, g)
	})
	for _, g := range groups {
		slices.SortStableFunc(g.names, func(x, y string) int { return len(x) - len(y) })
	}
	return groups
}

// dashed returns the names as typed: one dash for a letter, two otherwise.
func (g *flagGroup) dashed() []string {
	names := make([]string, len(g.names))
	for i, n := range g.names {
		names[i] = "-" + n
		if len(n) > 1 {
			names[i] = "--" + n
		}
	}
	return names
}

// takesValue reports whether the flag needs a value (it is not boolean).
func (g *flagGroup) takesValue() bool {
	bf, ok := g.f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !bf.IsBoolFlag()
}
