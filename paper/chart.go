package paper

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"

	"github.com/marksmith/marksmith"
)

// chartSVG draws a chart to place points on: a square plot with a fine
// and a coarse grid, labelled ticks, the axes through zero, axis labels
// and a title; with points (a key's), each drawn and labelled.
func chartSVG(ch marksmith.Chart, points []marksmith.Point) template.HTML {
	const (
		size   = 300.0 // the plot's side in SVG units
		left   = 42.0  // room for the y tick labels and axis label
		bottom = 36.0  // room for the x tick labels and axis label
		top    = 22.0  // room for the title
		right  = 10.0
	)
	xmin, xmax := span(ch.XMin, ch.XMax)
	ymin, ymax := span(ch.YMin, ch.YMax)
	sx := func(x float64) float64 { return left + (x-xmin)/(xmax-xmin)*size }
	sy := func(y float64) float64 { return top + (ymax-y)/(ymax-ymin)*size }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" role="img" aria-label="%s">`,
		left+size+right, top+size+bottom, template.HTMLEscapeString(firstNonEmpty(ch.Title, ch.ID)))
	if t := firstNonEmpty(ch.Title, ch.ID); t != "" {
		fmt.Fprintf(&b, `<text class="title" x="%g" y="14" text-anchor="middle">%s</text>`, left+size/2, template.HTMLEscapeString(t))
	}
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="#fff" stroke="#000" stroke-width="0.8"/>`, left, top, size, size)
	xstep, ystep := niceStep((xmax-xmin)/10), niceStep((ymax-ymin)/10)
	// The fine grid, a fifth of the coarse one.
	b.WriteString(`<g stroke="#ccc" stroke-width="0.3">`)
	for _, x := range ticks(xmin, xmax, xstep/5) {
		fmt.Fprintf(&b, `<line x1="%.2f" y1="%g" x2="%.2f" y2="%g"/>`, sx(x), top, sx(x), top+size)
	}
	for _, y := range ticks(ymin, ymax, ystep/5) {
		fmt.Fprintf(&b, `<line x1="%g" y1="%.2f" x2="%g" y2="%.2f"/>`, left, sy(y), left+size, sy(y))
	}
	b.WriteString(`</g><g stroke="#888" stroke-width="0.6">`)
	for _, x := range ticks(xmin, xmax, xstep) {
		fmt.Fprintf(&b, `<line x1="%.2f" y1="%g" x2="%.2f" y2="%g"/>`, sx(x), top, sx(x), top+size)
	}
	for _, y := range ticks(ymin, ymax, ystep) {
		fmt.Fprintf(&b, `<line x1="%g" y1="%.2f" x2="%g" y2="%.2f"/>`, left, sy(y), left+size, sy(y))
	}
	b.WriteString(`</g><g stroke="#000" stroke-width="1.2">`)
	if xmin < 0 && xmax > 0 {
		fmt.Fprintf(&b, `<line x1="%.2f" y1="%g" x2="%.2f" y2="%g"/>`, sx(0), top, sx(0), top+size)
	}
	if ymin < 0 && ymax > 0 {
		fmt.Fprintf(&b, `<line x1="%g" y1="%.2f" x2="%g" y2="%.2f"/>`, left, sy(0), left+size, sy(0))
	}
	b.WriteString(`</g><g class="ticks">`)
	for _, x := range ticks(xmin, xmax, xstep) {
		fmt.Fprintf(&b, `<text x="%.2f" y="%g" text-anchor="middle">%s</text>`, sx(x), top+size+12, tick(x, xstep))
	}
	for _, y := range ticks(ymin, ymax, ystep) {
		fmt.Fprintf(&b, `<text x="%g" y="%.2f" text-anchor="end" dominant-baseline="middle">%s</text>`, left-4, sy(y), tick(y, ystep))
	}
	b.WriteString(`</g>`)
	if ch.XLabel != "" {
		fmt.Fprintf(&b, `<text class="axis" x="%g" y="%g" text-anchor="middle">%s</text>`, left+size/2, top+size+30, template.HTMLEscapeString(ch.XLabel))
	}
	if ch.YLabel != "" {
		fmt.Fprintf(&b, `<text class="axis" transform="translate(11 %g) rotate(-90)" text-anchor="middle">%s</text>`, top+size/2, template.HTMLEscapeString(ch.YLabel))
	}
	for _, p := range points {
		if p.Chart != ch.ID {
			continue
		}
		x, y := sx(p.X), sy(p.Y)
		fmt.Fprintf(&b, `<circle cx="%.2f" cy="%.2f" r="3.5" fill="#c00"/><text class="point" x="%.2f" y="%.2f">%s (%s, %s)</text>`,
			x, y, x+6, y-6, template.HTMLEscapeString(p.Label), num(p.X), num(p.Y))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// span returns a usable range: min below max, both finite.
func span(lo, hi float64) (float64, float64) {
	if math.IsNaN(lo) || math.IsInf(lo, 0) || math.IsNaN(hi) || math.IsInf(hi, 0) || hi <= lo {
		return -1, 1
	}
	return lo, hi
}

// niceStep returns 1, 2 or 5 times a power of ten, at least raw.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	exp := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, f := range []float64{1, 2, 5, 10} {
		if f*exp >= raw*(1-1e-9) {
			return f * exp
		}
	}
	return 10 * exp
}

// ticks returns the multiples of step from lo to hi.
func ticks(lo, hi, step float64) []float64 {
	var out []float64
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi+step*1e-9 && len(out) < 200; k++ {
		out = append(out, k*step)
	}
	return out
}

// tick writes a tick value with the decimals its step needs.
func tick(v, step float64) string {
	d := 0
	if step < 1 {
		d = int(math.Ceil(-math.Log10(step) - 1e-9))
	}
	if math.Abs(v) < step*1e-9 {
		v = 0
	}
	return strconv.FormatFloat(v, 'f', d, 64)
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
