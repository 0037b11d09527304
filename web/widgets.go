package web

import (
	"html"
	"html/template"
	"strconv"
	"strings"

	"github.com/marksmith/marksmith"
)

// The answer widgets are written here in Go rather than in a template: a
// full paper has a few thousand attributes to fill, and html/template
// fills each through reflection, which alone would take the exam page past
// its time budget (docs/BENCHMARKS.md). Every value goes through esc.
//
// Each widget writes exactly the answer formats of docs/answers.md through
// the page's script (static/js/widgets.js), which reads and fills the
// inputs written here: the classes and data attributes are the contract
// between the two.

// esc escapes text for HTML text and quoted attribute values.
func esc(s string) string { return html.EscapeString(s) }

// widgetWriter writes one part's widget.
type widgetWriter struct {
	strings.Builder
	md *markdown
	p  *paperPart
}

func (b *widgetWriter) w(parts ...string) {
	for _, s := range parts {
		b.WriteString(s)
	}
}

// partWidget returns the HTML of one part of the exam page: its prompt,
// its widget with the saved answer, its hint, its format error and its
// save state.
func (m *markdown) partWidget(p *paperPart) template.HTML {
	b := &widgetWriter{md: m, p: p}
	b.Grow(2048)
	dom := esc(p.DOM)
	id := esc(p.ID)
	b.w(`<div class="part" id="`, dom, `" data-question="`, strconv.Itoa(p.Position), `" data-part="`, id, `" data-type="`, esc(p.Type),
		`" data-seq="`, strconv.FormatInt(p.Answer.Seq, 10), `" data-answer="`, esc(p.Answer.Raw), `"`)
	if p.HasAnswer {
		b.w(` data-saved-at="`, p.Answer.SavedAt.UTC().Format(rfc3339), `"`)
	}
	marks := "marks"
	if p.Marks == 1 {
		marks = "mark"
	}
	b.w(">\n<h3 class=\"part-title\" id=\"", dom, "-title\">(", id, ") <span class=\"marks\">", formatScore(p.Marks), " ", marks, "</span></h3>\n")
	b.w(`<div class="prompt prose">`, string(m.block(p.Prompt)), "</div>\n")
	b.w(`<fieldset class="answer" disabled aria-describedby="`, dom, `-hint">`, "\n<legend>Your answer to (", id, ")</legend>\n")
	described := dom + "-hint " + dom + "-error"
	switch p.Type {
	case marksmith.TypeNumber, marksmith.TypeInteger:
		mode := "decimal"
		if p.Type == marksmith.TypeInteger {
			mode = "numeric"
		}
		unit := ""
		if p.Unit != "" {
			unit = ", in " + esc(p.Unit)
		}
		b.w(`<div class="field-row"><label for="`, dom, `-in" class="visually-hidden">Answer to (`, id, `)`, unit, `</label>`)
		b.w(`<input id="`, dom, `-in" class="ans number" type="text" inputmode="`, mode, `" autocomplete="off" spellcheck="false" value="`, esc(p.Answer.Raw), `" aria-describedby="`, described, `">`)
		if p.Unit != "" {
			b.w(`<span class="unit">`, esc(p.Unit), `</span>`)
		}
		b.w("</div>\n")
	case marksmith.TypeText:
		b.single("ans text", described)
	case marksmith.TypeEssay:
		b.w(`<label for="`, dom, `-in" class="visually-hidden">Answer to (`, id, `)</label>`)
		b.w(`<textarea id="`, dom, `-in" class="ans essay" rows="8" aria-describedby="`, dom, `-hint `, dom, `-words `, dom, `-error">`, esc(p.Answer.Raw), "</textarea>\n")
		n := len(strings.Fields(p.Answer.Raw))
		b.w(`<p class="word-count" id="`, dom, `-words">`, strconv.Itoa(n), " words</p>\n")
	case marksmith.TypeChoice, marksmith.TypeMulti:
		kind, class, name := "radio", "ans", ` name="`+dom+`-choice"`
		if p.Type == marksmith.TypeMulti {
			kind, class, name = "checkbox", "ans pick", ""
		}
		b.w("<div class=\"options\">\n")
		for i, o := range p.Options {
			oid := dom + "-o" + strconv.Itoa(i)
			b.w(`<div class="option"><input type="`, kind, `" class="`, class, `"`, name, ` id="`, oid, `" value="`, esc(o.Label), `">`)
			b.w(`<label for="`, oid, `"><span class="option-label">`, esc(o.Label), `.</span> `, string(b.md.inline(o.Text)), "</label></div>\n")
		}
		if p.Type == marksmith.TypeMulti {
			b.w(`<div class="option none-option"><input type="checkbox" class="ans none" id="`, dom, `-none" value="none"><label for="`, dom, "-none\">None of the options</label></div>\n")
		}
		b.w("</div>\n")
		if p.Type == marksmith.TypeChoice {
			b.w("<button type=\"button\" class=\"link clear-choice\">Clear my choice</button>\n")
		}
	case marksmith.TypeSequence:
		if p.Length <= 0 {
			b.single("ans text", described)
			break
		}
		b.w("<ol class=\"tokens\">\n")
		for i := 0; i < p.Length; i++ {
			tid := dom + "-t" + strconv.Itoa(i)
			b.w(`<li><label for="`, tid, `">Item `, strconv.Itoa(i+1), `</label><input id="`, tid, `" class="ans token" type="text" autocomplete="off" spellcheck="false" aria-describedby="`, described, "\"></li>\n")
		}
		b.w("</ol>\n")
	case marksmith.TypeTable:
		if p.Rows == 0 {
			b.w(`<label for="`, dom, `-in" class="visually-hidden">Answer to (`, id, `)</label>`)
			b.w(`<textarea id="`, dom, `-in" class="ans table-text" rows="4" spellcheck="false" aria-describedby="`, described, `">`, esc(p.Answer.Raw), "</textarea>\n")
			break
		}
		b.w(`<div class="grid-wrap"><table class="grid" aria-labelledby="`, dom, "-title\">\n<thead><tr><td></td>")
		for j := 0; j < p.Cols; j++ {
			b.w(`<th scope="col" id="`, dom, `-c`, strconv.Itoa(j), `">`, esc(labelOr(p.Part.Columns, j, "Column")), `</th>`)
		}
		b.w("</tr></thead>\n<tbody>\n")
		for i := 0; i < p.Rows; i++ {
			rid := dom + "-r" + strconv.Itoa(i)
			b.w(`<tr><th scope="row" id="`, rid, `">`, esc(labelOr(p.Part.Rows, i, "Row")), `</th>`)
			for j := 0; j < p.Cols; j++ {
				b.w(`<td><input class="ans cell" data-row="`, strconv.Itoa(i), `" data-col="`, strconv.Itoa(j), `" type="text" inputmode="decimal" autocomplete="off" spellcheck="false" aria-labelledby="`,
					rid, ` `, dom, `-c`, strconv.Itoa(j), `" aria-describedby="`, described, `"></td>`)
			}
			b.w("</tr>\n")
		}
		b.w("</tbody>\n</table></div>\n")
	case marksmith.TypePoints:
		b.points()
	}
	b.w("</fieldset>\n")
	b.w(`<p class="hint" id="`, dom, `-hint"><strong>How to answer:</strong> `, esc(howTo(p)), "</p>\n")
	b.w(`<p class="format-error" id="`, dom, `-error"`)
	if p.Answer.FormatError == "" {
		b.w(" hidden")
	}
	b.w(">", esc(p.Answer.FormatError), "</p>\n")
	b.w(`<p class="part-status" id="`, dom, `-status" aria-live="polite">`)
	if p.HasAnswer {
		t := p.Answer.SavedAt.UTC()
		b.w(`Saved at <time datetime="`, t.Format(rfc3339), `" class="clock">`, t.Format("15:04:05"), `</time>`)
	} else {
		b.w("Not answered yet")
	}
	b.w("</p>\n</div>\n")
	return template.HTML(b.String())
}

const rfc3339 = "2006-01-02T15:04:05Z07:00"

// single writes a one-line text input holding the saved answer.
func (b *widgetWriter) single(class, described string) {
	dom, p := esc(b.p.DOM), b.p
	b.w(`<label for="`, dom, `-in" class="visually-hidden">Answer to (`, esc(p.ID), `)</label>`)
	b.w(`<input id="`, dom, `-in" class="`, class, `" type="text" autocomplete="off" spellcheck="false" value="`, esc(p.Answer.Raw), `" aria-describedby="`, described, "\">\n")
}

// points writes the charts of a points part, each with a table of
// coordinates for keyboard users.
func (b *widgetWriter) points() {
	p := b.p
	dom := esc(p.DOM)
	b.w(`<div class="points"><p class="place-row"><label for="`, dom, `-place">Point to place next</label> <select id="`, dom, `-place" class="place-label">`)
	for _, l := range p.Labels {
		b.w(`<option>`, esc(l), `</option>`)
	}
	b.w("</select></p>\n")
	for _, ch := range p.Charts {
		cdom := esc(ch.DOM)
		name := ch.Title
		if name == "" {
			name = "Chart " + ch.ID
		}
		xl, yl := orDefault(ch.XLabel, "x"), orDefault(ch.YLabel, "y")
		b.w(`<div class="chart-widget" data-chart="`, esc(ch.ID), `"><figure><figcaption>`, esc(name), `</figcaption>`, string(ch.SVG), "</figure>\n")
		b.w(`<table class="coords"><caption class="visually-hidden">Coordinates on `, esc(name), `</caption>`)
		b.w(`<thead><tr><th scope="col">Point</th><th scope="col">`, esc(xl), `</th><th scope="col">`, esc(yl), `</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead><tbody>`, "\n")
		for k, l := range p.Labels {
			lid := cdom + "-l" + strconv.Itoa(k)
			el := esc(l)
			b.w(`<tr data-label="`, el, `"><th scope="row" id="`, lid, `">`, el, `</th>`)
			b.w(`<td><label class="visually-hidden" for="`, lid, `-x">`, el, `: `, esc(xl), ` on `, esc(ch.ID), `</label><input id="`, lid, `-x" class="ans pt-x" data-label="`, el, `" type="text" inputmode="decimal" autocomplete="off" size="6"></td>`)
			b.w(`<td><label class="visually-hidden" for="`, lid, `-y">`, el, `: `, esc(yl), ` on `, esc(ch.ID), `</label><input id="`, lid, `-y" class="ans pt-y" data-label="`, el, `" type="text" inputmode="decimal" autocomplete="off" size="6"></td>`)
			b.w(`<td><button type="button" class="link remove-point" data-label="`, el, `">Remove<span class="visually-hidden"> `, el, ` from `, esc(ch.ID), "</span></button></td></tr>\n")
		}
		b.w("</tbody></table></div>\n")
	}
	b.w("</div>\n")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// labelOr returns labels[i], or the fallback numbered when it is missing
// or empty ("Row 2").
func labelOr(labels []string, i int, fallback string) string {
	if i < len(labels) && strings.TrimSpace(labels[i]) != "" {
		return labels[i]
	}
	return fallback + " " + strconv.Itoa(i+1)
}

// howTo is a widget's one-line hint: the service's hint for typed answers,
// the widget's own for the others.
func howTo(p *paperPart) string {
	switch {
	case p.Type == marksmith.TypeChoice:
		return "Choose one option."
	case p.Type == marksmith.TypeMulti:
		return `Tick every option that applies, or "None of the options".`
	case p.Type == marksmith.TypeSequence && p.Length > 0:
		return "One item in each box, in order."
	case p.Type == marksmith.TypeTable && p.Rows > 0:
		return "A number in each cell, with a point for decimals (1234.5); a cell may stay empty."
	case p.Type == marksmith.TypeTable:
		return "One row per line, values separated by commas: 1, 2.5, -3."
	case p.Type == marksmith.TypePoints:
		return "Pick a point, then click the chart where it goes (drag to move it), or type its coordinates in the table."
	case p.Hint != "":
		return p.Hint
	case p.Type == marksmith.TypeEssay:
		return "A written answer of a few sentences."
	case p.Type == marksmith.TypeNumber:
		h := "A number, such as 1234.5, 1,234,567 or 1.2e6."
		if p.Suffixes {
			h += " K, M, B and T stand for thousand, million, billion and trillion."
		}
		if p.Unit != "" {
			h += " In " + p.Unit + " unless you write another unit."
		}
		return h
	case p.Type == marksmith.TypeInteger:
		return "A whole number, such as 42 or 1,234,567."
	}
	return "A short answer in a few words."
}
