package bank

import (
	"fmt"
	"math"
	"regexp"
	"unicode/utf8"

	"github.com/marksmith/marksmith/calc"
	"github.com/marksmith/marksmith/grader"
	"github.com/marksmith/marksmith/variants"
)

var (
	partIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)
	units         = []string{"B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"}
	schemes       = []string{grader.AllOrNothing, grader.PerOption, grader.RightMinusWrong}
)

func (c *compiler) parts(n *node) {
	items := c.r.list(n, "parts")
	if n != nil && n.kind == sequenceNode && len(items) == 0 {
		c.ps().add(n, "parts", "needs at least one part")
	}
	c.nodes = map[string]*node{}
	sum := 0.0
	for i, item := range items {
		field := fmt.Sprintf("parts[%d]", i)
		if !c.r.fields(item, field, partFields...) {
			continue
		}
		p := &part{}
		idn := item.get("id")
		if idn == nil {
			c.ps().add(item, field+".id", "is required")
		} else {
			p.id = c.r.str(idn, field+".id")
			switch {
			case len(p.id) > MaxPartIDLength:
				c.ps().add(idn, field+".id", "is %d characters long; a part id is at most %d", utf8.RuneCountInString(p.id), MaxPartIDLength)
			case p.id != "" && !partIDPattern.MatchString(p.id):
				c.ps().add(idn, field+".id", "%q is not a valid part id: lower-case letters, digits and _", p.id)
			case c.nodes[p.id] != nil:
				c.ps().add(idn, field+".id", "part %q appears twice (first at line %d)", p.id, c.nodes[p.id].line)
			}
			field = "parts." + p.id
			c.nodes[p.id] = item
		}
		if mn := item.get("marks"); mn == nil {
			c.ps().add(item, field+".marks", "is required")
		} else if m, ok := c.r.num(mn, field+".marks"); ok {
			if m <= 0 {
				c.ps().add(mn, field+".marks", "must be more than 0")
			}
			p.marks = m
			sum += m
		}
		if ln := item.get("lead"); ln != nil {
			p.lead = c.text(ln, field+".lead")
		}
		if pn := item.get("prompt"); pn != nil {
			p.prompt = c.text(pn, field+".prompt")
		} else {
			c.ps().add(item, field+".prompt", "is required")
		}
		if an := item.get("answer"); an == nil {
			c.ps().add(item, field+".answer", "is required")
		} else {
			c.answer(p, an, field+".answer")
		}
		c.t.parts = append(c.t.parts, p)
	}
	if c.t.Marks > 0 && len(items) > 0 && math.Abs(sum-c.t.Marks) > 1e-9 {
		c.ps().add(n, "parts", "part marks add up to %v, but the question is worth %v", sum, c.t.Marks)
	}
}

func (c *compiler) answer(p *part, n *node, field string) {
	r := &c.r
	if !r.fields(n, field, answerFields...) {
		return
	}
	tn := n.get("type")
	if tn == nil {
		c.ps().add(n, field+".type", "is required (one of %v)", grader.Types())
		return
	}
	p.typ = grader.Type(r.str(tn, field+".type"))
	known := false
	for _, t := range grader.Types() {
		known = known || t == p.typ
	}
	if !known {
		c.ps().add(tn, field+".type", "unknown answer type %q (one of %v)", p.typ, grader.Types())
		return
	}
	allowed := map[grader.Type][]string{
		grader.Number:   {"tolerance", "unit", "suffixes", "follow", "follow_marks"},
		grader.Integer:  {"suffixes", "follow", "follow_marks", "tolerance"},
		grader.Choice:   {"options", "shuffle"},
		grader.Multi:    {"options", "shuffle", "scheme", "penalty"},
		grader.Text:     {"accept", "patterns", "case_sensitive", "rubric", "reference"},
		grader.Essay:    {"rubric", "reference"},
		grader.Sequence: {"case_sensitive", "follow", "follow_marks"},
		grader.Table:    {"tolerance", "rows", "columns", "follow", "follow_marks"},
		grader.Points:   {"tolerance", "charts"},
	}[p.typ]
	for i, k := range n.keys {
		name := k.str()
		if contains([]string{"type", "key", "value", "instruction"}, name) || !contains(answerFields, name) {
			continue
		}
		if !contains(allowed, name) {
			c.ps().add(k, join(field, name), "does not apply to a %s answer", p.typ)
		}
		_ = i
	}

	// The key: literal (key) or computed (value).
	kn, vn := n.get("key"), n.get("value")
	switch {
	case kn != nil && vn != nil:
		c.ps().add(kn, field+".key", "give either key (a literal) or value (an expression), not both")
	case kn != nil:
		p.key = calc.Normalize(kn.plain())
	case vn != nil:
		p.value = c.expr(vn, field+".value", r.str(vn, field+".value"))
	case p.typ == grader.Points:
		// each chart has its own value
	case p.typ == grader.Essay || p.typ == grader.Text:
		// graded by rubric or accepted phrasings
	default:
		c.ps().add(n, field, "needs key (a literal answer) or value (an expression for it)")
	}

	if tn := n.get("tolerance"); tn != nil && r.fields(tn, field+".tolerance", "abs", "rel", "sigfigs", "decimals") {
		if v := tn.get("abs"); v != nil {
			p.tolerance.Abs, _ = r.num(v, field+".tolerance.abs")
		}
		if v := tn.get("rel"); v != nil {
			p.tolerance.Rel, _ = r.num(v, field+".tolerance.rel")
		}
		if v := tn.get("sigfigs"); v != nil {
			p.tolerance.SigFigs, _ = r.integer(v, field+".tolerance.sigfigs")
		}
		if v := tn.get("decimals"); v != nil {
			p.tolerance.Decimals, _ = r.integer(v, field+".tolerance.decimals")
		}
		if p.tolerance.Abs < 0 || p.tolerance.Rel < 0 || p.tolerance.SigFigs < 0 || p.tolerance.Decimals < 0 {
			c.ps().add(tn, field+".tolerance", "tolerances cannot be negative")
		}
	}
	if un := n.get("unit"); un != nil {
		p.unit = r.str(un, field+".unit")
		if !contains(units, p.unit) {
			c.ps().add(un, field+".unit", "unknown unit %q (one of %v)", p.unit, units)
		}
	}
	if sn := n.get("suffixes"); sn != nil {
		p.suffixes = r.boolean(sn, field+".suffixes")
	}
	c.options(p, n, field)
	if sn := n.get("scheme"); sn != nil {
		p.scheme = r.str(sn, field+".scheme")
		if !contains(schemes, p.scheme) {
			c.ps().add(sn, field+".scheme", "unknown scheme %q (one of %v)", p.scheme, schemes)
		}
	} else if p.typ == grader.Multi {
		p.scheme = grader.AllOrNothing
	}
	if pn := n.get("penalty"); pn != nil {
		p.penalty, _ = r.num(pn, field+".penalty")
		if p.penalty < 0 || p.penalty > 1 {
			c.ps().add(pn, field+".penalty", "must be between 0 and 1")
		}
	}
	p.accept = r.strs(n.get("accept"), field+".accept")
	p.patterns = r.strs(n.get("patterns"), field+".patterns")
	for i, pat := range p.patterns {
		if _, err := regexp.Compile(pat); err != nil {
			c.ps().add(n.get("patterns").vals[i], fmt.Sprintf("%s.patterns[%d]", field, i), "bad regular expression: %v", err)
		}
	}
	if cn := n.get("case_sensitive"); cn != nil {
		p.caseSens = r.boolean(cn, field+".case_sensitive")
	}
	c.rubric(p, n.get("rubric"), field+".rubric")
	if p.typ == grader.Essay && len(p.rubric) == 0 {
		c.ps().add(n, field+".rubric", "an essay needs a rubric")
	}
	if p.typ == grader.Text && len(p.accept) == 0 && len(p.patterns) == 0 && len(p.rubric) == 0 {
		c.ps().add(n, field, "a text answer needs accept, patterns or a rubric")
	}
	if in := n.get("instruction"); in != nil {
		p.instr = c.text(in, field+".instruction")
	}
	if rn := n.get("reference"); rn != nil {
		p.reference = c.text(rn, field+".reference")
	}
	if fn := n.get("follow"); fn != nil {
		p.follow = r.str(fn, field+".follow")
		ans := map[string]any{}
		for _, q := range c.t.parts {
			ans[q.id] = nil
		}
		env := calc.Env{"ans": ans}
		for k, v := range c.env {
			env[k] = v
		}
		if _, err := calc.Compile(p.follow, env); err != nil {
			c.ps().add(fn, field+".follow", "%s", exprMessage(err))
		}
		for _, ref := range ansRefs.FindAllStringSubmatch(p.follow, -1) {
			if _, ok := ans[ref[1]]; !ok {
				c.ps().add(fn, field+".follow", "refers to ans.%s, which is not an earlier part", ref[1])
			}
		}
	}
	if fm := n.get("follow_marks"); fm != nil {
		p.followMk, _ = r.num(fm, field+".follow_marks")
		if p.followMk < 0 || p.followMk > p.marks {
			c.ps().add(fm, field+".follow_marks", "must be between 0 and the part's marks (%v)", p.marks)
		}
	}
	p.rows = c.texts(n.get("rows"), field+".rows")
	p.cols = c.texts(n.get("columns"), field+".columns")
	c.charts(p, n.get("charts"), field+".charts")
	if p.typ == grader.Points && len(p.charts) == 0 {
		c.ps().add(n, field+".charts", "a points answer needs at least one chart")
	}
}

var ansRefs = regexp.MustCompile(`\bans\.([A-Za-z0-9_]+)`)

func (c *compiler) options(p *part, n *node, field string) {
	on := n.get("options")
	if on == nil {
		if p.typ == grader.Choice || p.typ == grader.Multi {
			c.ps().add(n, field+".options", "a %s answer needs options", p.typ)
		}
		return
	}
	p.shuffle = true
	if sn := n.get("shuffle"); sn != nil {
		p.shuffle = c.r.boolean(sn, field+".shuffle")
	}
	if on.kind == scalarNode {
		p.optExpr = c.expr(on, field+".options", c.r.str(on, field+".options"))
		return
	}
	seen := map[string]bool{}
	for i, o := range c.r.list(on, field+".options") {
		of := fmt.Sprintf("%s.options[%d]", field, i)
		var opt grader.Option
		if o.kind == scalarNode {
			opt.Text = c.r.str(o, of)
			opt.ID = opt.Text
		} else {
			if !c.r.fields(o, of, "id", "text") {
				continue
			}
			opt.ID = c.r.str(o.get("id"), of+".id")
			opt.Text = c.r.str(o.get("text"), of+".text")
			if opt.ID == "" {
				c.ps().add(o, of+".id", "is required")
			}
		}
		if seen[opt.ID] {
			c.ps().add(o, of, "option id %q appears twice", opt.ID)
		}
		seen[opt.ID] = true
		p.options = append(p.options, opt)
	}
}

func (c *compiler) rubric(p *part, n *node, field string) {
	total := 0.0
	for i, item := range c.r.list(n, field) {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !c.r.fields(item, f, "id", "text", "marks", "phrases", "patterns") {
			continue
		}
		cr := grader.Criterion{
			ID:       c.r.str(item.get("id"), f+".id"),
			Text:     c.r.str(item.get("text"), f+".text"),
			Phrases:  c.r.strs(item.get("phrases"), f+".phrases"),
			Patterns: c.r.strs(item.get("patterns"), f+".patterns"),
		}
		if cr.ID == "" {
			cr.ID = fmt.Sprint(i + 1)
		}
		if mn := item.get("marks"); mn == nil {
			c.ps().add(item, f+".marks", "is required")
		} else {
			cr.Marks, _ = c.r.num(mn, f+".marks")
		}
		for j, pat := range cr.Patterns {
			if _, err := regexp.Compile(pat); err != nil {
				c.ps().add(item.get("patterns").vals[j], fmt.Sprintf("%s.patterns[%d]", f, j), "bad regular expression: %v", err)
			}
		}
		if len(cr.Phrases) == 0 && len(cr.Patterns) == 0 {
			c.ps().add(item, f, "a criterion needs phrases or patterns to match")
		}
		total += cr.Marks
		p.rubric = append(p.rubric, cr)
	}
	if len(p.rubric) > 0 && total+1e-9 < p.marks {
		c.ps().add(n, field, "criteria are worth %v in all, less than the part's %v marks", total, p.marks)
	}
}

func (c *compiler) charts(p *part, n *node, field string) {
	for i, item := range c.r.list(n, field) {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !c.r.fields(item, f, "id", "title", "x_label", "y_label", "value") {
			continue
		}
		ch := chart{
			id:     c.r.str(item.get("id"), f+".id"),
			title:  c.r.str(item.get("title"), f+".title"),
			xLabel: c.r.str(item.get("x_label"), f+".x_label"),
			yLabel: c.r.str(item.get("y_label"), f+".y_label"),
		}
		if ch.id == "" {
			c.ps().add(item, f+".id", "is required")
		}
		if vn := item.get("value"); vn == nil {
			c.ps().add(item, f+".value", "is required: an expression giving the points as [[label, x, y], ...]")
		} else {
			ch.value = c.expr(vn, f+".value", c.r.str(vn, f+".value"))
		}
		p.charts = append(p.charts, ch)
	}
}

// texts compiles a list of labels, each of which may hold placeholders.
func (c *compiler) texts(n *node, field string) []*variants.Text {
	var out []*variants.Text
	for i, item := range c.r.list(n, field) {
		out = append(out, c.text(item, fmt.Sprintf("%s[%d]", field, i)))
	}
	return out
}
