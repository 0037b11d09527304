package grader

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/marksmith/marksmith/calc"
)

// Part is one answer spec compiled for parsing and scoring, without its
// follow expression (which needs the question's other parts and its
// parameters). It is never changed once compiled, so one Part may serve
// every question that has the same spec — a cohort's variants of a
// template share most of their parts — on any goroutine.
type Part struct{ p part }

// CompilePart validates and compiles one spec. Errors name the part, as
// Compile's do.
func CompilePart(s *Spec) (*Part, error) {
	cp := &Part{}
	if err := cp.p.compile(s, false); err != nil {
		return nil, fmt.Errorf("part %q: %w", s.Part, err)
	}
	return cp, nil
}

// Parse reads a raw answer as Parse does for the part's spec.
func (cp *Part) Parse(raw string) (any, error) {
	return cp.p.parseRaw(raw)
}

// Follow expressions are compiled once for each expression and each set
// of parameter and answer types: calc.Compile sees only the types of the
// names in its environment, never their values, so the program compiled
// for one student's parameters serves every student whose parameters have
// the same types — and a cohort's follow expressions were otherwise
// compiled once per student. Compiled programs are safe for concurrent
// use. Up to maxCachedFollows are kept.
var (
	followCache sync.Map // string (expression and environment types) → *calc.Program
	followCount atomic.Int64
	typeIDs     sync.Map // reflect.Type → int
	typeCount   atomic.Int64
)

const maxCachedFollows = 20000

// compileFollowProgram compiles a follow expression against env, or
// returns the program compiled before for the same expression and the
// same types of env's names.
func compileFollowProgram(src string, env calc.Env) (*calc.Program, error) {
	key := append(strconv.AppendInt(nil, int64(len(src)), 10), ':')
	key = envTypesKey(append(key, src...), env)
	if p, ok := followCache.Load(string(key)); ok {
		return p.(*calc.Program), nil
	}
	prog, err := calc.Compile(src, env)
	if err == nil && followCount.Add(1) <= maxCachedFollows {
		followCache.Store(string(key), prog)
	}
	return prog, err
}

// envTypesKey appends to b what the checker sees of env (see calc's
// envTypes): each name, in order, with its value's type — a nil value
// is of any type, a map of names is a record of them, recursively.
// Names are written with their length, so no name can run into the next.
func envTypesKey(b []byte, env map[string]any) []byte {
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	slices.Sort(names)
	b = append(b, '{')
	for _, k := range names {
		b = strconv.AppendInt(b, int64(len(k)), 10)
		b = append(b, ':')
		b = append(b, k...)
		switch x := env[k].(type) {
		case nil:
			b = append(b, '?')
		case map[string]any:
			b = envTypesKey(b, x)
		case calc.Env:
			b = envTypesKey(b, x)
		default:
			b = append(b, '#')
			b = strconv.AppendInt(b, typeID(reflect.TypeOf(x)), 10)
		}
		b = append(b, ';')
	}
	return append(b, '}')
}

// typeID numbers Go types, each once, so that a key names a type exactly.
func typeID(t reflect.Type) int64 {
	if id, ok := typeIDs.Load(t); ok {
		return id.(int64)
	}
	id, _ := typeIDs.LoadOrStore(t, typeCount.Add(1))
	return id.(int64)
}
