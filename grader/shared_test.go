package grader

import (
	"reflect"
	"strings"
	"testing"
)

// allTypes is one valid spec of every type, each its own part, and
// answers to them: right, wrong, unreadable and blank.
func allTypes() ([]Spec, []map[string]string) {
	var specs []Spec
	for _, typ := range Types() {
		s := validSpec(typ)
		s.Part = string(typ)
		specs = append(specs, s)
	}
	return specs, []map[string]string{
		{"number": "1.73408256e8", "integer": "12", "choice": "b", "multi": "D, B", "text": "Embedding.", "essay": "Vanishing gradients.",
			"sequence": "1111, 0001", "table": "1, 2; 3, 5", "points": "d12: cat (1, 2), dog (3, 4); d34: cat (-1, 0.5), dog (9, 9)"},
		{"number": "12", "integer": "13", "choice": "a", "multi": "A", "text": "nothing", "essay": "no idea", "sequence": "0001",
			"table": "0, 0; 0, 0", "points": "d12: cat (0, 0)"},
		{"number": "twelve", "integer": "1.5", "choice": "q", "multi": "Z", "sequence": ",,", "table": "1; x", "points": "cat"},
		{},
	}
}

// A question compiled from shared parts grades as one compiled whole, and
// a part parses as Parse does.
func TestCompileParts(t *testing.T) {
	specs, answers := allTypes()
	whole, err := Compile(specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	parts := make([]*Part, len(specs))
	for i := range specs {
		if parts[i], err = CompilePart(&specs[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, mix := range [][]*Part{parts, nil, {parts[0], nil, parts[2], nil, parts[4], nil, parts[6], nil, parts[8]}} {
		q, err := CompileParts(specs, mix, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range answers {
			if got, want := q.Grade(a), whole.Grade(a); !reflect.DeepEqual(got, want) {
				t.Errorf("answers %v:\ngot  %+v\nwant %+v", a, got, want)
			}
		}
	}
	for i := range specs {
		for _, a := range answers {
			got, gotErr := parts[i].Parse(a[specs[i].Part])
			want, wantErr := Parse(&specs[i], a[specs[i].Part])
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotErr, wantErr) {
				t.Errorf("%s: Part.Parse(%q) = %v, %v; Parse = %v, %v", specs[i].Part, a[specs[i].Part], got, gotErr, want, wantErr)
			}
		}
	}

	// A part is checked against its spec; a bad spec is refused as Compile
	// refuses it.
	if _, err := CompileParts(specs, parts[:3], nil); err == nil {
		t.Error("CompileParts with too few parts: no error")
	}
	swapped := append([]*Part{parts[1], parts[0]}, parts[2:]...)
	if _, err := CompileParts(specs, swapped, nil); err == nil || !strings.Contains(err.Error(), `part "number": compiled part is of part "integer"`) {
		t.Errorf("CompileParts with swapped parts: %v", err)
	}
	bad := Spec{Part: "x", Type: Number, Marks: 1, Key: "many"}
	_, err1 := CompilePart(&bad)
	_, err2 := Compile([]Spec{bad}, nil)
	if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
		t.Errorf("CompilePart: %v; Compile: %v", err1, err2)
	}
}

// One compiled part serves questions whose follow rules read different
// parameters: each question carries its own rule.
func TestCompilePartsFollow(t *testing.T) {
	specs := cnn(2)
	d, err := CompilePart(&specs[0])
	if err != nil {
		t.Fatal(err)
	}
	f, err := CompilePart(&specs[2])
	if err != nil {
		t.Fatal(err)
	}
	q, err := CompileParts(specs, []*Part{d, nil, f, nil}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// d and e wrong, f right for them: 2 marks carried forward.
	rs := q.Grade(map[string]string{"d": "200000000", "e": "15253504", "f": "184746496"})
	if rs[2].Rule != RuleECF || rs[2].Score != 2 {
		t.Errorf("f: %+v", rs[2])
	}
	if f.p.follow != nil || len(f.p.refs) != 0 {
		t.Error("compiling a question changed the shared part")
	}
}

// Follow programs are shared between questions whose parameters have the
// same types, and compiled anew for other types.
func TestFollowProgramsByType(t *testing.T) {
	spec := func(key float64) []Spec {
		return []Spec{
			{Part: "a", Type: Number, Marks: 1, Key: 1.0},
			{Part: "b", Type: Number, Marks: 2, Key: key, Follow: "ans.a * k"},
		}
	}
	grade := func(k any, key float64, a, b string) Result {
		t.Helper()
		q, err := Compile(spec(key), map[string]any{"k": k, "name": "x"})
		if err != nil {
			t.Fatal(err)
		}
		return q.Grade(map[string]string{"a": a, "b": b})[1]
	}
	// An int k and a float k: each question carries forward with its own.
	if r := grade(3, 3, "2", "6"); r.Rule != RuleECF || r.Score != 2 {
		t.Errorf("int k: %+v", r)
	}
	if r := grade(2.5, 2.5, "2", "5"); r.Rule != RuleECF || r.Score != 2 {
		t.Errorf("float k: %+v", r)
	}
	if r := grade(4, 4, "2", "8"); r.Rule != RuleECF || r.Score != 2 {
		t.Errorf("int k again: %+v", r)
	}
	// A string k is not compiled with the int k's program: the expression
	// does not type check.
	if _, err := Compile(spec(1), map[string]any{"k": "3", "name": "x"}); err == nil {
		t.Error("string k: compiled")
	}

	a := envTypesKey(nil, map[string]any{"k": 3, "m": map[string]any{"x": 1.5, "y": nil}})
	b := envTypesKey(nil, map[string]any{"k": 7, "m": map[string]any{"x": 0.5, "y": nil}})
	c := envTypesKey(nil, map[string]any{"k": 7.0, "m": map[string]any{"x": 0.5, "y": nil}})
	d := envTypesKey(nil, map[string]any{"k": 7, "m": map[string]any{"x": 0.5, "y": 1}})
	e := envTypesKey(nil, map[string]any{"k": 7, "m": map[string]any{"x": 0.5, "y": nil}, "z": 1})
	if string(a) != string(b) {
		t.Errorf("same types, keys %s and %s", a, b)
	}
	for _, other := range [][]byte{c, d, e} {
		if string(other) == string(a) {
			t.Errorf("other types, same key %s", a)
		}
	}
}
