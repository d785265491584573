package cli

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"text/tabwriter"
)

// Version is the version desync reports. Release builds stamp it with
// -ldflags "-X github.com/folbricht/desync/cli.Version=v1.2.3"; left
// empty, it is the cli module's version from the build information (a
// tag for "go install …@v1.2.3", "(devel)" in a clone).
var Version string

// modulePrefix is the path every desync module starts with.
const modulePrefix = "github.com/folbricht/desync/"

// versionCmd is "desync version", also "desync --version".
func (a *app) versionCmd() *command {
	c := a.newCommand(commandSpec{
		name:  "version",
		usage: "desync version",
		short: "show the version of desync and of each of its modules",
		long: `Prints desync's version, then the Go version and source revision it was
built from and the version of each desync module in the binary. The same as
"desync --version".

Example:
  desync version`,
	})
	c.Exec = func(context.Context, []string) error {
		writeVersion(a.io.Out)
		return nil
	}
	return c
}

// writeVersion writes what "desync version" prints.
func writeVersion(w io.Writer) {
	info, ok := debug.ReadBuildInfo()
	v := Version
	if v == "" && ok {
		v = info.Main.Version
	}
	if v == "" {
		v = "(unknown)"
	}
	fmt.Fprintf(w, "desync %s\n", v)
	if !ok {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintf(tw, "  go\t%s\n", info.GoVersion)
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		fmt.Fprintf(tw, "  revision\t%s\n", rev)
	}
	if info.Main.Path != "" {
		fmt.Fprintf(tw, "  %s\t%s\n", info.Main.Path, info.Main.Version)
	}
	for _, m := range info.Deps {
		if !strings.HasPrefix(m.Path, modulePrefix) {
			continue
		}
		mv := m.Version
		if m.Replace != nil {
			mv = m.Replace.Version
			if mv == "" {
				mv = "=> " + m.Replace.Path
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\n", m.Path, mv)
	}
	tw.Flush()
}
