package calc

// Func is a function templates can call from expressions.
type Func struct {
	Name string
	// Doc is a one-line description with the signature, listed in docs/templates.md.
	Doc string
	Fn  func(args ...any) (any, error)
}

// freshResults names the functions whose results are built anew in the
// canonical forms of Normalize (numbers as float64 or int, lists as []any,
// text): an expression that is a call of one needs no normalising.
var freshResults = map[string]bool{
	"add": true, "sub": true, "scale": true, "softmax": true, "matmul": true, "transpose": true,
	"attention": true, "attention_weights": true, "attend": true, "embed": true, "decode_all": true,
	"fixed": true, "grid": true, "md_rows": true, "thousands": true, "sci": true, "pct": true,
	"decodes_uniquely": true, "distinct": true, "dot": true, "norm": true,
}

// Functions returns every function available to template expressions, in
// addition to expr-lang's builtins (abs, ceil, floor, round, min, max, sum,
// len, map, filter, …).
func Functions() []Func {
	fs := make([]Func, 0, 64)
	fs = append(fs, mathFuncs()...)
	fs = append(fs, domainFuncs()...)
	return fs
}
