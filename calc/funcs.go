package calc

// Func is a function templates can call from expressions.
type Func struct {
	Name string
	// Doc is a one-line description with the signature, listed in docs/templates.md.
	Doc string
	Fn  func(args ...any) (any, error)
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
