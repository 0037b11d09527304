package moodle

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/grader"
)

// response is one answer to a part, as a Marksmith student types it and
// as a Moodle student gives it to each embedded answer of the part.
type response struct {
	name      string
	marksmith string
	moodle    []string // per embedded answer (numbers, texts)
	picked    []int    // a choice's picked options
}

// responses are the answers the agreement test tries for a part: the key,
// slightly off but within the tolerance, just outside it, and wrong.
func responses(p *bank.PartVariant) []response {
	s := &p.Answer
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	var out []response
	switch s.Type {
	case grader.Number, grader.Integer:
		k, _ := numberKey(s)
		tol := math.Max(s.Tolerance.Abs, s.Tolerance.Rel*math.Abs(k))
		xs := map[string]float64{"key": k, "wrong": 2*k + 7}
		if tol > 0 {
			xs["within the tolerance"] = k + 0.5*tol
			xs["just outside the tolerance"] = k + 1.5*tol
		} else {
			xs["off by one"] = k + 1
		}
		for name, x := range xs {
			out = append(out, response{name: name, marksmith: g(x), moodle: []string{g(x)}})
		}
	case grader.Choice, grader.Multi:
		n := len(s.Options)
		for mask := 1; mask < 1<<n; mask++ {
			if s.Type == grader.Choice && mask&(mask-1) != 0 {
				continue
			}
			var labels []string
			var picked []int
			for i := range n {
				if mask&(1<<i) != 0 {
					labels = append(labels, s.Options[i].Label)
					picked = append(picked, i)
				}
			}
			out = append(out, response{name: strings.Join(labels, ","), marksmith: strings.Join(labels, ","), moodle: []string{""}, picked: picked})
		}
	case grader.Text:
		phrase := s.Accept[0]
		out = append(out,
			response{name: "an accepted phrase", marksmith: phrase, moodle: []string{phrase}},
			response{name: "a phrase in a sentence", marksmith: "It uses " + phrase + ".", moodle: []string{"It uses " + phrase + "."}},
			response{name: "wrong", marksmith: "xyzzy", moodle: []string{"xyzzy"}})
	case grader.Sequence:
		toks := s.Key.([]string)
		wrong := append([]string(nil), toks...)
		wrong[len(wrong)-1] = "zz"
		out = append(out,
			response{name: "key", marksmith: strings.Join(toks, " "), moodle: toks},
			response{name: "last token wrong", marksmith: strings.Join(wrong, " "), moodle: wrong})
	case grader.Table:
		tbl := s.Key.([][]float64)
		tol := s.Tolerance.Abs
		for _, c := range []struct {
			name  string
			shift float64
		}{{"key", 0}, {"a cell within the tolerance", 0.5 * tol}, {"a cell outside the tolerance", 2*tol + 1}} {
			var rows []string
			var cells []string
			for i, row := range tbl {
				var rc []string
				for j, x := range row {
					if i == 0 && j == 0 {
						x += c.shift
					}
					rc = append(rc, g(x))
					cells = append(cells, g(x))
				}
				rows = append(rows, strings.Join(rc, ", "))
			}
			out = append(out, response{name: c.name, marksmith: strings.Join(rows, "; "), moodle: cells})
		}
	case grader.Points:
		charts := s.Key.([]grader.Chart)
		for _, c := range []struct {
			name  string
			shift float64
		}{{"key", 0}, {"a point wrong in both coordinates", 1}} {
			var typed []string
			var coords []string
			for ci, ch := range charts {
				var pts []string
				for pi, pt := range ch.Points {
					x, y := pt.X, pt.Y
					if ci == 0 && pi == 0 {
						x, y = x+c.shift, y+c.shift
					}
					pts = append(pts, pt.Label+" ("+g(x)+", "+g(y)+")")
					coords = append(coords, g(x), g(y))
				}
				typed = append(typed, strconv.Itoa(ci+1)+": "+strings.Join(pts, ", "))
			}
			out = append(out, response{name: c.name, marksmith: strings.Join(typed, "; "), moodle: coords})
		}
	}
	return out
}

// subsOf is the number of embedded answers a part takes in a Cloze
// question.
func subsOf(p *bank.PartVariant) int {
	switch k := p.Answer.Key.(type) {
	case []string:
		if p.Answer.Type == grader.Sequence {
			return len(k)
		}
	case [][]float64:
		return len(k) * len(k[0])
	case []grader.Chart:
		n := 0
		for _, c := range k {
			n += 2 * len(c.Points)
		}
		return n
	}
	return 1
}

// TestExportGradesAsMarksmith grades responses to every automatically
// marked part of ten variants of every built-in template twice: with
// Marksmith's grader, and as Moodle grades the exported question (the
// embedded answers' tolerances, grades and patterns, read back from the
// file). The share of the part's marks must agree for the key, answers
// just inside and outside the tolerance, wrong answers, and every set of
// options of a multi-select.
func TestExportGradesAsMarksmith(t *testing.T) {
	ts, err := builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range ts {
		t.Run(tp.ID, func(t *testing.T) {
			_, f, _ := export(t, tp, 10)
			checked := 0
			for _, q := range f.Questions {
				if q.Type != "cloze" {
					continue
				}
				seed, err := strconv.ParseUint(strings.TrimPrefix(*q.IDNumber, tp.ID+"@"), 10, 64)
				if err != nil {
					t.Fatalf("id number %q", *q.IDNumber)
				}
				v, err := tp.Variant(seed)
				if err != nil {
					t.Fatal(err)
				}
				subs, err := parseCloze(q.Text.Text)
				if err != nil {
					t.Fatal(err)
				}
				at := 0
				for i := range v.Parts {
					p := &v.Parts[i]
					if manual(&p.Answer) {
						continue
					}
					n := subsOf(p)
					if at+n > len(subs) {
						t.Fatalf("variant %d: %d embedded answers, too few for part %s", seed, len(subs), p.ID)
					}
					ps := subs[at : at+n]
					at += n
					for _, r := range responses(p) {
						got := 0.0
						total := 0
						for j, s := range ps {
							resp := ""
							if j < len(r.moodle) {
								resp = r.moodle[j]
							}
							got += float64(s.weight) * s.grade(resp, r.picked)
							total += s.weight
						}
						got /= float64(total)
						res, err := v.Grade(map[string]string{p.ID: r.marksmith})
						if err != nil {
							t.Fatal(err)
						}
						var want float64
						for _, x := range res {
							if x.Part == p.ID {
								want = x.Score / x.Max
							}
						}
						if math.Abs(got-want) > 1e-6 {
							t.Errorf("variant %d (%s) %s %q: Moodle gives %.4f of the marks, Marksmith %.4f", seed, p.ID, r.name, r.marksmith, got, want)
						}
						checked++
					}
				}
				if at != len(subs) {
					t.Errorf("variant %d: %d embedded answers, the parts use %d", seed, len(subs), at)
				}
			}
			if checked == 0 {
				t.Fatal("nothing graded")
			}
		})
	}
}

// TestNativeQuestions checks that a template with one automatically marked
// part becomes a question of that part's Moodle type, and that Moodle's
// grading of it agrees with Marksmith's.
func TestNativeQuestions(t *testing.T) {
	tests := []struct {
		name, answer, typ string
	}{
		{"number", "{type: number, value: 'x * 1000 + 0.5', tolerance: {rel: 0.01}}", Numerical},
		{"integer", "{type: integer, value: 'x * 7'}", Numerical},
		{"multi", "{type: multi, options: [p, q, r, s], key: [p, r], scheme: right-minus-wrong}", MultiChoice},
		{"choice", "{type: choice, options: [p, q, r], key: q}", MultiChoice},
		{"text", "{type: text, accept: [skip connection, residual]}", ShortAnswer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "id: test/one\ntitle: One part\nmarks: 2\nparams:\n  x: {int: [2, 9]}\ncanonical: {x: 3}\nparts:\n  - id: a\n    marks: 2\n    prompt: What for {{x}}?\n    answer: " + tc.answer + "\n"
			tp, err := bank.Load("one.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			cats, f, _ := export(t, tp, 3)
			if len(cats) != 1 || len(cats[0].Questions) != 3 {
				t.Fatalf("%d categories, want 1 of 3 questions", len(cats))
			}
			for _, q := range f.Questions[1:] {
				if q.Type != tc.typ {
					t.Fatalf("question type %s, want %s", q.Type, tc.typ)
				}
				seed, _ := strconv.ParseUint(strings.TrimPrefix(*q.IDNumber, "test/one@"), 10, 64)
				v, err := tp.Variant(seed)
				if err != nil {
					t.Fatal(err)
				}
				// The question's answers as an embedded answer, to grade them
				// the same way.
				s := sub{weight: 1}
				switch q.Type {
				case Numerical:
					s.kind = "NUMERICAL"
				case MultiChoice:
					s.kind = "MULTIRESPONSE"
				case ShortAnswer:
					s.kind = "SHORTANSWER"
				}
				for _, a := range q.Answers {
					fr, _ := strconv.ParseFloat(a.Fraction, 64)
					tol, _ := strconv.ParseFloat(a.Tolerance, 64)
					s.alts = append(s.alts, alt{fraction: fr, text: a.Text, tol: tol})
				}
				p := &v.Parts[0]
				for _, r := range responses(p) {
					got := s.grade(r.moodle[0], r.picked)
					res, _ := v.Grade(map[string]string{"a": r.marksmith})
					if want := res[0].Score / res[0].Max; math.Abs(got-want) > 1e-6 {
						t.Errorf("variant %d %s %q: Moodle %.4f, Marksmith %.4f", seed, r.name, r.marksmith, got, want)
					}
				}
			}
		})
	}
}
