package cli

import (
	"flag"
	"os"
	"strings"
)

// Every long flag can also be given in the environment, as containers and
// systemd units expect: DESYNC_ and the flag's name in upper case with
// dashes as underscores (--store is DESYNC_STORE, --error-retry
// DESYNC_ERROR_RETRY). A flag on the command line wins over its variable,
// and a variable over config.json (which only fills what no flag set). A
// list flag takes a comma-separated list, as on the command line.
//
// ff/v3's own environment option is not used: it binds a variable to every
// name of a flag (DESYNC_S beside DESYNC_STORE) and applies DESYNC_STORE on
// top of a -s given on the command line, adding to the list instead of
// leaving it alone.

// envPrefix starts the variable of every flag.
const envPrefix = "DESYNC_"

// envExempt are flags without a variable: --encryption-key, because
// DESYNC_ENCRYPTION_KEY is the key of stores that enable encryption and on
// its own never enables it, whereas --encryption-key implies --encryption;
// --version, which only "desync --version" has.
var envExempt = map[string]bool{"encryption-key": true, "version": true}

// envVar returns the variable of the flag name, or "" if it has none (a
// one-letter alias, or an exempt flag).
func envVar(name string) string {
	if len(name) < 2 || envExempt[name] {
		return ""
	}
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// envVars returns the variables of a flag's names.
func (g *flagGroup) envVars() []string {
	var vars []string
	for _, n := range g.names {
		if v := envVar(n); v != "" {
			vars = append(vars, v)
		}
	}
	return vars
}

// applyEnv sets every flag of fs that the command line did not set, by
// any of its names, from the first of its variables that is set.
func applyEnv(fs *flag.FlagSet) error {
	given := map[flag.Value]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Value] = true })
	for _, g := range flagGroups(fs) {
		if given[g.f.Value] {
			continue
		}
		for _, v := range g.envVars() {
			val, ok := os.LookupEnv(v)
			if !ok {
				continue
			}
			if err := fs.Set(g.f.Name, val); err != nil {
				return usageErr("invalid value %q of %s: %v", val, v, err)
			}
			break
		}
	}
	return nil
}
