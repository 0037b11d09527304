package bank

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/marksmith/marksmith/calc"
	"github.com/marksmith/marksmith/grader"
	"github.com/marksmith/marksmith/variants"
)

// The paper's printed input matrices of 5(a) and 5(b).
var (
	q5PaperA = [][]float64{
		{1.0, 0.0, 0.0, 1.5},
		{0.0, 0.0, 1.5, 1.0},
		{0.0, 0.5, 0.0, 1.0},
		{0.5, 0.0, -1.0, -1.0},
		{0.0, -1.0, 0.5, 1.5},
		{-1.0, 0.5, 0.0, 0.5},
		{0.5, 0.0, 0.0, 1.5},
	}
	q5PaperB = [][]float64{
		{1.0, 0.0, 0.0, -0.5},
		{0.0, 0.0, 1.5, -1.0},
		{0.0, 0.5, 0.0, 1.0},
		{0.5, 0.0, -1.0, 1.0},
		{0.0, -1.0, 0.5, 3.5},
		{-2.0, 0.5, 0.0, 0.5},
		{0.5, 0.0, 0.0, 1.5},
	}
)

// q5Vocab is a variant's vocabulary, read back from its parameters.
type q5Vocab struct {
	tokens []string
	tok    [][]float64
	pos    [][]float64
}

func q5VocabOf(t *testing.T, v *Variant) q5Vocab {
	t.Helper()
	var voc q5Vocab
	var err error
	if voc.tokens, err = calc.Strings(v.Params["tokens"]); err != nil {
		t.Fatal(err)
	}
	if voc.tok, err = calc.Matrix(v.Params["token_embs"]); err != nil {
		t.Fatal(err)
	}
	if voc.pos, err = calc.Matrix(v.Params["pos_embs"]); err != nil {
		t.Fatal(err)
	}
	return voc
}

// decodings lists every (token, 1-based position) whose sum equals row.
func (voc q5Vocab) decodings(row []float64) [][2]any {
	var out [][2]any
	for i, te := range voc.tok {
		for p, pe := range voc.pos {
			same := true
			for k := range row {
				same = same && math.Abs(te[k]+pe[k]-row[k]) < 1e-9
			}
			if same {
				out = append(out, [2]any{voc.tokens[i], p + 1})
			}
		}
	}
	return out
}

// q5Weights is softmax(x_i · x_j / √d) over j for row i, computed here
// without the calc library.
func q5Weights(X [][]float64, i int) []float64 {
	d := math.Sqrt(float64(len(X[i])))
	w := make([]float64, len(X))
	sum := 0.0
	for j := range X {
		s := 0.0
		for k := range X[i] {
			s += X[i][k] * X[j][k]
		}
		w[j] = math.Exp(s / d)
		sum += w[j]
	}
	for j := range w {
		w[j] /= sum
	}
	return w
}

func TestQ5Canonical(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q5").Canonical()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"the embedding of the token “book” is the 4-element vector (-4, 0, 0, 0)",
		"position 3 is mapped to the 4-element vector (0.0, 0.5, 0.0, 0.0)",
		"| Ann | 1 | 0 | 0 | 1 |\n| Bill | 1 | 0 | 0 | -1 |\n| like | 0 | 0 | 1 | 1 |\n| hate | 0 | 0 | 1 | -1 |\n" +
			"| cat | -1 | 0 | 0 | 0 |\n| dog | -2 | 0 | 0 | 0 |\n| book | -4 | 0 | 0 | 0 |\n" +
			"| white | 0 | -1 | 0 | 1 |\n| brown | 0 | -1 | 0 | 2 |\n| black | 0 | -1 | 0 | 3 |\n" +
			"| big | 0 | 0 | -1 | 1 |\n| small | 0 | 0 | -1 | -1 |\n| #s | 0 | 0 | 0 | 1 |",
		"| 1 | 0.0 | 0.0 | 0.0 | 0.5 |\n| 2 | 0.0 | 0.0 | 0.5 | 0.0 |\n| 3 | 0.0 | 0.5 | 0.0 | 0.0 |\n" +
			"| 4 | 0.5 | 0.0 | 0.0 | 0.0 |\n| 5 | 0.0 | 0.0 | 0.5 | 0.5 |\n| 6 | 0.0 | 0.5 | 0.0 | 0.5 |\n" +
			"| 7 | 0.5 | 0.0 | 0.0 | 0.5 |",
	} {
		if !strings.Contains(v.Stem, want) {
			t.Errorf("stem lacks %q:\n%s", want, v.Stem)
		}
	}
	a, b, c := &v.Parts[0], &v.Parts[1], &v.Parts[2]
	var rows []string
	for _, r := range q5PaperA {
		rows = append(rows, fmt.Sprintf("%.1f & %.1f & %.1f & %.1f", r[0], r[1], r[2], r[3]))
	}
	if want := `\begin{bmatrix} ` + strings.Join(rows, ` \\ `) + ` \end{bmatrix}`; !strings.Contains(a.Prompt, want) {
		t.Errorf("(a) prompt lacks the paper's matrix %q:\n%s", want, a.Prompt)
	}
	names := []string{"Bill", "hate", "#s", "big", "black", "dog", "#s"}
	for i, r := range q5PaperB {
		row := fmt.Sprintf("| %s | %.1f | %.1f | %.1f | %.1f |", names[i], r[0], r[1], r[2], r[3])
		if !strings.Contains(b.Prompt, row) {
			t.Errorf("(b) prompt lacks row %q:\n%s", row, b.Prompt)
		}
	}
	if !strings.Contains(b.Prompt, "“big”, “black” and “dog”") || !strings.Contains(c.Prompt, "the token “dog”") {
		t.Errorf("prompts do not name big, black and dog:\n%s\n%s", b.Prompt, c.Prompt)
	}
	for name, want := range map[string][][]float64{"Xa": q5PaperA, "Xb": q5PaperB} {
		got, err := calc.Matrix(v.Params[name])
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want the paper's %v", name, got, want)
		}
	}
	if got, want := a.Answer.Key, []string{"Ann", "like", "#s", "small", "white", "cat", "#s"}; !reflect.DeepEqual(got, want) {
		t.Errorf("(a) key = %v, want %v", got, want)
	}
	wantPts := []any{
		[]any{"d12", "big", 0.5, 0.0}, []any{"d12", "black", 0.0, -1.0}, []any{"d12", "dog", -2.0, 0.5},
		[]any{"d34", "big", -1.0, 1.0}, []any{"d34", "black", 0.5, 3.5}, []any{"d34", "dog", 0.0, 0.5},
	}
	if strings.Contains(b.Prompt, "d12") || strings.Contains(b.Prompt, "d34") || !strings.Contains(b.Prompt, "in the first chart based on") {
		t.Errorf("(b) prompt shows chart ids or lost the paper's wording: %q", b.Prompt)
	}
	if got := KeyValue(&b.Answer); !reflect.DeepEqual(got, wantPts) {
		t.Errorf("(b) key = %v, want %v", got, wantPts)
	}
	// The reference quotes the weights of dog (row 6) computed from the
	// paper's matrix: dog 0.61, black 0.12, #s (3) 0.09, #s (7) 0.06,
	// hate 0.05, big 0.05, Bill 0.02.
	w := q5Weights(q5PaperB, 5)
	for j, label := range []string{"Bill", "hate", "#s (position 3)", "big", "black", "dog", "#s (position 7)"} {
		if want := fmt.Sprintf("“%s” %.2f", label, w[j]); !strings.Contains(c.Answer.Reference, want) {
			t.Errorf("(c) reference lacks %q:\n%s", want, c.Answer.Reference)
		}
	}
	for _, want := range []string{"“dog” 0.61, “black” 0.12", "from (-2.0, 0.5, 0.0, 0.5)", "keeps the largest share of itself", "moves towards “black”"} {
		if !strings.Contains(c.Answer.Reference, want) {
			t.Errorf("(c) reference lacks %q:\n%s", want, c.Answer.Reference)
		}
	}
}

func TestQ5GradeCanonical(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q5").Canonical()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		part string
		ans  string
		want float64
	}{
		{"all tokens", "a", "Ann like #s small white cat #s", 3},
		{"one token wrong", "a", "Ann like #s big white cat #s", 3 * 6.0 / 7},
		{"all six points", "b", "d12: big (0.5, 0), black (0, -1), dog (-2, 0.5); d34: big (-1, 1), black (0.5, 3.5), dog (0, 0.5)", 3},
		{"charts by number", "b", "1: big (0.5, 0), black (0, -1), dog (-2, 0.5); 2: big (-1, 1), black (0.5, 3.5), dog (0, 0.5)", 3},
		{"within tolerance", "b", "d12: big (0.55, 0.05), black (0, -1), dog (-2, 0.5); d34: big (-1, 1), black (0.5, 3.5), dog (0, 0.5)", 3},
		{"token embeddings without positions", "b", "d12: big (0, 0), black (0, -1), dog (-2, 0); d34: big (-1, 1), black (0, 3), dog (0, 0)", 1},
		{"reference", "c", v.Parts[2].Answer.Reference, 4},
		{"three ideas", "c", "It becomes a weighted average of the other words' embeddings, with softmax weights.", 3},
		{"off topic", "c", "Dogs are animals.", 0},
		{"restating the question earns nothing", "c", "After self-attention the embedding of dog changes.", 0},
		{"keeps itself, moves towards the adjectives", "c", "Dog keeps most of its own embedding but moves towards big and black.", 3},
	}
	for _, tc := range tests {
		if r := gradeOne(t, v, tc.part, tc.ans); math.Abs(r.Score-tc.want) > 1e-9 {
			t.Errorf("%s: (%s) scored %v, want %v (%s %s)", tc.name, tc.part, r.Score, tc.want, r.Feedback, r.FormatError)
		}
	}
}

func TestQ5DrawnVariant(t *testing.T) {
	// Seed 1, worked by hand from its printed tables: row i of (a) minus
	// the embedding of position i is one token's embedding, e.g. row 6
	// (-3, 0, 0.5, 0) - (0, 0, 0.5, 0) = (-3, 0, 0, 0) = cat.
	v, err := builtinTemplate(t, "dasc7606/q5").Variant(1)
	if err != nil {
		t.Fatal(err)
	}
	voc := q5VocabOf(t, v)
	wantTokens := []string{"Jack", "Hugo", "trust", "doubt", "cat", "cup", "bird", "white", "blue", "pink", "huge", "little", "#s"}
	wantPos := [][]float64{{0, 0, 0.5, 0.5}, {0, 0.5, 0, 0.5}, {0.5, 0, 0, 0}, {0, 0, 0, 0.5}, {0.5, 0, 0, 0.5}, {0, 0, 0.5, 0}, {0, 0.5, 0, 0}}
	if !reflect.DeepEqual(voc.tokens, wantTokens) || !reflect.DeepEqual(voc.pos, wantPos) {
		t.Fatalf("seed 1 drew tokens %v and positions %v; the hand-worked keys below assume %v and %v", voc.tokens, voc.pos, wantTokens, wantPos)
	}
	if got, want := v.Parts[0].Answer.Key, []string{"Jack", "trust", "#s", "huge", "pink", "cat", "#s"}; !reflect.DeepEqual(got, want) {
		t.Errorf("seed 1: (a) key = %v, want %v", got, want)
	}
	// (b): little (0,0,-1,-1) + p4, blue (0,-1,0,1) + p5, bird (-2,0,0,0) + p6.
	wantPts := []any{
		[]any{"d12", "little", 0.0, 0.0}, []any{"d12", "blue", 0.5, -1.0}, []any{"d12", "bird", -2.0, 0.0},
		[]any{"d34", "little", -1.0, -0.5}, []any{"d34", "blue", 0.0, 1.5}, []any{"d34", "bird", 0.5, 0.0},
	}
	if got := KeyValue(&v.Parts[1].Answer); !reflect.DeepEqual(got, wantPts) {
		t.Errorf("seed 1: (b) key = %v, want %v", got, wantPts)
	}
	// (c): bird's scaled scores are 2.125 (itself), 0.25 (doubt), 0 (#s
	// at 7), -0.25 (little), …; softmax gives 0.64 and 0.10.
	if ref := v.Parts[2].Answer.Reference; !strings.Contains(ref, "“bird” 0.64, “doubt” 0.10") || !strings.Contains(ref, "moves towards “doubt”") {
		t.Errorf("seed 1: (c) reference does not lead with bird 0.64, doubt 0.10:\n%s", ref)
	}
}

// TestQ5Fair checks 1000 drawn variants: the tables keep the paper's
// structure, every input row decodes to exactly one token at exactly one
// position, the keys follow from the matrices, and the reference quotes
// the noun's real attention weights.
func TestQ5Fair(t *testing.T) {
	tp := builtinTemplate(t, "dasc7606/q5")
	base := [][]float64{{0, 0, 0, 0.5}, {0, 0, 0.5, 0}, {0, 0.5, 0, 0}, {0.5, 0, 0, 0}, {0, 0, 0.5, 0.5}, {0, 0.5, 0, 0.5}, {0.5, 0, 0, 0.5}}
	for seed := uint64(1); seed <= 1000; seed++ {
		v, err := tp.Variant(seed)
		if err != nil {
			t.Fatal(err)
		}
		voc := q5VocabOf(t, v)
		if len(voc.tokens) != 13 || len(voc.tok) != 13 || len(voc.pos) != 7 {
			t.Fatalf("seed %d: %d tokens, %d token rows, %d positions", seed, len(voc.tokens), len(voc.tok), len(voc.pos))
		}
		// Structure: names (1, 0, 0, ±1), verbs (0, 0, 1, ±1), nouns
		// (-m, 0, 0, 0) with distinct m, colours (0, -1, 0, s) with
		// distinct s, sizes (0, 0, -1, ±1), #s (0, 0, 0, 1).
		want := [][]float64{{1, 0, 0, 1}, {1, 0, 0, -1}, {0, 0, 1, 1}, {0, 0, 1, -1}}
		for i := 4; i < 7; i++ {
			if m := voc.tok[i][0]; m >= 0 || m != math.Trunc(m) {
				t.Errorf("seed %d: noun %s has Dim 1 = %v", seed, voc.tokens[i], m)
			}
			want = append(want, []float64{voc.tok[i][0], 0, 0, 0})
		}
		for i := 7; i < 10; i++ {
			want = append(want, []float64{0, -1, 0, voc.tok[i][3]})
		}
		want = append(want, []float64{0, 0, -1, 1}, []float64{0, 0, -1, -1}, []float64{0, 0, 0, 1})
		if !reflect.DeepEqual(voc.tok, want) {
			t.Errorf("seed %d: token table %v lost the paper's structure", seed, voc.tok)
		}
		if voc.tokens[12] != "#s" {
			t.Errorf("seed %d: last token %q, want #s", seed, voc.tokens[12])
		}
		seen := map[string]bool{}
		for _, tok := range voc.tokens {
			if seen[tok] {
				t.Errorf("seed %d: token %q twice", seed, tok)
			}
			seen[tok] = true
		}
		used := make([]bool, len(base))
		for _, p := range voc.pos {
			for k, b := range base {
				if reflect.DeepEqual(p, b) {
					used[k] = true
				}
			}
		}
		for k, u := range used {
			if !u {
				t.Errorf("seed %d: position table %v lacks the paper's row %v", seed, voc.pos, base[k])
			}
		}

		sa, _ := calc.Strings(v.Params["sa"])
		sb, _ := calc.Strings(v.Params["sb"])
		for name, sent := range map[string][]string{"Xa": sa, "Xb": sb} {
			X, _ := calc.Matrix(v.Params[name])
			for i, row := range X {
				ds := voc.decodings(row)
				if len(ds) != 1 || ds[0][0] != sent[i] || ds[0][1] != i+1 {
					t.Errorf("seed %d: %s row %d %v decodes as %v, want only %s at %d", seed, name, i+1, row, ds, sent[i], i+1)
				}
			}
		}
		for _, slot := range []int{0, 1, 3, 4, 5} {
			if sa[slot] == sb[slot] {
				t.Errorf("seed %d: sentences %v and %v share slot %d", seed, sa, sb, slot+1)
			}
		}
		if got := v.Parts[0].Answer.Key; !reflect.DeepEqual(got, sa) {
			t.Errorf("seed %d: (a) key %v, sentence %v", seed, got, sa)
		}

		Xb, _ := calc.Matrix(v.Params["Xb"])
		charts, _ := v.Parts[1].Answer.Key.([]grader.Chart)
		if len(charts) != 2 {
			t.Fatalf("seed %d: %d charts", seed, len(charts))
		}
		for c, dims := range [][2]int{{0, 1}, {2, 3}} {
			pts := charts[c].Points
			if len(pts) != 3 {
				t.Fatalf("seed %d: chart %s has %d points", seed, charts[c].ID, len(pts))
			}
			for k, pt := range pts {
				row := Xb[3+k]
				if pt.Label != sb[3+k] || pt.X != row[dims[0]] || pt.Y != row[dims[1]] {
					t.Errorf("seed %d: chart %s point %v, want %s (%v, %v)", seed, charts[c].ID, pt, sb[3+k], row[dims[0]], row[dims[1]])
				}
				for _, other := range pts[:k] {
					if other.X == pt.X && other.Y == pt.Y {
						t.Errorf("seed %d: chart %s: %s and %s coincide", seed, charts[c].ID, other.Label, pt.Label)
					}
				}
			}
		}

		w := q5Weights(Xb, 5)
		others := append(append([]float64{}, w[:5]...), w[6:]...)
		sort.Sort(sort.Reverse(sort.Float64Slice(others)))
		if w[5] > 0.85 || w[5]-others[0] < 0.1-1e-9 || others[0]-others[1] < 0.02-1e-9 {
			t.Errorf("seed %d: noun weight %.3f, next %.3f and %.3f: the (c) story does not hold", seed, w[5], others[0], others[1])
		}
		ref := v.Parts[2].Answer.Reference
		if want := fmt.Sprintf("“%s” %.2f", sb[5], w[5]); !strings.Contains(ref, want) {
			t.Errorf("seed %d: reference lacks the noun's own weight %q:\n%s", seed, want, ref)
		}
	}
}

// TestQ5RowsFollowTables checks that rows_b, (b)'s token rows written from
// the drawn numbers, is what the token table gives for sentence (b), in
// draws the last constraint has not filtered: a slip in rows_b would
// otherwise only show as draws that constraint quietly rejects.
func TestQ5RowsFollowTables(t *testing.T) {
	tp := builtinTemplate(t, "dasc7606/q5")
	g := *tp.gen
	g.Params = append([]variants.Param(nil), g.Params...) // Prepare changes them
	last := g.Constraints[len(g.Constraints)-1].Expr.Source()
	if !strings.Contains(last, "decode_all(Xb") {
		t.Fatalf("the last constraint is %q, not the decoding check this test stands in for", last)
	}
	g.Constraints = g.Constraints[:len(g.Constraints)-1]
	if err := g.Prepare(); err != nil {
		t.Fatal(err)
	}
	embed, err := calc.Compile("embed(sb, tokens, token_embs, pos_embs)", calc.Env{"sb": nil, "tokens": nil, "token_embs": nil, "pos_embs": nil})
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 1000; seed++ {
		env, err := g.Draw(seed)
		if err != nil {
			t.Fatal(err)
		}
		want, err := embed.Run(env)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if !reflect.DeepEqual(env["Xb"], want) {
			t.Fatalf("seed %d: Xb = %v from rows_b %v, but the tables give %v for %v", seed, env["Xb"], env["rows_b"], want, env["sb"])
		}
	}
}
