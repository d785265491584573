package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOneFilePerCommand: every command is defined (its commandSpec) in the
// file named after it, without dashes (config, whose name config.go the
// config file has, in configcmd.go), as the package documentation says.
func TestOneFilePerCommand(t *testing.T) {
	a := &app{log: slog.New(slog.DiscardHandler)}
	cmds := append(commands(a), a.helpCmd(nil, nil))
	defined := specNames(t)
	for _, c := range cmds {
		file := strings.ReplaceAll(c.Name, "-", "") + ".go"
		if c.Name == "config" {
			file = "configcmd.go"
		}
		if got := defined[c.Name]; got != file {
			t.Errorf("command %s is defined in %q, want %s", c.Name, got, file)
		}
	}
	if len(defined) != len(cmds) {
		t.Errorf("%d commandSpecs in the package, %d commands registered: %v", len(defined), len(cmds), defined)
	}
}

// specNames returns, for each commandSpec literal of the package's
// non-test files, its name and the file it is in.
func specNames(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if id, ok := cl.Type.(*ast.Ident); !ok || id.Name != "commandSpec" {
				return true
			}
			for _, e := range cl.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if k, isIdent := kv.Key.(*ast.Ident); !ok || !isIdent || k.Name != "name" {
					continue
				}
				lit, ok := kv.Value.(*ast.BasicLit)
				if !ok {
					t.Errorf("%s: a commandSpec name that is not a string literal", fset.Position(kv.Pos()))
					continue
				}
				name, _ := strconv.Unquote(lit.Value)
				names[name] = fset.Position(lit.Pos()).Filename
			}
			return true
		})
	}
	return names
}
