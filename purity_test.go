package marksmith_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// corePackages are the pure grading core: no I/O, no clock, no global
// random source, no database or HTTP.
var corePackages = []string{"calc", "variants", "grader", "bank", "bulk", "moodle", "papercode"}

// TestCoreIsPure checks the core's own imports and calls, and that nothing
// it depends on, however indirectly, is a database, HTTP or network package.
func TestCoreIsPure(t *testing.T) {
	deniedImports := map[string]string{
		"os": "I/O", "io/ioutil": "I/O", "net": "network", "net/http": "HTTP", "database/sql": "a database",
		"time": "the clock", "math/rand": "the global random source", "syscall": "I/O", "os/exec": "I/O",
		"log": "I/O", "log/slog": "I/O",
	}
	for _, pkg := range corePackages {
		files, _ := filepath.Glob(filepath.Join(pkg, "*.go"))
		if len(files) == 0 {
			t.Fatalf("no Go files in %s", pkg)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range file.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if why, bad := deniedImports[path]; bad {
					t.Errorf("%s imports %s (%s)", fset.Position(imp.Pos()), path, why)
				}
				if strings.Contains(path, "gorm") || strings.Contains(path, "fiber") || strings.Contains(path, "pgx") || strings.Contains(path, "sqlite") {
					t.Errorf("%s imports %s", fset.Position(imp.Pos()), path)
				}
			}
			full, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(full, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "rand" && sel.Sel.Name != "NewPCG" && sel.Sel.Name != "PCG" {
					t.Errorf("%s uses rand.%s: only a seeded PCG may be used", fset.Position(sel.Pos()), sel.Sel.Name)
				}
				return true
			})
		}
	}
	args := append([]string{"list", "-deps"}, prefixed(corePackages)...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "net/url" || dep == "net/netip":
			// String parsers that open nothing: moodle's Markdown renderer
			// (goldmark) escapes link addresses with net/url.
		case dep == "net" || strings.HasPrefix(dep, "net/") || dep == "database/sql" || strings.HasPrefix(dep, "database/sql/"),
			strings.Contains(dep, "gorm.io"), strings.Contains(dep, "gofiber"), strings.Contains(dep, "jackc/pgx"), strings.Contains(dep, "sqlite"):
			t.Errorf("the core depends on %s", dep)
		}
	}
}

func prefixed(pkgs []string) []string {
	out := make([]string, len(pkgs))
	for i, p := range pkgs {
		out[i] = "./" + p
	}
	return out
}
