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

// subquestion is one embedded answer of a Cloze question.
type subquestion struct {
	kind   string // NUMERICAL, MULTICHOICE_V, MULTIRESPONSE, SHORTANSWER, SHORTANSWER_C
	weight float64
	alts   []alternative
}

// alternative is one answer of an embedded question.
type alternative struct {
	fraction float64 // percent
	text     string  // unescaped; NUMERICAL: "value:tolerance"
	feedback string
}

// clozeEscape escapes the characters the Cloze syntax reserves.
var clozeEscape = strings.NewReplacer(`\`, `\\`, `}`, `\}`, `#`, `\#`, `~`, `\~`, `/`, `\/`, `"`, `\"`)

// marker writes a subquestion in Cloze syntax with an integer weight.
func (s subquestion) marker(weight int) string {
	alts := make([]string, len(s.alts))
	for i, a := range s.alts {
		text := a.text
		if s.kind != "NUMERICAL" {
			text = clozeEscape.Replace(text)
		}
		prefix := "%" + percent(a.fraction) + "%"
		if a.fraction == 100 {
			prefix = "="
		}
		alts[i] = prefix + text
		if a.feedback != "" {
			alts[i] += "#" + clozeEscape.Replace(a.feedback)
		}
	}
	return "{" + strconv.Itoa(weight) + ":" + s.kind + ":" + strings.Join(alts, "~") + "}"
}

// token stands for subquestion i in the HTML until weights are known.
func token(i int) string { return "\x00" + strconv.Itoa(i) + "\x00" }

// cloze collects a Cloze question's subquestions.
type cloze struct{ subs []subquestion }

func (c *cloze) add(s subquestion) string {
	c.subs = append(c.subs, s)
	return token(len(c.subs) - 1)
}

// clozeQuestion converts a variant's automatically marked parts into one
// Cloze question. Each part's marks are spread over its items (a cell, a
// token, a coordinate) as Marksmith's per-item credit does, and all
// weights are scaled by the smallest whole number that makes them whole.
func clozeQuestion(parts []*bank.PartVariant, stem string) (Question, error) {
	c := &cloze{}
	var b strings.Builder
	b.WriteString(stem)
	var files []File
	marks := 0.0
	for _, p := range parts {
		body, fs, err := c.part(p, len(files))
		if err != nil {
			return Question{}, fmt.Errorf("part %s: %w", p.ID, err)
		}
		files = append(files, fs...)
		b.WriteString(body)
		marks += p.Marks
	}
	weights := make([]float64, len(c.subs))
	for i, s := range c.subs {
		weights[i] = s.weight
	}
	scale, ints := wholeWeights(weights)
	text := b.String()
	total := 0
	for i, s := range c.subs {
		text = strings.Replace(text, token(i), s.marker(ints[i]), 1)
		total += ints[i]
	}
	_ = scale
	return Question{Type: Cloze, Text: text, Files: files, Marks: float64(total)}, nil
}

// wholeWeights scales weights by the smallest whole number (up to 1000)
// that makes every one whole; failing that by 1000, rounded.
func wholeWeights(ws []float64) (int, []int) {
	out := make([]int, len(ws))
	for m := 1; m <= 1000; m++ {
		ok := true
		for _, w := range ws {
			x := w * float64(m)
			if math.Abs(x-math.Round(x)) > 1e-6 || math.Round(x) < 1 {
				ok = false
				break
			}
		}
		if ok {
			for i, w := range ws {
				out[i] = int(math.Round(w * float64(m)))
			}
			return m, out
		}
	}
	for i, w := range ws {
		out[i] = max(1, int(math.Round(w*1000)))
	}
	return 1000, out
}

// part writes one part's HTML with its subquestions' tokens; nfiles is the
// number of files already embedded, for unique names.
func (c *cloze) part(p *bank.PartVariant, nfiles int) (string, []File, error) {
	s := &p.Answer
	var b strings.Builder
	b.WriteString(promptHTML(p) + "\n")
	var files []File
	switch s.Type {
	case grader.Number, grader.Integer:
		key, err := numberKey(s)
		if err != nil {
			return "", nil, err
		}
		b.WriteString("<p>" + c.add(numericSub(key, s.Tolerance, s.Type == grader.Integer, p.Marks)))
		if s.Unit != "" {
			b.WriteString(" " + html.EscapeString(s.Unit))
		}
		b.WriteString("</p>\n")
	case grader.Choice, grader.Multi:
		fr, err := optionFractions(s)
		if err != nil {
			return "", nil, err
		}
		sub := subquestion{kind: "MULTICHOICE_V", weight: p.Marks}
		if s.Type == grader.Multi {
			sub.kind = "MULTIRESPONSE"
		}
		for i, o := range s.Options {
			sub.alts = append(sub.alts, alternative{fraction: fr[i], text: inlineHTML(o.Text)})
		}
		b.WriteString("<div>" + c.add(sub) + "</div>\n")
	case grader.Text:
		sub := subquestion{kind: "SHORTANSWER", weight: p.Marks}
		if s.CaseSensitive {
			sub.kind = "SHORTANSWER_C"
		}
		for _, a := range textAnswers(s) {
			sub.alts = append(sub.alts, alternative{fraction: 100, text: a})
		}
		if len(sub.alts) == 0 {
			return "", nil, fmt.Errorf("a short text with no accepted phrasing")
		}
		b.WriteString("<p>" + c.add(sub) + "</p>\n")
	case grader.Sequence:
		toks, _ := s.Key.([]string)
		if len(toks) == 0 {
			return "", nil, fmt.Errorf("the key has no tokens")
		}
		kind := "SHORTANSWER"
		if s.CaseSensitive {
			kind = "SHORTANSWER_C"
		}
		b.WriteString("<p>")
		for i, t := range toks {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(c.add(subquestion{kind: kind, weight: p.Marks / float64(len(toks)), alts: []alternative{{fraction: 100, text: strings.ReplaceAll(t, "*", `\*`)}}}))
		}
		b.WriteString("</p>\n")
	case grader.Table:
		tbl, _ := s.Key.([][]float64)
		if len(tbl) == 0 || len(tbl[0]) == 0 {
			return "", nil, fmt.Errorf("the key has no cells")
		}
		cells := float64(len(tbl) * len(tbl[0]))
		b.WriteString("<table border=\"1\" cellpadding=\"4\">\n")
		if len(p.Columns) > 0 {
			b.WriteString("<tr>")
			if len(p.Rows) > 0 {
				b.WriteString("<th></th>")
			}
			for _, col := range p.Columns {
				b.WriteString("<th>" + inlineHTML(col) + "</th>")
			}
			b.WriteString("</tr>\n")
		}
		for i, row := range tbl {
			b.WriteString("<tr>")
			if len(p.Rows) > i {
				b.WriteString("<th>" + inlineHTML(p.Rows[i]) + "</th>")
			}
			for _, cell := range row {
				b.WriteString("<td>" + c.add(numericSub(cell, s.Tolerance, false, p.Marks/cells)) + "</td>")
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</table>\n")
	case grader.Points:
		charts, _ := s.Key.([]grader.Chart)
		n := 0
		for _, ch := range charts {
			n += len(ch.Points)
		}
		if n == 0 {
			return "", nil, fmt.Errorf("the key has no points")
		}
		for i, ch := range charts {
			name := fmt.Sprintf("chart%d.svg", nfiles+len(files)+1)
			files = append(files, File{Name: name, Data: chartSVG(ch, i+1)})
			title := ch.Title
			if title == "" {
				title = "Chart " + strconv.Itoa(i+1)
			}
			fmt.Fprintf(&b, "<p>Chart %d: %s</p>\n<p><img src=\"@@PLUGINFILE@@/%s\" alt=\"%s\" width=\"380\" height=\"380\"></p>\n",
				i+1, html.EscapeString(title), name, html.EscapeString("Chart "+strconv.Itoa(i+1)+": "+title))
			fmt.Fprintf(&b, "<table border=\"1\" cellpadding=\"4\">\n<tr><th>point</th><th>%s</th><th>%s</th></tr>\n", html.EscapeString(ch.XLabel), html.EscapeString(ch.YLabel))
			for _, pt := range ch.Points {
				// Marksmith gives a point's credit when both coordinates
				// are right; Moodle gives half of it for each.
				w := p.Marks / float64(n) / 2
				b.WriteString("<tr><td>" + html.EscapeString(pt.Label) + "</td><td>" + c.add(numericSub(pt.X, s.Tolerance, false, w)) +
					"</td><td>" + c.add(numericSub(pt.Y, s.Tolerance, false, w)) + "</td></tr>\n")
			}
			b.WriteString("</table>\n")
		}
	default:
		return "", nil, fmt.Errorf("answer type %s cannot be marked in a Cloze question", s.Type)
	}
	b.WriteString(instruction(s) + "\n")
	return b.String(), files, nil
}

// numericSub is a NUMERICAL subquestion for key with the tolerance's rules.
func numericSub(key float64, t grader.Tolerance, integer bool, weight float64) subquestion {
	sub := subquestion{kind: "NUMERICAL", weight: weight}
	for _, a := range numericAnswers(key, t, integer) {
		sub.alts = append(sub.alts, alternative{fraction: 100, text: num(a.value) + ":" + tolText(a.tol)})
	}
	return sub
}
