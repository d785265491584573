package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// modulePrefix is the path of every desync module but its directory.
const modulePrefix = "github.com/folbricht/desync/"

// modState is one module of modules.txt and what the release does with it.
type modState struct {
	dir      string   // directory, also the path after modulePrefix
	path     string   // module path
	lastTag  string   // highest <dir>/v* tag, "" if none
	last     string   // the version lastTag names
	next     string   // version it is released at; "" if not released
	reasons  []string // why it is released
	siblings []string // dirs of the desync modules its go.mod requires
	gomod    *modfile.File
}

// released reports whether the plan releases m.
func (m *modState) released() bool { return m.next != "" }

// version is what a sibling requires m at: the new version if released,
// else the last tag's.
func (m *modState) version() string {
	if m.released() {
		return m.next
	}
	return m.last
}

// plan is the release: every module of modules.txt, in order.
type plan struct {
	version string
	source  string // commit released from (HEAD)
	modules []*modState
}

// readModules reads modules.txt: one directory a line, # comments.
func readModules(root string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(root, "modules.txt"))
	if err != nil {
		return nil, err
	}
	var dirs []string
	seen := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if seen[line] {
			return nil, fmt.Errorf("modules.txt:%d: %s listed twice", i+1, line)
		}
		seen[line] = true
		dirs = append(dirs, line)
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("modules.txt lists no module")
	}
	return dirs, nil
}

// checkVersion refuses what cannot be a release version of these modules:
// anything but canonical vX.Y.Z[-pre] semver, and major versions 2 and up,
// which would need a /vN suffix on every module path.
func checkVersion(v string) error {
	if !semver.IsValid(v) || semver.Canonical(v) != v || semver.Build(v) != "" {
		return fmt.Errorf("version %q is not semver of the form vX.Y.Z", v)
	}
	if m := semver.Major(v); m != "v0" && m != "v1" {
		return fmt.Errorf("version %s: major version %s needs module paths ending in /%s, which these modules do not have", v, m, m)
	}
	return nil
}

// makePlan decides, from modules.txt in order, which modules are released at
// version and why. all releases every module whatever changed (the consumer
// proof uses it, so nothing resolves from the public proxy).
func makePlan(r *repo, version string, all bool) (*plan, error) {
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	head, err := r.head()
	if err != nil {
		return nil, err
	}
	dirs, err := readModules(r.dir)
	if err != nil {
		return nil, err
	}
	p := &plan{version: version, source: head}
	byPath := map[string]*modState{}
	for _, dir := range dirs {
		m := &modState{dir: dir, path: modulePrefix + dir}
		name := filepath.Join(dir, "go.mod")
		data, err := os.ReadFile(filepath.Join(r.dir, name))
		if err != nil {
			return nil, err
		}
		if m.gomod, err = modfile.Parse(name, data, nil); err != nil {
			return nil, err
		}
		if m.gomod.Module == nil || m.gomod.Module.Mod.Path != m.path {
			return nil, fmt.Errorf("%s: module path is not %s", name, m.path)
		}
		var releasedSibs []string
		for _, req := range m.gomod.Require {
			if !strings.HasPrefix(req.Mod.Path, modulePrefix) {
				continue
			}
			sib := byPath[req.Mod.Path]
			if sib == nil {
				return nil, fmt.Errorf("%s requires %s, which is not listed before %s in modules.txt", name, req.Mod.Path, dir)
			}
			m.siblings = append(m.siblings, sib.dir)
			if sib.released() {
				releasedSibs = append(releasedSibs, sib.dir)
			}
		}
		if len(releasedSibs) > 0 {
			m.reasons = append(m.reasons, "requires released "+strings.Join(releasedSibs, ", "))
		}
		if m.lastTag, m.last, err = r.lastTag(dir); err != nil {
			return nil, err
		}
		switch {
		case m.lastTag == "":
			m.reasons = append([]string{"never released"}, m.reasons...)
		case semver.Compare(version, m.last) <= 0:
			return nil, fmt.Errorf("%s: version %s is not above its last tag %s", dir, version, m.lastTag)
		default:
			src, err := r.releaseSource(m.lastTag)
			if err != nil {
				return nil, err
			}
			if src == "" {
				m.reasons = append([]string{"last tag " + m.lastTag + " names no " + sourceTrailer + " to compare with"}, m.reasons...)
				break
			}
			changed, err := r.changedSince(src, dir)
			if err != nil {
				return nil, err
			}
			if changed {
				m.reasons = append([]string{"files changed since " + m.lastTag}, m.reasons...)
			}
		}
		if all && len(m.reasons) == 0 {
			m.reasons = []string{"--all"}
		}
		if len(m.reasons) > 0 {
			m.next = version
		}
		p.modules = append(p.modules, m)
		byPath[m.path] = m
	}
	return p, nil
}

// byDir is the module of p in directory dir.
func (p *plan) byDir(dir string) *modState {
	for _, m := range p.modules {
		if m.dir == dir {
			return m
		}
	}
	return nil
}

// released lists the modules p releases, in release order.
func (p *plan) released() []*modState {
	var out []*modState
	for _, m := range p.modules {
		if m.released() {
			out = append(out, m)
		}
	}
	return out
}

// print writes the plan as --dry-run shows it.
func (p *plan) print(w interface{ Write([]byte) (int, error) }) {
	fmt.Fprintf(w, "release %s from %s\n", p.version, p.source)
	for _, m := range p.modules {
		last := m.last
		if last == "" {
			last = "(none)"
		}
		if !m.released() {
			fmt.Fprintf(w, "  %-14s %s, unchanged\n", m.dir, last)
			continue
		}
		fmt.Fprintf(w, "  %-14s %s → %s: %s\n", m.dir, last, m.next, strings.Join(m.reasons, "; "))
		if len(m.siblings) > 0 {
			var reqs []string
			for _, s := range m.siblings {
				reqs = append(reqs, s+"@"+p.byDir(s).version())
			}
			fmt.Fprintf(w, "  %-14s requires %s\n", "", strings.Join(reqs, " "))
		}
	}
}
