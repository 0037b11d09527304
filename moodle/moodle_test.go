package moodle

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/grader"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

var builtin = sync.OnceValues(bank.Builtin)

func template(t *testing.T, id string) *bank.Template {
	t.Helper()
	ts, err := builtin()
	if err != nil {
		t.Fatal(err)
	}
	tp := bank.Find(ts, id)
	if tp == nil {
		t.Fatalf("no template %s", id)
	}
	return tp
}

// The file as Moodle's importer (qformat_xml) reads it.
type (
	quizFile struct {
		XMLName   xml.Name       `xml:"quiz"`
		Questions []fileQuestion `xml:"question"`
	}
	fileQuestion struct {
		Type     string    `xml:"type,attr"`
		Category *textElem `xml:"category"`
		Name     *textElem `xml:"name"`
		Text     *richElem `xml:"questiontext"`
		Grade    string    `xml:"defaultgrade"`
		IDNumber *string   `xml:"idnumber"`
		Single   string    `xml:"single"`
		Shuffle  string    `xml:"shuffleanswers"`
		Numbers  string    `xml:"answernumbering"`
		UseCase  string    `xml:"usecase"`
		Answers  []struct {
			Fraction  string `xml:"fraction,attr"`
			Text      string `xml:"text"`
			Tolerance string `xml:"tolerance"`
		} `xml:"answer"`
		Format string    `xml:"responseformat"`
		Grader *richElem `xml:"graderinfo"`
	}
	textElem struct {
		Text string `xml:"text"`
	}
	richElem struct {
		Format string `xml:"format,attr"`
		Text   string `xml:"text"`
		Files  []struct {
			Name     string `xml:"name,attr"`
			Encoding string `xml:"encoding,attr"`
			Data     string `xml:",chardata"`
		} `xml:"file"`
	}
)

// export writes n variants of the template as Moodle XML and reads the
// file back.
func export(t *testing.T, tp *bank.Template, n int) ([]Category, quizFile, []byte) {
	t.Helper()
	cats, err := FromTemplate(tp, 1, n, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, cats); err != nil {
		t.Fatal(err)
	}
	var f quizFile
	if err := xml.Unmarshal(buf.Bytes(), &f); err != nil {
		t.Fatalf("the file is not XML Moodle can read: %v", err)
	}
	return cats, f, buf.Bytes()
}

// allowed reports whether f (percent) is 0 or ± one of Moodle's grades,
// as written (to at most 7 decimals).
func allowed(f float64) bool {
	if f == 0 {
		return true
	}
	for _, a := range Fractions {
		if math.Abs(math.Abs(f)-a) < 1e-9 {
			return true
		}
	}
	return false
}

// TestExportStructure checks every built-in template's export against
// what Moodle's importer reads and its editing forms require: categories
// under $course$/top; a name, HTML text and id number for each question;
// for multiple choice, grades from Moodle's list, one of 100% for a
// single answer, positive grades adding up to 100% for several; numerical
// answers that are numbers with tolerances; essays with grader
// information; Cloze questions whose embedded answers each have a right
// answer; embedded files that are SVG images.
func TestExportStructure(t *testing.T) {
	ts, err := builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range ts {
		t.Run(tp.ID, func(t *testing.T) {
			_, f, _ := export(t, tp, 5)
			category := ""
			perCategory := map[string]int{}
			for _, q := range f.Questions {
				if q.Type == "category" {
					if q.Category == nil || !strings.HasPrefix(q.Category.Text, "$course$/top/Marksmith/"+tp.ID+" ") {
						t.Fatalf("category %+v", q.Category)
					}
					category = q.Category.Text
					continue
				}
				if category == "" {
					t.Fatal("a question before any category")
				}
				perCategory[category]++
				if q.Name == nil || q.Name.Text == "" || q.Text == nil || q.Text.Format != "html" || q.Text.Text == "" || q.IDNumber == nil || *q.IDNumber == "" {
					t.Fatalf("%s question without name, HTML text or id number: %+v", q.Type, q)
				}
				checkQuestion(t, q)
			}
			if len(perCategory) == 0 {
				t.Fatal("no questions")
			}
			for c, n := range perCategory {
				if n != 5 {
					t.Errorf("%s: %d questions, want one per variant (5)", c, n)
				}
			}
		})
	}
}

func checkQuestion(t *testing.T, q fileQuestion) {
	t.Helper()
	for _, file := range q.Text.Files {
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(file.Data))
		if err != nil || file.Encoding != "base64" || !bytes.HasPrefix(data, []byte("<svg")) || xml.Unmarshal(data, new(struct{})) != nil {
			t.Errorf("%s: file %s is not a base64 SVG image", q.Name.Text, file.Name)
		}
		if !strings.Contains(q.Text.Text, "@@PLUGINFILE@@/"+file.Name) {
			t.Errorf("%s: file %s is not shown in the text", q.Name.Text, file.Name)
		}
	}
	switch q.Type {
	case "cloze":
		subs, err := parseCloze(q.Text.Text)
		if err != nil || len(subs) == 0 {
			t.Fatalf("%s: %v (%d embedded answers)", q.Name.Text, err, len(subs))
		}
		for i, s := range subs {
			if msg := s.validate(); msg != "" {
				t.Errorf("%s: embedded answer %d (%s): %s", q.Name.Text, i+1, s.kind, msg)
			}
		}
	case "multichoice":
		if q.Single != "true" && q.Single != "false" || q.Shuffle != "false" || q.Numbers != "ABCD" || len(q.Answers) < 2 {
			t.Errorf("%s: single %q shuffle %q numbering %q, %d answers", q.Name.Text, q.Single, q.Shuffle, q.Numbers, len(q.Answers))
		}
		var fr []float64
		for _, a := range q.Answers {
			f, _ := strconv.ParseFloat(a.Fraction, 64)
			fr = append(fr, f)
		}
		if msg := checkFractions(fr, q.Single == "true"); msg != "" {
			t.Errorf("%s: %s", q.Name.Text, msg)
		}
	case "numerical":
		for _, a := range q.Answers {
			if _, err := strconv.ParseFloat(a.Text, 64); err != nil {
				t.Errorf("%s: answer %q is not a number", q.Name.Text, a.Text)
			}
			if tol, err := strconv.ParseFloat(a.Tolerance, 64); err != nil || tol < 0 {
				t.Errorf("%s: tolerance %q", q.Name.Text, a.Tolerance)
			}
		}
	case "shortanswer":
		if q.UseCase != "0" || len(q.Answers) == 0 {
			t.Errorf("%s: usecase %q, %d answers", q.Name.Text, q.UseCase, len(q.Answers))
		}
	case "essay":
		if q.Format != "editor" || q.Grader == nil || !strings.Contains(q.Grader.Text, "Rubric") || !strings.Contains(q.Grader.Text, "Reference answer") {
			t.Errorf("%s: response format %q, grader information %+v", q.Name.Text, q.Format, q.Grader)
		}
	default:
		t.Errorf("%s: question type %q", q.Name.Text, q.Type)
	}
}

// checkFractions applies Moodle's rules to a multiple-choice question's
// grades: each from its list; for one answer, a best of exactly 100%; for
// several, positive grades that add up to 100% (rounded to 2 decimals of
// a fraction, as Moodle's save does).
func checkFractions(fr []float64, single bool) string {
	best, positive := math.Inf(-1), 0.0
	for _, f := range fr {
		if !allowed(f) {
			return "grade " + strconv.FormatFloat(f, 'f', -1, 64) + " is not in Moodle's list"
		}
		best = math.Max(best, f)
		if f > 0 {
			positive += f
		}
	}
	if single && best != 100 {
		return "no answer is worth 100%"
	}
	if !single && math.Round(positive)/100 != 1 {
		return "positive grades add up to " + strconv.FormatFloat(positive, 'f', -1, 64) + "%"
	}
	return ""
}

// sub is an embedded answer of a Cloze question, read as Moodle's
// qtype_multianswer reads it.
type sub struct {
	weight int
	kind   string
	alts   []alt
}

type alt struct {
	fraction float64
	text     string
	tol      float64
}

var clozeStart = regexp.MustCompile(`\{(\d*):(SHORTANSWER|SA|MW|SHORTANSWER_C|SAC|MWC|NUMERICAL|NM|MULTICHOICE|MC|MULTICHOICE_V|MCV|MULTICHOICE_H|MCH|MULTIRESPONSE|MR|MULTIRESPONSE_H|MRH):`)

// parseCloze reads the embedded answers of a Cloze question's text.
func parseCloze(text string) ([]sub, error) {
	var out []sub
	for _, loc := range clozeStart.FindAllStringSubmatchIndex(text, -1) {
		s := sub{kind: text[loc[4]:loc[5]]}
		s.weight = 1
		if loc[3] > loc[2] {
			s.weight, _ = strconv.Atoi(text[loc[2]:loc[3]])
		}
		// The answers run to the first } without a backslash before it.
		i := loc[1]
		var body strings.Builder
		for ; i < len(text) && text[i] != '}'; i++ {
			if text[i] == '\\' && i+1 < len(text) {
				body.WriteByte(text[i])
				i++
			}
			body.WriteByte(text[i])
		}
		if i >= len(text) {
			return nil, errorf("an embedded answer is not closed")
		}
		for _, raw := range splitUnescaped(body.String(), '~') {
			var a alt
			switch {
			case strings.HasPrefix(raw, "="):
				a.fraction, raw = 100, raw[1:]
			case strings.HasPrefix(raw, "%"):
				end := strings.Index(raw[1:], "%")
				if end < 0 {
					return nil, errorf("unclosed grade in %q", raw)
				}
				var err error
				if a.fraction, err = strconv.ParseFloat(raw[1:1+end], 64); err != nil {
					return nil, errorf("grade %q", raw[1:1+end])
				}
				raw = raw[2+end:]
			}
			raw = splitUnescaped(raw, '#')[0]
			a.text = unescape(raw)
			if s.kind == "NUMERICAL" || s.kind == "NM" {
				k := strings.LastIndex(a.text, ":")
				if k >= 0 {
					a.tol, _ = strconv.ParseFloat(a.text[k+1:], 64)
					a.text = a.text[:k]
				}
			}
			s.alts = append(s.alts, a)
		}
		out = append(out, s)
	}
	return out, nil
}

func splitUnescaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == sep {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`}#~/"\`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

type errorString string

func (e errorString) Error() string { return string(e) }

func errorf(s string, args ...any) error {
	for _, a := range args {
		s = strings.Replace(s, "%q", strconv.Quote(a.(string)), 1)
	}
	return errorString(s)
}

// validate applies qtype_multianswer_validate_question: answers present,
// numbers where a number is due, a right answer (100%, or for a
// multi-response one above 0), two options at least for a choice, and
// grades from Moodle's list.
func (s sub) validate() string {
	if len(s.alts) == 0 {
		return "no answers"
	}
	if s.weight < 1 {
		return "weight below 1"
	}
	multi := strings.HasPrefix(s.kind, "MULTIRESPONSE") || strings.HasPrefix(s.kind, "MR")
	choice := multi || strings.HasPrefix(s.kind, "MULTICHOICE") || strings.HasPrefix(s.kind, "MC")
	if choice && len(s.alts) < 2 {
		return "fewer than two options"
	}
	var fr []float64
	right := false
	for _, a := range s.alts {
		if strings.TrimSpace(a.text) == "" {
			return "an empty answer"
		}
		if s.kind == "NUMERICAL" {
			if _, err := strconv.ParseFloat(a.text, 64); err != nil {
				return "answer " + a.text + " is not a number"
			}
			if a.tol < 0 {
				return "negative tolerance"
			}
		}
		right = right || a.fraction == 100 || multi && a.fraction > 0
		fr = append(fr, a.fraction)
	}
	if !right {
		return "no right answer"
	}
	if choice {
		return checkFractions(fr, !multi)
	}
	for _, f := range fr {
		if !allowed(f) {
			return "grade not in Moodle's list"
		}
	}
	return ""
}

// grade marks a response as Moodle does: the first alternative it matches
// (numbers within tolerance, texts against the wildcard pattern), or for
// a choice the picked options' grades added up and kept between 0 and
// 100%. It returns a share of 1.
func (s sub) grade(response string, picked []int) float64 {
	switch {
	case s.kind == "NUMERICAL":
		x, err := strconv.ParseFloat(strings.TrimSpace(response), 64)
		if err != nil {
			return 0
		}
		for _, a := range s.alts {
			v, _ := strconv.ParseFloat(a.text, 64)
			// qtype_numerical adds 10^-14 to the tolerance (MDL-3225).
			if math.Abs(x-v) <= a.tol+1e-14 {
				return a.fraction / 100
			}
		}
		return 0
	case strings.HasPrefix(s.kind, "SHORTANSWER"):
		for _, a := range s.alts {
			if wildcard(a.text, response, s.kind == "SHORTANSWER") {
				return a.fraction / 100
			}
		}
		return 0
	}
	sum := 0.0
	for _, i := range picked {
		sum += s.alts[i].fraction / 100
	}
	return math.Max(0, math.Min(1, sum))
}

// wildcard is qtype_shortanswer's compare_string_with_wildcard.
func wildcard(pattern, response string, ignoreCase bool) bool {
	bits := regexp.MustCompile(`(?:^|[^\\])\*+`).Split(pattern, -1)
	_ = bits
	var parts []string
	start := 0
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '\\' && i+1 < len(pattern) && pattern[i+1] == '*' {
			i++
			continue
		}
		if pattern[i] == '*' {
			parts = append(parts, strings.ReplaceAll(pattern[start:i], `\*`, "*"))
			for i+1 < len(pattern) && pattern[i+1] == '*' {
				i++
			}
			start = i + 1
		}
	}
	parts = append(parts, strings.ReplaceAll(pattern[start:], `\*`, "*"))
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	re := "^" + strings.Join(parts, ".*") + "$"
	if ignoreCase {
		re = "(?i)" + re
	}
	return regexp.MustCompile(re).MatchString(strings.TrimSpace(response))
}

// TestExportGoldens pins the export of two templates byte for byte: Q4
// (integers, multi-select, a lead) and Q5 (token sequences, charts).
func TestExportGoldens(t *testing.T) {
	for _, id := range []string{"dasc7606/q4", "dasc7606/q5"} {
		_, _, got := export(t, template(t, id), 2)
		path := filepath.Join("testdata", strings.ReplaceAll(id, "/", "_")+".xml")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./moodle -run Goldens -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s; run with -update if the change is intended", id, path)
		}
	}
}

var _ = grader.Number
