package variants

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/marksmith/marksmith/calc"
)

func mustCompile(t *testing.T, src string, names ...string) *calc.Program {
	t.Helper()
	env := calc.Env{}
	for _, n := range names {
		env[n] = nil
	}
	p, err := calc.Compile(src, env)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testGenerator(t *testing.T) *Generator {
	return &Generator{
		Params: []Param{
			{Name: "a", Kind: Choice, Values: []any{1, 2, 3}},
			{Name: "b", Kind: IntRange, Lo: 10, Hi: 20, Step: 5},
			{Name: "x", Kind: RealRange, Lo: 0.1, Hi: 0.3, Step: 0.1},
			{Name: "s", Kind: Sample, Values: []any{"p", "q", "r", "t"}, K: 2},
			{Name: "o", Kind: Shuffle, Values: []any{0, 1, 2}},
			{Name: "c", Kind: Const, Value: 100},
			{Name: "d", Kind: Derived, Expr: mustCompile(t, "a * b + c", "a", "b", "c")},
		},
		Constraints: []Constraint{{Expr: mustCompile(t, "d != 115", "d"), Reason: "no 115"}},
		Canonical:   map[string]any{"a": 2, "b": 15, "x": 0.2, "s": []any{"p", "q"}, "o": []any{0, 1, 2}},
	}
}

func TestDrawIsDeterministicAndInRange(t *testing.T) {
	g := testGenerator(t)
	for seed := uint64(1); seed < 300; seed++ {
		v1, err := g.Draw(seed)
		if err != nil {
			t.Fatal(err)
		}
		v2, _ := g.Draw(seed)
		if g.Fingerprint(v1) != g.Fingerprint(v2) {
			t.Fatalf("seed %d drew %v then %v", seed, v1, v2)
		}
		b := v1["b"].(int)
		if b != 10 && b != 15 && b != 20 {
			t.Fatalf("b = %d, not on the grid 10, 15, 20", b)
		}
		x := v1["x"].(float64)
		if x != 0.1 && x != 0.2 && x != 0.3 {
			t.Fatalf("x = %v, not a clean grid value", x)
		}
		s := v1["s"].([]any)
		if len(s) != 2 || s[0] == s[1] {
			t.Fatalf("sample = %v", s)
		}
		if v1["d"] == 115 {
			t.Fatalf("seed %d broke the constraint: %v", seed, v1)
		}
		if v1["d"] != v1["a"].(int)*b+100 {
			t.Fatalf("derived d = %v for %v", v1["d"], v1)
		}
		if msgs := (&Generator{Params: g.Params, Canonical: v1}).CheckCanonical(); len(msgs) != 0 {
			t.Fatalf("seed %d drew values outside their ranges: %v", seed, msgs)
		}
	}
}

// TestDrawPinned pins the values of a few seeds: a change here changes
// every issued paper that is regenerated rather than read from storage.
func TestDrawPinned(t *testing.T) {
	g := testGenerator(t)
	want := map[uint64]string{
		1: "a=3;b=20;x=0.1;s=r, p;o=2, 0, 1;",
		2: "a=2;b=20;x=0.1;s=t, q;o=0, 1, 2;",
		3: "a=2;b=15;x=0.3;s=q, r;o=1, 0, 2;",
	}
	for seed, w := range want {
		v, err := g.Draw(seed)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Fingerprint(v); got != w {
			t.Errorf("seed %d drew %s, want %s", seed, got, w)
		}
	}
	if got := Seed(7, "u3004567", "dasc7606/q6"); got != Seed(7, "u3004567", "dasc7606/q6") || got == Seed(7, "u3004568", "dasc7606/q6") || got == Seed(8, "u3004567", "dasc7606/q6") {
		t.Fatal("Seed does not separate its inputs")
	}
	if got, want := Seed(1, "a", "b"), uint64(0xcd6b5e5a5c1b5439); got != want {
		t.Errorf("Seed(1, a, b) = %#x, want %#x (the seed hash must never change)", got, want)
	}
}

func TestCanonical(t *testing.T) {
	g := testGenerator(t)
	v, err := g.Draw(0)
	if err != nil {
		t.Fatal(err)
	}
	if v["a"] != 2 || v["b"] != 15 || v["d"] != 130 {
		t.Fatalf("canonical = %v", v)
	}
	g.Canonical["a"] = 1 // 1*15+100 = 115 breaks the constraint
	if _, err := g.Draw(0); err == nil {
		t.Fatal("a canonical variant breaking a constraint was accepted")
	}
	g.Canonical["a"] = 7
	if msgs := g.CheckCanonical(); msgs["a"] == "" {
		t.Fatal("a canonical value outside the choices was accepted")
	}
}

func TestConstraintError(t *testing.T) {
	g := testGenerator(t)
	g.Constraints = append(g.Constraints, Constraint{Expr: mustCompile(t, "a > 5", "a"), Reason: "impossible"})
	g.MaxTries = 50
	_, err := g.Draw(9)
	var ce *ConstraintError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a ConstraintError", err)
	}
	if ce.Tries != 50 || len(ce.Counts) == 0 || ce.Counts[0].Expr != "a > 5" {
		t.Fatalf("constraint error = %+v", ce)
	}
}

func TestCohortDistinct(t *testing.T) {
	g := testGenerator(t)
	// The space: 3 a × 3 b × 3 x × 12 s × 6 o = 1944 before the constraint.
	students := make([]string, 200)
	for i := range students {
		students[i] = "s" + strconv.Itoa(i)
	}
	c, err := g.DrawCohort(5, "t", students, 8)
	if err != nil {
		t.Fatal(err)
	}
	if c.Distinct != 200 || c.Exhausted {
		t.Fatalf("200 students in a space of ~1900: %d distinct, exhausted %v", c.Distinct, c.Exhausted)
	}
	again, _ := g.DrawCohort(5, "t", students, 8)
	for i := range c.Seeds {
		if c.Seeds[i] != again.Seeds[i] {
			t.Fatal("a cohort draw is not deterministic")
		}
	}
	small := &Generator{Params: []Param{{Name: "a", Kind: Choice, Values: []any{1, 2, 3}}}, Canonical: map[string]any{"a": 1}}
	c, err = small.DrawCohort(5, "t", students[:10], 8)
	if err != nil {
		t.Fatal(err)
	}
	if c.Distinct != 3 || !c.Exhausted {
		t.Fatalf("10 students over 3 variants: %d distinct, exhausted %v", c.Distinct, c.Exhausted)
	}
	if got := small.SpaceSize(); got != 3 {
		t.Fatalf("space = %v, want 3", got)
	}
}

func TestIntnUniform(t *testing.T) {
	r := newRNG(1)
	counts := make([]int, 6)
	for i := 0; i < 60000; i++ {
		counts[r.intn(6)]++
	}
	for i, n := range counts {
		if n < 9400 || n > 10600 {
			t.Fatalf("face %d came up %d times in 60000 (want about 10000): %v", i, n, counts)
		}
	}
	p := Permutation(3, "a", 5)
	seen := map[int]bool{}
	for _, x := range p {
		seen[x] = true
	}
	if len(seen) != 5 {
		t.Fatalf("Permutation = %v is not a permutation", p)
	}
}

func TestFormatAndText(t *testing.T) {
	tenth, fifth := 0.1, 0.2
	tests := []struct {
		v    any
		want string
	}{
		{3, "3"}, {3.0, "3"}, {tenth + fifth, "0.30000000000000004"}, {0.25, "0.25"}, {1e20, "100000000000000000000"},
		{-0.5, "-0.5"}, {"x", "x"}, {[]any{1, 2.5, "a"}, "1, 2.5, a"}, {[]any{[]any{1, 2}, []any{3, 4}}, "1, 2\n3, 4"},
		{int64(7), "7"}, {true, "true"},
	}
	for _, tt := range tests {
		if got := Format(tt.v); got != tt.want {
			t.Errorf("Format(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	txt, errs := CompileText("$ {{a}} \\times {{ a * 2 }} $ and {{b}}", calc.Env{"a": nil, "b": nil})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	got, err := txt.Render(map[string]any{"a": 3, "b": "x"})
	if err != nil || got != "$ 3 \\times 6 $ and x" {
		t.Fatalf("Render = %q, %v", got, err)
	}
	if _, errs := CompileText("{{ a ", calc.Env{"a": nil}); len(errs) != 1 {
		t.Fatalf("an unclosed placeholder gave %v", errs)
	}
	if _, errs := CompileText("{{ nope }} {{ a + }}", calc.Env{"a": nil}); len(errs) != 2 {
		t.Fatalf("two bad placeholders gave %v", errs)
	}
}

// TestPrepareKeepsTheStream checks that the early-rejection and constant
// folding of Prepare give exactly the draws of the plain generator.
func TestPrepareKeepsTheStream(t *testing.T) {
	plain := testGenerator(t)
	plain.Params = append(plain.Params,
		Param{Name: "pool", Kind: Derived, Expr: mustCompile(t, "c * 2", "c")},
		Param{Name: "pool_list", Kind: Const, Value: []any{1, 2, 3, 4}},
		Param{Name: "pick", Kind: Sample, From: mustCompile(t, "[pool, pool + 1, pool + 2]", "pool"), K: 2},
		Param{Name: "e", Kind: Derived, Expr: mustCompile(t, "a + pick[0]", "a", "pick")},
		// Lists from drawn values: cached by the values of a and b (scalars),
		// and computed every time from s (a list).
		Param{Name: "near", Kind: Shuffle, From: mustCompile(t, "[a, a * 10, b]", "a", "b")},
		Param{Name: "one", Kind: Sample, From: mustCompile(t, "s", "s"), K: 1},
		// A constant list filtered by a drawn value: keyed by a alone.
		Param{Name: "rest", Kind: Shuffle, From: mustCompile(t, "filter(pool_list, # != a)", "pool_list", "a")},
	)
	plain.Constraints = append(plain.Constraints, Constraint{Expr: mustCompile(t, "a != 3", "a")}, Constraint{Expr: mustCompile(t, "e % 2 == 0", "e")})
	prepared := testGenerator(t)
	prepared.Params = append([]Param(nil), plain.Params...)
	prepared.Constraints = plain.Constraints
	if err := prepared.Prepare(); err != nil {
		t.Fatal(err)
	}
	if k := prepared.Params[7].Kind; k != Const || prepared.Params[7].Name != "pool" {
		t.Fatalf("pool was not folded to a constant: %v", k)
	}
	for seed := uint64(1); seed < 300; seed++ {
		a, errA := plain.Draw(seed)
		b, errB := prepared.Draw(seed)
		if (errA == nil) != (errB == nil) || plain.Fingerprint(a) != prepared.Fingerprint(b) || a["e"] != b["e"] {
			t.Fatalf("seed %d: plain %v (%v), prepared %v (%v)", seed, a, errA, b, errB)
		}
	}
	memo := func(name string) int64 {
		for i := range prepared.Params {
			if p := &prepared.Params[i]; p.Name == name {
				return p.memo.size.Load()
			}
		}
		t.Fatalf("no parameter %s", name)
		return 0
	}
	// a has 3 values and b 3: the list of near is cached for each pair drawn.
	if n := memo("near"); n < 1 || n > 9 {
		t.Errorf("near's list was cached %d times, want 1 to 9", n)
	}
	if n := memo("one"); n != 0 {
		t.Errorf("one's list, drawn from a list, was cached %d times", n)
	}
	if n := memo("rest"); n < 1 || n > 3 {
		t.Errorf("rest's list, from a constant and a, was cached %d times, want 1 to 3", n)
	}
}

// TestCheckAddsConstants checks a stored variant's values, which leave the
// template's constants out, against constraints that read them.
func TestCheckAddsConstants(t *testing.T) {
	g := testGenerator(t)
	g.Constraints = append(g.Constraints, Constraint{Expr: mustCompile(t, "c == 100 && a < c", "a", "c")})
	v, err := g.Draw(4)
	if err != nil {
		t.Fatal(err)
	}
	delete(v, "c")
	if err := g.Check(v); err != nil {
		t.Fatalf("Check without the constant: %v", err)
	}
	if _, ok := v["c"]; ok {
		t.Fatal("Check changed the map it was given")
	}
	v["a"] = 200
	if err := g.Check(v); err == nil {
		t.Fatal("a broken constraint passed")
	}
}

// TestCohortSaturates draws a cohort from a space whose constraints leave
// 10 of its 100 variants: every variant is used, and the search stops once
// SaturateAfter students in a row found none free.
func TestCohortSaturates(t *testing.T) {
	vals := make([]any, 100)
	for i := range vals {
		vals[i] = i
	}
	g := &Generator{
		Params:      []Param{{Name: "a", Kind: Choice, Values: vals}},
		Constraints: []Constraint{{Expr: mustCompile(t, "a < 10", "a")}},
		Canonical:   map[string]any{"a": 0},
	}
	students := make([]string, 300)
	for i := range students {
		students[i] = strconv.Itoa(i)
	}
	c, err := g.DrawCohort(1, "t", students, 8)
	if err != nil {
		t.Fatal(err)
	}
	if c.Distinct != 10 || !c.Exhausted {
		t.Fatalf("%d distinct, exhausted %v; want 10, true", c.Distinct, c.Exhausted)
	}
	var s Saturation
	for i := 0; i < SaturateAfter-1; i++ {
		s.Record(true)
	}
	s.Record(false)
	for i := 0; i < SaturateAfter-1; i++ {
		s.Record(true)
	}
	if s.Full() {
		t.Fatal("saturated without SaturateAfter repeats in a row")
	}
	s.Record(true)
	if !s.Full() {
		t.Fatal("not saturated after SaturateAfter repeats in a row")
	}
}

// TestLongLists draws from lists longer than the sampler's stack buffer:
// every draw is a permutation of the list (shuffle) or k distinct items of
// it (sample), the same for the same seed.
func TestLongLists(t *testing.T) {
	items := make([]any, 40)
	for i := range items {
		items[i] = i
	}
	g := &Generator{Params: []Param{
		{Name: "s", Kind: Sample, Values: items, K: 35},
		{Name: "o", Kind: Shuffle, Values: items},
	}}
	for seed := uint64(1); seed <= 50; seed++ {
		v, err := g.Draw(seed)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := g.Draw(seed)
		if g.Fingerprint(v) != g.Fingerprint(again) {
			t.Fatalf("seed %d drew %v then %v", seed, v, again)
		}
		for name, want := range map[string]int{"s": 35, "o": 40} {
			l := v[name].([]any)
			seen := map[int]bool{}
			for _, x := range l {
				seen[x.(int)] = true
			}
			if len(l) != want || len(seen) != want {
				t.Fatalf("seed %d: %s = %v, want %d distinct items of 0..39", seed, name, l, want)
			}
		}
	}
}

// stopAfter is a context whose deadline passes after its Err has been
// asked n times: a clock-free way to expire part-way through a draw.
type stopAfter struct {
	context.Context
	n int
}

func (c *stopAfter) Err() error {
	if c.n--; c.n < 0 {
		return context.DeadlineExceeded
	}
	return nil
}

// TestDrawContext checks that drawing stops with the context's error once
// the context is done, between draws, and not before.
func TestDrawContext(t *testing.T) {
	g := testGenerator(t)
	g.Constraints = append(g.Constraints, Constraint{Expr: mustCompile(t, "a > 5", "a"), Reason: "impossible"})
	g.MaxTries = 50
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		draw  func(ctx context.Context) error
		want  error
		tries int // Err calls left afterwards, for a stopAfter context
	}{
		{"cancelled before the first draw", cancelled, func(ctx context.Context) error { _, err := g.DrawContext(ctx, 9); return err }, context.Canceled, 0},
		{"deadline after 10 of 50 draws", &stopAfter{Context: context.Background(), n: 10}, func(ctx context.Context) error { _, err := g.DrawContext(ctx, 9); return err }, context.DeadlineExceeded, -1},
		{"cohort cancelled", cancelled, func(ctx context.Context) error {
			_, err := g.DrawCohortContext(ctx, 1, "t", []string{"a", "b"}, 2)
			return err
		}, context.Canceled, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.draw(tt.ctx); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if s, ok := tt.ctx.(*stopAfter); ok && s.n != tt.tries {
				t.Errorf("Err was asked %d times past the deadline, want %d (checked once a draw)", -s.n, -tt.tries)
			}
		})
	}
	// Seed 0, the canonical variant, draws nothing: a done context does not stop it.
	if _, err := testGenerator(t).DrawContext(cancelled, 0); err != nil {
		t.Errorf("canonical draw with a cancelled context: %v", err)
	}
	// Without a deadline the same draw fails on its constraint, after every try.
	var ce *ConstraintError
	if _, err := g.DrawContext(context.Background(), 9); !errors.As(err, &ce) || ce.Tries != 50 {
		t.Errorf("err = %v, want a ConstraintError after 50 tries", err)
	}
}

// TestDrawCountedAndAcceptance checks the number of draws a variant took:
// the constraint a != 1 rejects a third of the draws of a, so about 1.5
// draws make a variant, and seed 0 (the canonical values) takes one.
func TestDrawCountedAndAcceptance(t *testing.T) {
	g := &Generator{
		Params:      []Param{{Name: "a", Kind: Choice, Values: []any{1, 2, 3}}},
		Constraints: []Constraint{{Expr: mustCompile(t, "a != 1", "a")}},
		Canonical:   map[string]any{"a": 2},
	}
	if err := g.Prepare(); err != nil {
		t.Fatal(err)
	}
	if _, n, err := g.DrawCounted(0); n != 1 || err != nil {
		t.Fatalf("canonical: %d draws, %v", n, err)
	}
	draws := 0
	for seed := uint64(1); seed <= 3000; seed++ {
		env, n, err := g.DrawCounted(seed)
		if err != nil || env["a"] == 1 || n < 1 {
			t.Fatalf("seed %d: %v after %d draws, %v", seed, env, n, err)
		}
		plain, _ := g.Draw(seed)
		if plain["a"] != env["a"] {
			t.Fatalf("seed %d: Draw gives %v, DrawCounted %v", seed, plain["a"], env["a"])
		}
		draws += n
	}
	if accepted := 3000 / float64(draws); accepted < 0.63 || accepted > 0.70 {
		t.Errorf("%.3f of draws accepted, want about 2/3", accepted)
	}
}

// TestCohortFirstDistinct checks that a cohort counts the distinct variants
// of the students' own seeds, before repeats are drawn again.
func TestCohortFirstDistinct(t *testing.T) {
	g := &Generator{Params: []Param{{Name: "a", Kind: IntRange, Lo: 1, Hi: 50}}, Canonical: map[string]any{"a": 1}}
	students := make([]string, 40)
	for i := range students {
		students[i] = "s" + strconv.Itoa(i)
	}
	c, err := g.DrawCohort(3, "t", students, 8)
	if err != nil {
		t.Fatal(err)
	}
	first := map[any]bool{}
	for _, s := range students {
		env, _ := g.Draw(Seed(3, s, "t"))
		first[env["a"]] = true
	}
	// Independent draws repeat (28 distinct); drawing repeats again
	// leaves almost none (39).
	if c.FirstDistinct != len(first) || c.FirstDistinct != 28 || c.Distinct != 39 {
		t.Errorf("first distinct %d (want %d, and 28), distinct %d (want 39)", c.FirstDistinct, len(first), c.Distinct)
	}
}

// TestTextBareNames checks that a placeholder holding only a name renders
// as the program would, and that a name missing from the values is still
// an error.
func TestTextBareNames(t *testing.T) {
	env := calc.Env{"k": nil, "xs": nil, "f": nil}
	tx, errs := CompileText("k={{k}}, {{ k }}, {{k + 1}}, xs={{xs}}, f={{f}}", env)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got, err := tx.Render(map[string]any{"k": 3, "xs": []any{1, 2.5}, "f": 0.1 + 0.2})
	if want := "k=3, 3, 4, xs=1, 2.5, f=0.3"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if _, err := tx.Render(map[string]any{"xs": []any{1}, "f": 1.0}); err == nil {
		t.Error("a missing value rendered without an error")
	}
}
