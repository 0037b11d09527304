package grader

import (
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// fuzzParse fuzzes the parser of one answer type: whatever the input,
// Parse does not panic, returns either a value or a *FormatError with a
// message, and grading the input gives a result within [0, max]; check
// asserts the type's own invariants on a parsed value.
func fuzzParse(f *testing.F, spec Spec, seeds []string, check func(t *testing.T, in string, v any)) {
	for _, s := range seeds {
		f.Add(s)
	}
	q, err := Compile([]Spec{spec}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		v, err := Parse(&spec, in)
		var fe *FormatError
		switch {
		case err != nil && !errors.As(err, &fe):
			t.Fatalf("Parse(%q): error %v is not a *FormatError", in, err)
		case err != nil && fe.Msg == "":
			t.Fatalf("Parse(%q): empty format error message", in)
		case err != nil && v != nil:
			t.Fatalf("Parse(%q) = %v with error %v", in, v, err)
		case err == nil && v == nil && trimSpace(in) != "":
			t.Fatalf("Parse(%q) = nil, nil for a non-blank answer", in)
		case err == nil && v != nil:
			if _, jerr := json.Marshal(v); jerr != nil {
				t.Fatalf("Parse(%q) = %v, not JSON-friendly: %v", in, v, jerr)
			}
			check(t, in, v)
		}
		r := q.Grade(map[string]string{spec.Part: in})[0]
		checkResult(t, spec, r)
		if (r.Rule == RuleFormatError) != (err != nil) {
			t.Fatalf("Grade(%q) rule %q but Parse error %v", in, r.Rule, err)
		}
	})
}

var numberSeeds = []string{"173,408,256", "1.734e8", "1.734 × 10^8", "1.734x10^8", "1.734*10^8",
	"−5", "+3.5", " 7 ", "10^8", "10⁻³", "NaN", "Inf", "0x1F", "1_000", "", "abc", "1,00,0",
	"1.5K", "2 million", "80 GiB", "35000 MB", "1e999", ".5", "5.", "1,234.5", "1.5 × 10^(−3)"}

func checkFinite(t *testing.T, in string, v any) {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		t.Fatalf("Parse(%q) = %#v; want a finite float64", in, v)
	}
}

// plainFloat reports whether s uses only the syntax strconv.ParseFloat
// and parseNumber share.
func plainFloat(s string) bool {
	if len(s) > 60 || s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789.eE+-", rune(s[i])) {
			return false
		}
	}
	return true
}

func FuzzParseNumber(f *testing.F) {
	spec := Spec{Part: "n", Type: Number, Marks: 3, Key: 173408256.0, Tolerance: Tolerance{Rel: 0.001, SigFigs: 3}, Suffixes: true}
	fuzzParse(f, spec, numberSeeds, func(t *testing.T, in string, v any) {
		checkFinite(t, in, v)
		x := v.(float64)
		// Printing and reading back gives the same number.
		back, err := Parse(&spec, strconv.FormatFloat(x, 'g', -1, 64))
		if err != nil || back.(float64) != x {
			t.Fatalf("Parse(%q) = %v, which reads back as %v, %v", in, x, back, err)
		}
		// Where strconv reads the same text, it reads the same number.
		if plainFloat(in) {
			if want, err := strconv.ParseFloat(in, 64); err == nil && want != x {
				t.Fatalf("Parse(%q) = %v; strconv reads %v", in, x, want)
			}
		}
	})
}

func FuzzParseInteger(f *testing.F) {
	spec := Spec{Part: "i", Type: Integer, Marks: 2, Key: 1280, Unit: "GB"}
	fuzzParse(f, spec, append(numberSeeds, "2.5", "1,280", "1.28 TB"), func(t *testing.T, in string, v any) {
		checkFinite(t, in, v)
		if x := v.(float64); x != math.Trunc(x) {
			t.Fatalf("Parse(%q) = %v; want a whole number", in, x)
		}
	})
}

func FuzzParseChoice(f *testing.F) {
	spec := validSpec(Choice)
	fuzzParse(f, spec, []string{"B", "b", "(b)", "[C]", "tanh", "ReLU", "B, C", "BC", "E", "", "b)", "A and D"},
		func(t *testing.T, in string, v any) {
			id, _ := v.(string)
			for _, o := range spec.Options {
				if o.ID == id {
					return
				}
			}
			t.Fatalf("Parse(%q) = %#v; want an option ID", in, v)
		})
}

func FuzzParseMulti(f *testing.F) {
	spec := validSpec(Multi)
	spec.Scheme, spec.Penalty = PerOption, 0.5
	fuzzParse(f, spec, []string{"B, D", "BD", "b;d", "none", "[]", `["A","C"]`, "A and C", "B, E", "tanh sine", "(a) (b)"},
		func(t *testing.T, in string, v any) {
			ids, ok := v.([]any)
			if !ok {
				t.Fatalf("Parse(%q) = %#v; want []any", in, v)
			}
			last := -1
			for _, id := range ids {
				i := -1
				for k, o := range spec.Options {
					if o.ID == id {
						i = k
					}
				}
				if i <= last {
					t.Fatalf("Parse(%q) = %v; want distinct option IDs in display order", in, ids)
				}
				last = i
			}
		})
}

func checkString(t *testing.T, in string, v any) {
	s, ok := v.(string)
	if !ok || s != trimSpace(in) {
		t.Fatalf("Parse(%q) = %#v; want the trimmed text", in, v)
	}
}

func FuzzParseText(f *testing.F) {
	spec := Spec{Part: "t", Type: Text, Marks: 2, Accept: []string{"embedding layer", "gradient*"}, Patterns: []string{`\b2\s*VE\b`}}
	fuzzParse(f, spec, []string{"The embedding layer.", "EMBEDDING-layer", "2VE", "gradients", "no idea", "É"}, checkString)
}

func FuzzParseEssay(f *testing.F) {
	spec := validSpec(Essay)
	spec.Rubric = append(spec.Rubric, Criterion{ID: "c2", Marks: 3, Patterns: []string{`(?s)relu.*sigmoid`}})
	fuzzParse(f, spec, []string{"vanishing gradients", "ReLU and sigmoid", "x", "Vanishing gradient; relu, sigmoid"}, checkString)
}

func FuzzParseSequence(f *testing.F) {
	spec := validSpec(Sequence)
	fuzzParse(f, spec, []string{"1111 0001", "1111,0001", `["1111","0001"]`, "[1111, 0001]", ",,,", "[]", `'a' "b"`},
		func(t *testing.T, in string, v any) {
			toks, ok := v.([]any)
			if !ok || len(toks) == 0 {
				t.Fatalf("Parse(%q) = %#v; want a non-empty []any", in, v)
			}
			for _, tok := range toks {
				if _, ok := tok.(string); !ok {
					t.Fatalf("Parse(%q): token %#v is not a string", in, tok)
				}
			}
		})
}

func FuzzParseTable(f *testing.F) {
	spec := Spec{Part: "c", Type: Table, Marks: 4, Key: [][]float64{{-1, -0.87, 0.5}, {1, 2, 3}}, Tolerance: Tolerance{Abs: 0.01}}
	fuzzParse(f, spec, []string{"-1, -0.87, 0.5\n1, 2, 3", "-1 -0.87 0.5; 1 2 3", "-1\t-0.87\t0.5\n1\t2\t3", "[[-1, -0.87, 0.5], [1, 2, 3]]",
		"-1,,0.5\n1,2,3", "1 2", "1,5 2,5\n1 2 3", `[[1, null, "2"], [1, 2, 3]]`},
		func(t *testing.T, in string, v any) {
			rows, ok := v.([]any)
			if !ok || len(rows) != 2 {
				t.Fatalf("Parse(%q) = %#v; want 2 rows", in, v)
			}
			for _, row := range rows {
				cells, ok := row.([]any)
				if !ok || len(cells) != 3 {
					t.Fatalf("Parse(%q): row %#v; want 3 cells", in, row)
				}
				for _, c := range cells {
					if c != nil {
						checkFinite(t, in, c)
					}
				}
			}
		})
}

func FuzzParsePoints(f *testing.F) {
	spec := validSpec(Points)
	spec.Tolerance = Tolerance{Abs: 0.1}
	fuzzParse(f, spec, []string{"d12: cat (1, 2), dog (3, 4); d34: cat (-1, 0.5), dog (0, 0)", `{"d12": {"cat": [1, 2]}}`,
		"d12:\ncat (1 2)", "d56: cat (1, 2)", "cat (1, 2)", "d12: cat (1, 2", `{"cat": [1, 2]}`},
		func(t *testing.T, in string, v any) {
			charts, ok := v.(map[string]map[string][2]float64)
			if !ok {
				t.Fatalf("Parse(%q) = %#v; want charts", in, v)
			}
			for id, pts := range charts {
				c := -1
				for i, k := range spec.Key.([]Chart) {
					if k.ID == id {
						c = i
					}
				}
				if c < 0 {
					t.Fatalf("Parse(%q): chart %q is not in the key", in, id)
				}
				for label, xy := range pts {
					found := false
					for _, p := range spec.Key.([]Chart)[c].Points {
						found = found || p.Label == label
					}
					if !found || math.IsNaN(xy[0]) || math.IsInf(xy[0], 0) || math.IsNaN(xy[1]) || math.IsInf(xy[1], 0) {
						t.Fatalf("Parse(%q): point %q %v", in, label, xy)
					}
				}
			}
		})
}

// FuzzTolerance checks the tolerance rules: the key itself is always
// exact, and a number accepted by the absolute or relative rule is within
// its bound.
func FuzzTolerance(f *testing.F) {
	f.Add(173408256.0, 173500000.0, 0.001, 0.0, 3, 0)
	f.Add(1.0, 1.01, 0.0, 0.01, 0, 2)
	f.Add(-2.345, -2.35, 0.0, 0.0, 3, 2)
	f.Fuzz(func(t *testing.T, key, x, rel, abs float64, sig, places int) {
		if math.IsNaN(key) || math.IsInf(key, 0) || math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
		tl := newTol(Tolerance{Rel: math.Abs(rel), Abs: math.Abs(abs), SigFigs: ((sig % 18) + 18) % 18, Decimals: ((places % 31) + 31) % 31})
		if tl.Tolerance.validate() != nil {
			return
		}
		if tl.judge(key, key, false) != exactMatch {
			t.Fatalf("key %v is not exact against itself", key)
		}
		m := tl.judge(x, key, false)
		if m == noMatch && x == key {
			t.Fatalf("%v rejected against itself", x)
		}
		only := newTol(Tolerance{Abs: tl.Abs, Rel: tl.Rel})
		if only.judge(x, key, false) == tolMatch {
			d := math.Abs(x - key)
			if d > tl.Abs*(1+1e-9)+1e-9*math.Abs(key)+tl.Rel*math.Abs(key)*(1+1e-9)+1e-11*math.Max(math.Abs(x), math.Abs(key)) {
				t.Fatalf("%v accepted against %v with abs %v rel %v", x, key, tl.Abs, tl.Rel)
			}
		}
		if tl.SigFigs > 0 && roundSig(x, tl.SigFigs) == roundSig(key, tl.SigFigs) && m == noMatch {
			t.Fatalf("%v rejected against %v though both round to %d significant figures alike", x, key, tl.SigFigs)
		}
		if tl.Decimals > 0 && roundPlaces(x, tl.Decimals) == roundPlaces(key, tl.Decimals) && m == noMatch {
			t.Fatalf("%v rejected against %v though both round to %d places alike", x, key, tl.Decimals)
		}
	})
}

// patternCorpus are patterns of the kind rubrics use.
var patternCorpus = []string{
	`x\s*/\s*2`, `0\.5\s*\*?\s*x`,
	`(approach|tend|converge|becom|close|similar|like)\w*\W+(to\W+)?(a\W+|the\W+)?relu`,
	`(skip|shortcut|residual|identity)\W+(connection|mapping|link|path)s?`,
	`\bV\b.{0,40}\bhard`, `[A-Z]{2,}\d`, `[^a-z ]+`, `\bMORE\s+(LEVELS|Values)`,
	`β\s*=\s*0`, `ÉTÉ|straße`,
	`\bmore\s+(quantization\s+|quantisation\s+)?(levels|values|bins|points|entries|codes|precision|resolution)`,
	`(lower|less|smaller|reduc\w*|minimi[sz]\w*)\s+(the\s+)?(average\s+|mean\s+)?(quanti[sz]ation\s+|rounding\s+)?(error|loss|distortion)`,
	`\bcloser\s+together|\bdensely|\bnon-?uniform`, `auxiliar(y|ies)\W+(classifier|loss|output|head)s?`, `[[:upper:]]x`, `\p{Lu}{2}`, `(?-i:ReLU)`, `Kelvin|SUM`,
	// Alternations that are split into branches tried where their literal
	// occurs: \b-led, distributed over a group, with captures, anchors and
	// \B, and branches with no literal to start from.
	`\bmov(e|es|ed|ing)\b|\bshift\w*|\bpull\w*|\bcloser\b|\btowards?\b|\bdrawn\b|\bnudg\w+`,
	`(finer|higher|better|greater)\s+(precision|resolution|granularity)`,
	`(lower|less|smaller|reduc\w*|minimi[sz]\w*)\s+(the\s+)?(error|loss)`,
	`\b(a|an)\b|x\b|\Bly\b`, `^the|end$|\b\d+\b`, `(((ab)|c)d|e)f|\bg`, `\b(on|off)\B`, `a+b|\s+x|\w*y`,
	// Classes and quotes that lower-casing must leave to (?i).
	`[A-z]|q`, `[@-Z]x|q`, `\QA\B\E|q`, `[^A-Z]x`, `[]A-Z]1`, `[a-zA-Z_]+2`,
	`more\s+accura|accuracy|preserv\w+|information`, `\bitself\b|\bits\s+own\b|(largest|most)\s+(share\s+)?weight`,
}

// FuzzPattern checks that a rewritten case-insensitive pattern matches
// exactly what the pattern with (?i) matches.
func FuzzPattern(f *testing.F) {
	for i, s := range []string{"It tends to the ReLU", "X / 2", "0.5*x", "Skip-Connections", "v is HARD", "AB1",
		"MORE levels", "β = 0", "Less Quantisation ERROR", "NON-uniform", "Auxiliary Heads", "ÉTÉ", "Straße", "Ax", "ÀÉ", "RELU", "kelvin SUM",
		"it moves towards black", "removes", "It MOVED", "finer resolution", "lesser error", "reduction  loss", "an x", "only", "the end", "12 ab",
		"cdf", "abdf", "gx", "online", "on", "xy", "It keeps its  own share"} {
		f.Add(i, s)
	}
	type pair struct {
		slow *regexp.Regexp
		fast pattern
	}
	var pats []pair
	for _, src := range patternCorpus {
		fast, err := compilePattern(src, false)
		if err != nil {
			f.Fatal(err)
		}
		pats = append(pats, pair{regexp.MustCompile("(?i)" + src), fast})
	}
	f.Fuzz(func(t *testing.T, i int, in string) {
		if strings.ContainsAny(in, "\u212a\u017f") {
			return // K (Kelvin) and ſ fold to ASCII letters: a documented difference
		}
		p := pats[(i%len(pats)+len(pats))%len(pats)]
		if got, want := p.fast.match(in, lowerASCII(in)), p.slow.MatchString(in); got != want {
			t.Fatalf("pattern %q on %q: rewritten %v (%s), original %v", p.slow.String(), in, got, p.fast.re, want)
		}
	})
}

// FuzzPhraseIndex checks the one-pass phrase index against searching the
// text for each phrase.
func FuzzPhraseIndex(f *testing.F) {
	for _, s := range []string{"vanishing gradients", "the embedding layer", "relu relu", "Embedding-Layer!", "a b c", ""} {
		f.Add(s)
	}
	srcs := [][]string{{"embedding layer", "embeddings"}, {"vanishing gradient*", "gradient*"}, {"relu", "re lu"}, {"a", "a b", "b c d"}, {"layer"}}
	var x phraseIndex
	var groups [][]phrase
	for g, list := range srcs {
		var ps []phrase
		for _, src := range list {
			ph, err := newPhrase(src, false)
			if err != nil {
				f.Fatal(err)
			}
			x.add(ph, g)
			ps = append(ps, ph)
		}
		groups = append(groups, ps)
	}
	f.Fuzz(func(t *testing.T, in string) {
		norm := normText(in, false)
		got := x.find(norm)
		var want uint64
		for g, ps := range groups {
			for _, ph := range ps {
				if ph.in(norm) {
					want |= 1 << g
				}
			}
		}
		if got != want {
			t.Fatalf("find(%q) = %b; searching gives %b", norm, got, want)
		}
	})
}

// TestPatternCorpus matches every corpus pattern, rewritten and split as
// compilePattern does, against every seed text of FuzzPattern and their
// variations, and compares with the pattern run with (?i).
func TestPatternCorpus(t *testing.T) {
	texts := []string{"", " ", "It tends to the ReLU", "X / 2", "0.5*x", "Skip-Connections", "v is HARD", "AB1",
		"MORE levels", "β = 0", "Less Quantisation ERROR", "NON-uniform", "Auxiliary Heads", "ÉTÉ", "Straße",
		"it moves towards black", "removes", "It MOVED", "finer resolution", "lesser error", "reduction  loss", "an x",
		"only", "the end", "12 ab", "cdf", "abdf", "gx", "online", "on", "xy", "It keeps its  own share", "mix_ed", "_moves_",
		"_", "[", "^", "_x", `a\b`, `A\B`, "Bx", "]1", "Z1", "aB_2"}
	for _, s := range append([]string(nil), texts...) {
		texts = append(texts, s+".", "("+s+")", strings.ToUpper(s), s+" "+s)
	}
	for _, src := range patternCorpus {
		fast, err := compilePattern(src, false)
		if err != nil {
			t.Fatal(err)
		}
		slow := regexp.MustCompile("(?i)" + src)
		for _, s := range texts {
			if strings.ContainsAny(s, "\u212a\u017f") {
				continue
			}
			if got, want := fast.match(s, lowerASCII(s)), slow.MatchString(s); got != want {
				t.Errorf("pattern %q on %q: split %v, original %v", src, s, got, want)
			}
		}
	}
}
