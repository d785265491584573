package cli

import (
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// isFlagError reports an error from parsing flags.
func isFlagError(err error) bool {
	return strings.HasPrefix(err.Error(), "error parsing commandline arguments: ")
}

// flagErrRE takes apart the flag package's messages that name a flag (as
// "-name" whatever the user typed), with the value when there is one.
var flagErrRE = regexp.MustCompile(`^(flag provided but not defined:|flag needs an argument:|invalid boolean value ("(?:[^"\\]|\\.)*") for|invalid value ("(?:[^"\\]|\\.)*") for flag) -([^\s:]+)(: .*)?$`)

// flagProblem rewords a flag parsing error of the command line args, naming
// the flag as it was typed there ("--frobnicate", not "-frobnicate").
func flagProblem(err error, args []string) string {
	msg := strings.TrimPrefix(err.Error(), "error parsing commandline arguments: ")
	m := flagErrRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	quoted, name, detail := m[2]+m[3], m[4], m[5]
	value, hasValue := "", quoted != ""
	if hasValue {
		value, _ = strconv.Unquote(quoted)
	}
	typed := typedFlag(args, name, value, hasValue)
	switch {
	case strings.HasPrefix(m[1], "flag provided"):
		return "unknown flag " + typed
	case strings.HasPrefix(m[1], "flag needs"):
		return "flag " + typed + " needs a value"
	}
	return fmt.Sprintf("invalid value %s for %s%s", quoted, typed, detail)
}

// typedFlag returns the flag name as given in args: with one dash or two,
// as typed; of several uses, the one with value when it has one.
// Spellings not found get desync's: "-x", "--long".
func typedFlag(args []string, name, value string, hasValue bool) string {
	found := ""
	for i, a := range args {
		if a == "--" {
			break
		}
		dashes := a[:len(a)-len(strings.TrimLeft(a, "-"))]
		if dashes == "" || len(dashes) > 2 {
			continue
		}
		n, v, inline := strings.Cut(a[len(dashes):], "=")
		if n != name {
			continue
		}
		if !inline && i+1 < len(args) {
			v = args[i+1]
		}
		if !hasValue || v == value {
			return dashes + name
		}
		if found == "" {
			found = dashes + name
		}
	}
	if found != "" {
		return found
	}
	return flagName(name)
}

// flagName spells a flag as desync does: "-x", "--long".
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
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
		if i+1 == len(args) {
			// No value: leave the flag last, for the flag package to
			// report, rather than give it the "--" below.
			return flags
		}
		i++
		flags = append(flags, args[i])
	}
	return append(append(flags, "--"), pos...)
}
