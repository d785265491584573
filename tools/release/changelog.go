package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// changelog is what CHANGELOG.md holds: per module section ("## <dir>"), the
// versions it has an entry for ("### vX.Y.Z", maybe followed by a date).
type changelog map[string]map[string]bool

// readChangelog parses CHANGELOG.md at the repository root; a missing file
// is an empty changelog.
func readChangelog(root string) (changelog, error) {
	data, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	if os.IsNotExist(err) {
		return changelog{}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseChangelog(string(data)), nil
}

// parseChangelog reads the "## <dir>" and "### <version>" headings of text;
// everything else is prose for people.
func parseChangelog(text string) changelog {
	c := changelog{}
	section := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, " \t\r")
		switch {
		case strings.HasPrefix(line, "### "):
			if section == "" {
				continue
			}
			if f := strings.Fields(strings.TrimPrefix(line, "### ")); len(f) > 0 {
				c[section][f[0]] = true
			}
		case strings.HasPrefix(line, "## "):
			section = strings.TrimSpace(strings.TrimPrefix(line, "## "))
			section = strings.Trim(section, "`")
			if c[section] == nil {
				c[section] = map[string]bool{}
			}
		}
	}
	return c
}

// missing lists the released modules of p with no entry for p's version.
func (c changelog) missing(p *plan) []string {
	var out []string
	for _, m := range p.released() {
		if !c[m.dir][m.next] {
			out = append(out, m.dir)
		}
	}
	return out
}

// missingError is the refusal for modules without a changelog entry.
func missingError(version string, dirs []string) error {
	return fmt.Errorf("CHANGELOG.md has no \"### %s\" entry in the section of: %s", version, strings.Join(dirs, ", "))
}
