package main

import (
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

// planOf is a plan of modules given as dir → go.mod text, released at next
// when next is set, else left at last.
func planOf(t *testing.T, last, next string, gomods ...[2]string) *plan {
	t.Helper()
	p := &plan{version: next}
	for _, g := range gomods {
		f, err := modfile.Parse(g[0]+"/go.mod", []byte(g[1]), nil)
		if err != nil {
			t.Fatal(err)
		}
		p.modules = append(p.modules, &modState{dir: g[0], path: modulePrefix + g[0], last: last, next: next, gomod: f})
	}
	return p
}

func TestReleasedGoMod(t *testing.T) {
	p := planOf(t, "v0.1.0", "", [2]string{"a", "module github.com/folbricht/desync/a\n"})
	p.modules[0].next = "v0.2.0"
	p.modules = append(p.modules, planOf(t, "v0.1.0", "", [2]string{"b", "module github.com/folbricht/desync/b\n"}).modules...)
	cli := planOf(t, "", "v0.2.0", [2]string{"c", `module github.com/folbricht/desync/c

go 1.24

require (
	github.com/folbricht/desync/a v0.0.0
	github.com/folbricht/desync/b v0.0.0
	golang.org/x/sys v0.49.0
)

replace github.com/folbricht/desync/a => ../a

replace github.com/folbricht/desync/b => ../b
`})
	p.modules = append(p.modules, cli.modules...)
	data, err := releasedGoMod(p, p.modules[2])
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	for _, want := range []string{
		"github.com/folbricht/desync/a v0.2.0", // released now
		"github.com/folbricht/desync/b v0.1.0", // unchanged: its last tag
		"golang.org/x/sys v0.49.0",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("released go.mod lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "replace") || strings.Contains(got, "v0.0.0") {
		t.Errorf("released go.mod keeps a replace or a v0.0.0:\n%s", got)
	}
	if err := checkTidied(p, p.modules[2], data); err != nil {
		t.Errorf("checkTidied of the released go.mod: %v", err)
	}
	if err := checkTidied(p, p.modules[2], append(data, "replace github.com/folbricht/desync/a => ../a\n"...)); err == nil {
		t.Error("checkTidied accepts a replace")
	}

	// A replace of a third-party module cannot be released.
	third := planOf(t, "", "v0.2.0", [2]string{"d", "module github.com/folbricht/desync/d\n\nrequire golang.org/x/sys v0.49.0\n\nreplace golang.org/x/sys => ../sys\n"})
	if _, err := releasedGoMod(third, third.modules[0]); err == nil || !strings.Contains(err.Error(), "not a sibling") {
		t.Errorf("a third-party replace: %v, want a refusal", err)
	}
}
