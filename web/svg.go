package web

import (
	"html"
	"html/template"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/marksmith/marksmith"
)

// Charts are drawn on the server as SVG, with presentation attributes and
// classes (the style sheet colours them): no script, no inline style.

// svgBuilder writes SVG markup; every text goes through esc.
type svgBuilder struct{ strings.Builder }

func (b *svgBuilder) f(x float64) string {
	return strconv.FormatFloat(math.Round(x*100)/100, 'f', -1, 64)
}

func (b *svgBuilder) line(x1, y1, x2, y2 float64, class string) {
	b.WriteString(`<line x1="` + b.f(x1) + `" y1="` + b.f(y1) + `" x2="` + b.f(x2) + `" y2="` + b.f(y2) + `" class="` + class + `"/>`)
}

func (b *svgBuilder) rect(x, y, w, h float64, class string, title string) {
	if h < 0 {
		y, h = y+h, -h
	}
	if w < 0 {
		x, w = x+w, -w
	}
	b.WriteString(`<rect x="` + b.f(x) + `" y="` + b.f(y) + `" width="` + b.f(w) + `" height="` + b.f(h) + `" class="` + class + `">`)
	if title != "" {
		b.WriteString(`<title>` + html.EscapeString(title) + `</title>`)
	}
	b.WriteString(`</rect>`)
}

func (b *svgBuilder) text(x, y float64, anchor, class, s string) {
	b.WriteString(`<text x="` + b.f(x) + `" y="` + b.f(y) + `" text-anchor="` + anchor + `" class="` + class + `">` + html.EscapeString(s) + `</text>`)
}

// niceTicks returns tick values covering [lo, hi] at a step of 1, 2 or 5
// times a power of ten, about n of them.
func niceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) || n < 1 {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	exp := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * exp
	for _, m := range []float64{1, 2, 5} {
		if m*exp >= raw {
			step = m * exp
			break
		}
	}
	// Tick k is k steps from zero; a step below 1 divides by its inverse,
	// so that 3 × 0.2 is 0.6 and not 0.6000000000000001.
	at := func(k float64) float64 { return k * step }
	if step < 1 {
		inv := math.Round(1 / step)
		at = func(k float64) float64 { return k / inv }
	}
	var ticks []float64
	for k := math.Ceil(lo/step - 1e-9); at(k) <= hi+step*1e-9; k++ {
		ticks = append(ticks, at(k)+0) // +0: no -0
	}
	return ticks
}

func tickLabel(v float64) string {
	if math.Abs(v) < 1e-12 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// Geometry of a points chart: a square plot in a 360 × 360 view box.
const (
	ptLeft, ptTop, ptSize = 52.0, 12.0, 290.0
)

// pointsChart draws the chart a student places points on: grid, axes,
// ticks and axis labels. The page's script adds the points and maps
// clicks to coordinates with the data attributes.
func pointsChart(id string, ch marksmith.Chart) template.HTML {
	var b svgBuilder
	xmin, xmax, ymin, ymax := ch.XMin, ch.XMax, ch.YMin, ch.YMax
	if !(xmax > xmin) {
		xmin, xmax = -1, 1
	}
	if !(ymax > ymin) {
		ymin, ymax = -1, 1
	}
	sx := func(x float64) float64 { return ptLeft + (x-xmin)/(xmax-xmin)*ptSize }
	sy := func(y float64) float64 { return ptTop + (ymax-y)/(ymax-ymin)*ptSize }
	name := ch.Title
	if name == "" {
		name = ch.ID
	}
	b.WriteString(`<svg class="points-chart" id="` + id + `" viewBox="0 0 360 360" role="img" aria-label="` +
		html.EscapeString("Chart "+name+": click to place the chosen point, drag a point to move it, or type its coordinates below.") +
		`" data-chart="` + html.EscapeString(ch.ID) + `" data-xmin="` + b.f(xmin) + `" data-xmax="` + b.f(xmax) +
		`" data-ymin="` + b.f(ymin) + `" data-ymax="` + b.f(ymax) + `" data-left="` + b.f(ptLeft) + `" data-top="` + b.f(ptTop) +
		`" data-size="` + b.f(ptSize) + `">`)
	b.rect(ptLeft, ptTop, ptSize, ptSize, "plot-bg", "")
	for _, x := range niceTicks(xmin, xmax, 10) {
		cls := "grid"
		if math.Abs(x) < 1e-12 {
			cls = "axis"
		}
		b.line(sx(x), ptTop, sx(x), ptTop+ptSize, cls)
		b.text(sx(x), ptTop+ptSize+14, "middle", "tick", tickLabel(x))
	}
	for _, y := range niceTicks(ymin, ymax, 10) {
		cls := "grid"
		if math.Abs(y) < 1e-12 {
			cls = "axis"
		}
		b.line(ptLeft, sy(y), ptLeft+ptSize, sy(y), cls)
		b.text(ptLeft-5, sy(y)+4, "end", "tick", tickLabel(y))
	}
	if ch.XLabel != "" {
		b.text(ptLeft+ptSize/2, 350, "middle", "axis-label", ch.XLabel)
	}
	if ch.YLabel != "" {
		b.WriteString(`<g transform="translate(12 ` + b.f(ptTop+ptSize/2) + `) rotate(-90)">`)
		b.text(0, 0, "middle", "axis-label", ch.YLabel)
		b.WriteString(`</g>`)
	}
	b.WriteString(`<g class="pts"></g></svg>`)
	return template.HTML(b.String())
}

// keyChart draws a points chart with the key's points and the student's
// (for results and reviewers): key points hollow, answers filled.
func keyChart(ch marksmith.Chart, key []marksmith.Point, answer map[string][2]float64) template.HTML {
	var b svgBuilder
	xmin, xmax, ymin, ymax := ch.XMin, ch.XMax, ch.YMin, ch.YMax
	if !(xmax > xmin) || !(ymax > ymin) {
		return ""
	}
	sx := func(x float64) float64 { return ptLeft + (x-xmin)/(xmax-xmin)*ptSize }
	sy := func(y float64) float64 { return ptTop + (ymax-y)/(ymax-ymin)*ptSize }
	b.WriteString(`<svg class="points-chart static" viewBox="0 0 360 360" role="img" aria-label="` +
		html.EscapeString("Chart "+ch.ID+": the key's points (rings) and the answer's (dots)") + `">`)
	b.rect(ptLeft, ptTop, ptSize, ptSize, "plot-bg", "")
	for _, x := range niceTicks(xmin, xmax, 8) {
		b.line(sx(x), ptTop, sx(x), ptTop+ptSize, "grid")
		b.text(sx(x), ptTop+ptSize+14, "middle", "tick", tickLabel(x))
	}
	for _, y := range niceTicks(ymin, ymax, 8) {
		b.line(ptLeft, sy(y), ptLeft+ptSize, sy(y), "grid")
		b.text(ptLeft-5, sy(y)+4, "end", "tick", tickLabel(y))
	}
	for _, p := range key {
		if p.Chart != ch.ID {
			continue
		}
		b.WriteString(`<circle cx="` + b.f(sx(p.X)) + `" cy="` + b.f(sy(p.Y)) + `" r="8" class="key-point"/>`)
		b.text(sx(p.X)+10, sy(p.Y)-10, "start", "point-label", p.Label)
	}
	for _, label := range sortedKeys(answer) {
		xy := answer[label]
		b.WriteString(`<circle cx="` + b.f(sx(xy[0])) + `" cy="` + b.f(sy(xy[1])) + `" r="5" class="answer-point"/>`)
		b.text(sx(xy[0])+8, sy(xy[1])+14, "start", "point-label answer", label)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// Plot geometry of the statistics charts.
const (
	plotW, plotH                  = 640.0, 240.0
	plotLeft, plotRight, plotTop  = 48.0, 12.0, 12.0
	plotBottom                    = 40.0
	barRowH, barLabelW, barChartW = 28.0, 150.0, 640.0
	innerPlotW                    = plotW - plotLeft - plotRight
	innerPlotH                    = plotH - plotTop - plotBottom
	barGap                        = 6.0
	barValueW                     = 60.0
	barAreaW                      = barChartW - barLabelW - barValueW
	fairnessFlagMark              = "⚑ "
)

// histogram draws the bins of a summary as bars.
func histogram(s marksmith.Summary, caption string) template.HTML {
	if len(s.Histogram) == 0 {
		return ""
	}
	var b svgBuilder
	maxCount := 1
	for _, bin := range s.Histogram {
		maxCount = max(maxCount, bin.Count)
	}
	b.WriteString(`<svg class="plot" viewBox="0 0 ` + b.f(plotW) + ` ` + b.f(plotH) + `" role="img" aria-label="` + html.EscapeString(caption) + `">`)
	bw := innerPlotW / float64(len(s.Histogram))
	for _, t := range niceTicks(0, float64(maxCount), 4) {
		y := plotTop + innerPlotH - t/float64(maxCount)*innerPlotH
		b.line(plotLeft, y, plotLeft+innerPlotW, y, "grid")
		b.text(plotLeft-6, y+4, "end", "tick", tickLabel(t))
	}
	for i, bin := range s.Histogram {
		h := float64(bin.Count) / float64(maxCount) * innerPlotH
		x := plotLeft + float64(i)*bw
		b.rect(x+1, plotTop+innerPlotH-h, bw-2, h, "bar",
			formatScore(bin.From)+"–"+formatScore(bin.To)+": "+strconv.Itoa(bin.Count)+" students")
		if len(s.Histogram) <= 12 || i%2 == 0 {
			b.text(x+bw/2, plotTop+innerPlotH+14, "middle", "tick", formatScore(bin.From)+"–"+formatScore(bin.To))
		}
	}
	b.line(plotLeft, plotTop+innerPlotH, plotLeft+innerPlotW, plotTop+innerPlotH, "axis")
	b.text(plotLeft+innerPlotW/2, plotH-6, "middle", "axis-label", "score (marks)")
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// hbar is one row of a horizontal bar chart.
type hbar struct {
	Label string
	Value *float64 // nil: not defined
	N     int
	Flag  bool
}

// barChart draws labelled horizontal bars on a scale from lo to hi (a
// zero line where the scale crosses it), the value at the end of each.
func barChart(rows []hbar, lo, hi float64, caption string, asPercent bool) template.HTML {
	if len(rows) == 0 {
		return ""
	}
	var b svgBuilder
	height := float64(len(rows))*barRowH + 24
	b.WriteString(`<svg class="plot" viewBox="0 0 ` + b.f(barChartW) + ` ` + b.f(height) + `" role="img" aria-label="` + html.EscapeString(caption) + `">`)
	sx := func(v float64) float64 { return barLabelW + (v-lo)/(hi-lo)*barAreaW }
	for _, t := range niceTicks(lo, hi, 4) {
		cls := "grid"
		if math.Abs(t) < 1e-12 {
			cls = "axis"
		}
		b.line(sx(t), 0, sx(t), height-20, cls)
		label := tickLabel(t)
		if asPercent {
			label = fixed2(t, true)
		}
		b.text(sx(t), height-6, "middle", "tick", label)
	}
	zero := sx(math.Max(lo, math.Min(hi, 0)))
	for i, r := range rows {
		y := float64(i) * barRowH
		label := r.Label
		if r.Flag {
			label = fairnessFlagMark + label
		}
		b.text(barLabelW-8, y+barRowH/2+4, "end", "bar-label", label)
		if r.Value == nil {
			b.text(zero+6, y+barRowH/2+4, "start", "tick", "undefined")
			continue
		}
		v := *r.Value
		cls := "bar"
		if r.Flag {
			cls = "bar flagged"
		} else if v < 0 {
			cls = "bar negative"
		}
		title := label + ": " + fixed2(v, asPercent)
		if r.N > 0 {
			title += " (n = " + strconv.Itoa(r.N) + ")"
		}
		b.rect(zero, y+barGap/2, sx(v)-zero, barRowH-barGap, cls, title)
		value := fixed2(v, asPercent)
		if r.N > 0 {
			value += "  n=" + strconv.Itoa(r.N)
		}
		b.text(barLabelW+barAreaW+4, y+barRowH/2+4, "start", "tick", value)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func fixed2(v float64, percent bool) string {
	if percent {
		return strconv.FormatFloat(math.Round(v*100)+0, 'f', 0, 64) + "%" // +0: no "-0%"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
