package moodle

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/grader"
)

// Options are the settings of an export.
type Options struct {
	// Category is the category, below the course's top one, that holds a
	// category per template; "Marksmith" when empty. Levels are separated
	// by "/".
	Category string
}

func (o Options) category() string {
	if strings.TrimSpace(o.Category) == "" {
		return "Marksmith"
	}
	return strings.Trim(o.Category, "/")
}

// FromTemplate draws count variants of t for a cohort with exam seed seed
// (distinct wherever the template's space allows, as an exam's would be)
// and converts them with FromVariants.
func FromTemplate(t *bank.Template, seed uint64, count int, opts Options) ([]Category, error) {
	if count < 1 {
		return nil, fmt.Errorf("template %s: the number of variants must be 1 or more, not %d", t.ID, count)
	}
	students := make([]string, count)
	for i := range students {
		students[i] = strconv.Itoa(i + 1)
	}
	cohort, err := t.Generator().DrawCohort(seed, t.ID, students, 8)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", t.ID, err)
	}
	vs := make([]*bank.Variant, len(cohort.Seeds))
	for i, s := range cohort.Seeds {
		if vs[i], err = t.Variant(s); err != nil {
			return nil, err
		}
	}
	return FromVariants(vs, opts)
}

// FromVariants converts variants of one template, already drawn (or stored
// with a published exam), into Moodle categories: the first holds one
// question per variant with its automatically graded parts; when the
// template has essay parts, a second ("… (written parts)") holds one essay
// question per variant with them. Variants of several templates, or none,
// are an error.
func FromVariants(vs []*bank.Variant, opts Options) ([]Category, error) {
	if len(vs) == 0 {
		return nil, fmt.Errorf("no variants to export")
	}
	first := vs[0]
	// The option's levels, then the template id's, the last named with the
	// title, in which a "/" is a character, not a level.
	ids := strings.Split(first.Template, "/")
	parent := opts.category() + "/" + strings.Join(ids[:len(ids)-1], "/")
	name := ids[len(ids)-1] + " " + first.Title
	main := Category{Path: strings.Trim(parent, "/") + "/" + categoryLevel(name)}
	written := Category{Path: strings.Trim(parent, "/") + "/" + categoryLevel(name+" (written parts)")}
	var autoMarks, essayMarks float64
	for _, v := range vs {
		if v.Template != first.Template || v.Version != first.Version {
			return nil, fmt.Errorf("variant %d is of %s v%d, not %s v%d: export one template's variants at a time", v.Seed, v.Template, v.Version, first.Template, first.Version)
		}
		auto, essay, err := convertVariant(v)
		if err != nil {
			return nil, fmt.Errorf("%s variant %d: %w", v.Template, v.Seed, err)
		}
		autoMarks, essayMarks = 0, 0
		if auto != nil {
			main.Questions = append(main.Questions, *auto)
			autoMarks = partsMarks(v, false)
		}
		if essay != nil {
			essayMarks = essay.Marks
			if auto == nil {
				main.Questions = append(main.Questions, *essay)
			} else {
				written.Questions = append(written.Questions, *essay)
			}
		}
	}
	main.Info = fmt.Sprintf("<p>%d variants of %s, %s (version %d), exported from Marksmith. Add one to a quiz with “random question from this category”; every student then gets a variant of their own. Each is worth %s marks: set the quiz slot's maximum mark to %s.</p>",
		len(main.Questions), html.EscapeString(first.Template), html.EscapeString(first.Title), first.Version, num(autoMarks), num(autoMarks))
	cats := []Category{main}
	if len(written.Questions) > 0 {
		written.Info = fmt.Sprintf("<p>The parts of %s marked by an instructor, %s marks: one essay question per variant, with the rubric and a reference answer for graders. Moodle draws this question independently of the automatically marked one, so a student may get another variant's numbers here; each question is complete in itself.</p>",
			html.EscapeString(first.Template), num(essayMarks))
		cats = append(cats, written)
	}
	return cats, nil
}

// manual reports whether a part is marked by a person in Moodle: essays,
// and short texts with a rubric and no accepted phrasing.
func manual(s *grader.Spec) bool {
	return s.Type == grader.Essay || s.Type == grader.Text && len(s.Accept) == 0 && s.Key == nil
}

func partsMarks(v *bank.Variant, manualParts bool) float64 {
	m := 0.0
	for i := range v.Parts {
		if manual(&v.Parts[i].Answer) == manualParts {
			m += v.Parts[i].Marks
		}
	}
	return m
}

// convertVariant returns the variant's automatically marked question (nil
// when it has no such part) and its essay question (nil when it has no
// essay part).
func convertVariant(v *bank.Variant) (auto, essay *Question, err error) {
	stem := ""
	if v.Stem != "" {
		stem = toHTML(v.Stem) + "\n"
	}
	name := fmt.Sprintf("%s %s (variant %d)", v.Template, v.Title, v.Seed)
	id := fmt.Sprintf("%s@%d", v.Template, v.Seed)
	var autoParts, essayParts []*bank.PartVariant
	for i := range v.Parts {
		if manual(&v.Parts[i].Answer) {
			essayParts = append(essayParts, &v.Parts[i])
		} else {
			autoParts = append(autoParts, &v.Parts[i])
		}
	}
	if len(autoParts) == 1 {
		if q, ok, err := nativeQuestion(autoParts[0], stem); err != nil {
			return nil, nil, fmt.Errorf("part %s: %w", autoParts[0].ID, err)
		} else if ok {
			q.Name, q.IDNumber = name, id
			auto = &q
		}
	}
	if auto == nil && len(autoParts) > 0 {
		q, err := clozeQuestion(autoParts, stem)
		if err != nil {
			return nil, nil, err
		}
		q.Name, q.IDNumber = name, id
		auto = &q
	}
	if len(essayParts) > 0 {
		q := essayQuestion(essayParts, stem)
		q.Name, q.IDNumber = name, id
		if auto != nil {
			q.Name = fmt.Sprintf("%s %s, written parts (variant %d)", v.Template, v.Title, v.Seed)
			q.IDNumber = id + "/written"
		}
		essay = &q
	}
	return auto, essay, nil
}

// partHeading is a part's label and marks, as the paper prints them.
func partHeading(p *bank.PartVariant) string {
	marks := num(p.Marks) + " marks"
	if p.Marks == 1 {
		marks = "1 mark"
	}
	return fmt.Sprintf("<strong>(%s)</strong> (%s)", html.EscapeString(p.ID), marks)
}

// promptHTML is a part's lead and prompt in HTML, without Marksmith's own
// instruction line, which speaks of Marksmith's form.
func promptHTML(p *bank.PartVariant) string {
	prompt := p.Prompt
	if p.Instruction != "" {
		prompt = strings.TrimSuffix(strings.TrimSuffix(prompt, p.Instruction), "\n\n")
	}
	var b strings.Builder
	if p.Lead != "" {
		b.WriteString(toHTML(p.Lead) + "\n")
	}
	body := toHTML(prompt)
	if strings.HasPrefix(body, "<p>") {
		body = "<p>" + partHeading(p) + " " + body[len("<p>"):]
	} else {
		body = "<p>" + partHeading(p) + "</p>\n" + body
	}
	b.WriteString(body)
	return b.String()
}

// instruction is the line a Moodle question ends a part with: how to
// answer in Moodle's form.
func instruction(s *grader.Spec) string {
	var line string
	switch s.Type {
	case grader.Number:
		line = "Give the number in full, in digits or e-notation (1234567 or 1.234567e6)"
		if s.Unit != "" {
			line += ", in " + s.Unit
		}
		if p := precisionText(s.Tolerance); p != "" {
			line += ", " + p
		}
		line += "."
	case grader.Integer:
		line = "Give a whole number, in digits."
	case grader.Multi:
		line = "Select every option that applies."
	case grader.Choice:
		line = "Select one option."
	case grader.Text:
		line = "Answer in a word or a short phrase."
	case grader.Sequence:
		line = "Give one token per box, in order."
	case grader.Table:
		line = "Give one number per cell"
		if p := precisionText(s.Tolerance); p != "" {
			line += ", " + p
		}
		line += "."
	case grader.Points:
		line = "Give the coordinates of each point, read as the charts' axes are."
	}
	return "<p><em>" + html.EscapeString(line) + "</em></p>"
}

// precisionText says what precision a tolerance asks for.
func precisionText(t grader.Tolerance) string {
	switch {
	case t.SigFigs > 0:
		return "to " + strconv.Itoa(t.SigFigs) + " significant figures"
	case t.Decimals > 0:
		return "to " + strconv.Itoa(t.Decimals) + " decimal places"
	case t.Rel > 0:
		return "to at least " + strconv.Itoa(max(1, int(math.Ceil(1-math.Log10(2*t.Rel)-1e-9)))) + " significant figures"
	case t.Abs > 0:
		return "to at least " + strconv.Itoa(max(0, int(math.Ceil(-math.Log10(2*t.Abs)-1e-9)))) + " decimal places"
	}
	return ""
}

// nativeQuestion converts a variant's one automatically marked part into a
// question of the part's own Moodle type; ok is false for the types only
// a Cloze question holds (sequences, tables, points).
func nativeQuestion(p *bank.PartVariant, stem string) (Question, bool, error) {
	s := &p.Answer
	q := Question{Marks: p.Marks, Text: stem + promptHTML(p) + "\n" + instruction(s)}
	switch s.Type {
	case grader.Number, grader.Integer:
		key, err := numberKey(s)
		if err != nil {
			return q, false, err
		}
		q.Type = Numerical
		for _, a := range numericAnswers(key, s.Tolerance, s.Type == grader.Integer) {
			q.Answers = append(q.Answers, Answer{Text: num(a.value), Fraction: 100, Tolerance: a.tol})
		}
	case grader.Choice, grader.Multi:
		q.Type = MultiChoice
		q.Single = s.Type == grader.Choice
		fr, err := optionFractions(s)
		if err != nil {
			return q, false, err
		}
		for i, o := range s.Options {
			q.Answers = append(q.Answers, Answer{Text: inlineHTML(o.Text), Fraction: fr[i]})
		}
	case grader.Text:
		q.Type = ShortAnswer
		for _, a := range textAnswers(s) {
			q.Answers = append(q.Answers, Answer{Text: a, Fraction: 100})
		}
	default:
		return q, false, nil
	}
	return q, true, nil
}

func numberKey(s *grader.Spec) (float64, error) {
	switch k := s.Key.(type) {
	case float64:
		return k, nil
	case int:
		return float64(k), nil
	}
	return 0, fmt.Errorf("the key %v is not a number", s.Key)
}

// numeric is one right answer of a numerical question: a value and its
// absolute tolerance.
type numeric struct{ value, tol float64 }

// numericAnswers converts Marksmith's tolerance around key into Moodle's
// absolute ones, one right answer per rule (any accepts, as in Marksmith):
// abs as it is; rel times this variant's key; significant figures and
// decimal places as the key rounded so, give or take half a unit of the
// last place kept. With no tolerance a whole number must be exact and
// another within 1e-9 of itself, as Marksmith has it.
func numericAnswers(key float64, t grader.Tolerance, integer bool) []numeric {
	var out []numeric
	if t.Abs > 0 {
		out = append(out, numeric{key, t.Abs})
	}
	if t.Rel > 0 {
		out = append(out, numeric{key, t.Rel * math.Abs(key)})
	}
	if t.SigFigs > 0 && key != 0 {
		e := math.Floor(math.Log10(math.Abs(key)))
		unit := math.Pow(10, e-float64(t.SigFigs)+1)
		out = append(out, numeric{math.Round(key/unit) * unit, unit / 2})
	}
	if t.Decimals > 0 {
		unit := math.Pow(10, -float64(t.Decimals))
		out = append(out, numeric{math.Round(key/unit) * unit, unit / 2})
	}
	if len(out) == 0 {
		tol := 0.0
		if !integer && key != math.Trunc(key) {
			tol = 1e-9 * math.Abs(key)
		}
		out = append(out, numeric{key, tol})
	}
	return out
}

// optionFractions gives each option its Moodle grade in percent: for a
// single choice 100 for the key and 0 for the rest; for a multi-select,
// +100/k for each of the k right options and −100/k for each wrong one,
// which with Moodle's sum of the picked grades, kept between 0 and 100%,
// is Marksmith's right-minus-wrong. All-or-nothing and per-option, which
// Moodle's multiple choice cannot express, get the same grades (see
// docs/export.md).
func optionFractions(s *grader.Spec) ([]float64, error) {
	out := make([]float64, len(s.Options))
	right := 0
	for _, o := range s.Options {
		if o.Correct {
			right++
		}
	}
	if right == 0 {
		return nil, fmt.Errorf("no option is right")
	}
	if s.Type == grader.Choice {
		for i, o := range s.Options {
			if o.Correct {
				out[i] = 100
			}
		}
		return out, nil
	}
	f, ok := fraction(1 / float64(right))
	if !ok {
		return nil, fmt.Errorf("%d right options: Moodle has no grade of 1/%d (100/k is in its list for k = 1–10 and 20)", right, right)
	}
	for i, o := range s.Options {
		if o.Correct {
			out[i] = f
		} else {
			out[i] = -f
		}
	}
	return out, nil
}

// textAnswers are a short text's accepted phrasings as Moodle short-answer
// patterns: each word of a phrase joined by * (any characters), and * on
// either side, since Marksmith accepts an answer that contains the phrase.
// Regular expressions have no Moodle equivalent and are left out.
func textAnswers(s *grader.Spec) []string {
	phrases := append([]string(nil), s.Accept...)
	if k, ok := s.Key.(string); ok && k != "" {
		phrases = append(phrases, k)
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range phrases {
		words := strings.Fields(strings.TrimSuffix(p, "*"))
		for i, w := range words {
			words[i] = strings.ReplaceAll(w, "*", `\*`)
		}
		pat := "*" + strings.Join(words, "*") + "*"
		if len(words) == 0 || seen[strings.ToLower(pat)] {
			continue
		}
		seen[strings.ToLower(pat)] = true
		out = append(out, pat)
	}
	return out
}

// essayQuestion gathers a variant's essay parts into one essay question,
// with their rubrics and reference answers for graders.
func essayQuestion(parts []*bank.PartVariant, stem string) Question {
	q := Question{Type: Essay, Text: stem}
	var info strings.Builder
	for _, p := range parts {
		q.Marks += p.Marks
		q.Text += promptHTML(p) + "\n"
		fmt.Fprintf(&info, "<p>%s</p>\n", partHeading(p))
		if len(p.Answer.Rubric) > 0 {
			info.WriteString("<p>Rubric (each criterion is worth its marks; the part's score is capped at its marks):</p>\n<ul>\n")
			for _, c := range p.Answer.Rubric {
				fmt.Fprintf(&info, "<li>[%s] %s</li>\n", num(c.Marks), html.EscapeString(c.Text))
			}
			info.WriteString("</ul>\n")
		}
		if p.Answer.Reference != "" {
			fmt.Fprintf(&info, "<p>Reference answer:</p>\n%s\n", toHTML(p.Answer.Reference))
		}
	}
	if len(parts) > 1 {
		q.Text += "<p><em>Answer each part in turn, starting each answer with its letter.</em></p>"
	} else {
		q.Text += "<p><em>Answer in a few sentences.</em></p>"
	}
	q.GraderInfo = info.String()
	return q
}
