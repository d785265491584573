package main

import (
	"fmt"
	"strings"

	"golang.org/x/mod/modfile"
)

// releasedGoMod is m's go.mod as released: every sibling requirement at the
// sibling's released version (p decides which) and no replace directive.
// Only replaces of siblings are expected on main; any other is refused, as
// a module installed with `go install …@version` may carry none.
func releasedGoMod(p *plan, m *modState) ([]byte, error) {
	data, err := m.gomod.Format()
	if err != nil {
		return nil, err
	}
	f, err := modfile.Parse(m.dir+"/go.mod", data, nil)
	if err != nil {
		return nil, err
	}
	for _, req := range f.Require {
		if !strings.HasPrefix(req.Mod.Path, modulePrefix) {
			continue
		}
		sib := p.byDir(strings.TrimPrefix(req.Mod.Path, modulePrefix))
		if sib == nil || sib.version() == "" {
			return nil, fmt.Errorf("%s requires %s, which has no released version", m.dir, req.Mod.Path)
		}
		if err := f.AddRequire(req.Mod.Path, sib.version()); err != nil {
			return nil, err
		}
	}
	for _, rep := range append([]*modfile.Replace(nil), f.Replace...) {
		if !strings.HasPrefix(rep.Old.Path, modulePrefix) {
			return nil, fmt.Errorf("%s/go.mod replaces %s, a module that is not a sibling; a release carries no replace", m.dir, rep.Old.Path)
		}
		if err := f.DropReplace(rep.Old.Path, rep.Old.Version); err != nil {
			return nil, err
		}
	}
	f.Cleanup()
	return f.Format()
}
