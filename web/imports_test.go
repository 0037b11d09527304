package web

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsOnlyTheDomain keeps the pages a front end: they call the
// services of the root package and never the grading core, the service
// implementations or storage (their tests may use the bank for a real
// paper). Internal packages of text helpers that know no domain are
// allowed.
// textHelpers are the internal packages the pages may import.
var textHelpers = map[string]bool{"github.com/marksmith/marksmith/internal/mathtext": true}

func TestImportsOnlyTheDomain(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "github.com/marksmith/marksmith/") && !textHelpers[p] {
				t.Errorf("%s imports %s: the pages may import only the root package", f, p)
			}
		}
		checked++
	}
	if checked < 10 {
		t.Errorf("only %d files checked", checked)
	}
}
