package calc

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update", false, "rewrite docs/functions.md")

// TestFunctionsDoc keeps docs/functions.md true to Functions(): run with
// -update after adding or changing a function.
func TestFunctionsDoc(t *testing.T) {
	fs := Functions()
	sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	var b strings.Builder
	b.WriteString("# Functions for template expressions\n\n")
	b.WriteString("Besides expr-lang's builtins (`abs`, `ceil`, `floor`, `round`, `min`, `max`, `sum`, `mean`,\n")
	b.WriteString("`len`, `map`, `filter`, `all`, `any`, `count`, `sort`, `join`, …; the clock builtins are\n")
	b.WriteString("disabled), template expressions can call these. Generated from the code by\n")
	b.WriteString("`go test ./calc -run FunctionsDoc -update`.\n\n")
	b.WriteString("| function | what it does |\n|---|---|\n")
	for _, f := range fs {
		sig, desc, ok := strings.Cut(f.Doc, " — ")
		if !ok {
			t.Errorf("%s: Doc %q is not \"signature — description\"", f.Name, f.Doc)
		}
		b.WriteString("| `" + sig + "` | " + strings.ReplaceAll(desc, "|", "\\|") + " |\n")
	}
	path := filepath.Join("..", "docs", "functions.md")
	if *updateDocs {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != b.String() {
		t.Errorf("docs/functions.md is out of date: run go test ./calc -run FunctionsDoc -update")
	}
}
