package bank

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/marksmith/marksmith/grader"
)

// Grading reads a published paper's stored variant for each student, and
// most of what is stored is for display: the stem, each part's prompt,
// lead, instruction, row and column labels and charts, and the reference
// answer shown to reviewers. DecodeForGrading reads only what grading
// reads, skipping the rest without decoding it, and a GradingDecoder
// moreover shares, between the variants it decodes, the answer specs
// they have in common, decoded and compiled once. The full decode
// (json.Unmarshal into a Variant) is for display.

// DecodeForGrading decodes from a stored variant (Variant's JSON
// encoding) only what grading reads: the template, version, seed,
// canonical flag, title, marks and parameters, and each part's ID, marks
// and answer spec without its Reference. Every other field is left
// empty. It checks the structure of what it skips, not every character:
// give it what Variant's JSON encoding wrote.
func DecodeForGrading(data []byte) (*Variant, error) {
	gv, err := decodeGrading(data, nil)
	if err == nil {
		_, err = gv.DecodeParams()
	}
	if err != nil {
		return nil, err
	}
	return gv.Variant, nil
}

// GradingVariant is a stored variant as GradingDecoder.Decode reads it,
// with the compiled parts its answer specs share with other variants. It
// is read-only (its specs may be shared with other variants) and for one
// goroutine at a time.
type GradingVariant struct {
	*Variant
	parts  []*sharedSpec // one for each of Variant.Parts
	params []byte        // the parameters as written, until decoded
}

// DecodeParams decodes the variant's parameters into Variant.Params, if
// they are not yet, and returns them. Only follow rules (see Grader) and
// a rebuild with another template version read them, so Decode leaves
// them as written.
func (gv *GradingVariant) DecodeParams() (map[string]any, error) {
	if gv.params != nil {
		params, err := decodeParams(gv.params)
		if err != nil {
			return nil, fmt.Errorf("stored variant: params: %w", err)
		}
		gv.Params, gv.params = params, nil
	}
	return gv.Params, nil
}

// Part returns part i compiled, for parsing answers; a part shared with
// other variants is compiled once for all of them.
func (gv *GradingVariant) Part(i int) (*grader.Part, error) { return gv.parts[i].compiled() }

// Grader compiles the variant's question, as Variant.Grader does, from
// its compiled parts.
func (gv *GradingVariant) Grader() (*grader.Question, error) {
	specs := make([]grader.Spec, len(gv.parts))
	parts := make([]*grader.Part, len(gv.parts))
	follow := false
	for i, s := range gv.parts {
		p, err := s.compiled()
		if err != nil {
			return nil, err
		}
		specs[i], parts[i] = s.spec, p
		follow = follow || strings.TrimSpace(s.spec.Follow) != ""
	}
	if follow {
		if _, err := gv.DecodeParams(); err != nil {
			return nil, err
		}
	}
	return grader.CompileParts(specs, parts, gv.Params)
}

// sharedSpec is an answer spec as decoded, and compiled when first used.
type sharedSpec struct {
	spec grader.Spec
	once sync.Once
	part *grader.Part
	err  error
}

func (s *sharedSpec) compiled() (*grader.Part, error) {
	s.once.Do(func() { s.part, s.err = grader.CompilePart(&s.spec) })
	return s.part, s.err
}

// GradingDecoder decodes stored variants as DecodeForGrading does and
// shares the answer specs that are written the same (but for their
// reference answers) between the variants it decodes: such a spec is
// decoded once, compiled once (GradingVariant.Part and Grader), and the
// same for all of them. It is safe for concurrent use.
//
// Specs are kept by template and part, and only while they are shared: a
// part whose specs are mostly different for each variant (keys drawn for
// every student) stops being kept, and what was kept of it is dropped.
// At most maxSharedSpecs specs, of maxSharedBytes, are kept in all.
type GradingDecoder struct {
	mu    sync.Mutex
	slots map[string]*specSlot // template and part ID → its specs
	n     int                  // specs kept
	size  int                  // their bytes
}

// specSlot holds the specs of one part of one template.
type specSlot struct {
	specs         map[string]*sharedSpec // by their JSON without reference
	size          int
	lookups, hits int
	off           bool
}

// The limits of a GradingDecoder: a part is judged after slotTrial look-ups
// and stops being kept when fewer than one in four found its spec.
const (
	maxSharedSpecs = 4096
	maxSharedBytes = 8 << 20
	slotTrial      = 256
)

// NewGradingDecoder returns a decoder with nothing kept.
func NewGradingDecoder() *GradingDecoder {
	return &GradingDecoder{slots: map[string]*specSlot{}}
}

// Decode decodes a stored variant as DecodeForGrading does, but for its
// parameters: see GradingVariant.DecodeParams.
func (d *GradingDecoder) Decode(data []byte) (*GradingVariant, error) {
	return decodeGrading(data, d)
}

// spec returns the shared spec written as raw in slot, decoding it when
// it is not kept.
func (d *GradingDecoder) spec(slot, raw []byte) (*sharedSpec, error) {
	if d == nil {
		return decodeSpec(raw)
	}
	d.mu.Lock()
	sl := d.slots[string(slot)]
	if sl == nil {
		sl = &specSlot{specs: map[string]*sharedSpec{}}
		d.slots[string(slot)] = sl
	}
	if !sl.off {
		sl.lookups++
		if s := sl.specs[string(raw)]; s != nil {
			sl.hits++
			d.mu.Unlock()
			return s, nil
		}
		if sl.lookups >= slotTrial && 4*sl.hits < sl.lookups {
			sl.off = true
			d.n -= len(sl.specs)
			d.size -= sl.size
			sl.specs, sl.size = nil, 0
		}
	}
	keep := !sl.off && d.n < maxSharedSpecs && d.size+len(raw) <= maxSharedBytes
	d.mu.Unlock()
	s, err := decodeSpec(raw)
	if err != nil || !keep {
		return s, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if sl.off {
		return s, nil
	}
	if kept := sl.specs[string(raw)]; kept != nil {
		return kept, nil // decoded meanwhile on another goroutine
	}
	sl.specs[string(raw)] = s
	sl.size += len(raw)
	d.n++
	d.size += len(raw)
	return s, nil
}

// decodeSpec decodes an answer spec as the full decode does, calling its
// UnmarshalJSON directly: json.Unmarshal would check the JSON first, and
// so does UnmarshalJSON.
func decodeSpec(raw []byte) (*sharedSpec, error) {
	s := &sharedSpec{}
	if err := s.spec.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	return s, nil
}

// decodeGrading decodes data for grading, sharing specs through d when
// it is not nil.
func decodeGrading(data []byte, d *GradingDecoder) (*GradingVariant, error) {
	sc := &scanner{b: data}
	if sc.peek() == 'n' { // null: the zero variant, as the full decode reads it
		_, err := sc.skip()
		if err == nil {
			err = sc.end()
		}
		if err != nil {
			return nil, fmt.Errorf("stored variant: %w", err)
		}
		return &GradingVariant{Variant: &Variant{}}, nil
	}
	// The fields read, but for the parameters and answer specs, are
	// gathered as written into a small object that encoding/json
	// decodes, so that they read exactly as in the full decode: head has
	// the variant's, partHead each part's ID and marks.
	head := make([]byte, 0, 256)
	head = append(head, '{')
	partHead := make([]byte, 0, 128)
	var params, template []byte
	var answers, ids [][]byte // each part's answer spec and ID, as written
	nullParts := false
	err := sc.object(func(key []byte) error {
		var name string
		switch {
		case keyIs(key, "template"):
			name = "template"
		case keyIs(key, "version"):
			name = "version"
		case keyIs(key, "variant"):
			name = "variant"
		case keyIs(key, "canonical"):
			name = "canonical"
		case keyIs(key, "title"):
			name = "title"
		case keyIs(key, "marks"):
			name = "marks"
		case keyIs(key, "params"):
			start, err := sc.skip()
			params = data[start:sc.i]
			return err
		case keyIs(key, "parts"):
			// A later "parts" replaces an earlier one.
			partHead, answers, ids, nullParts = partHead[:0], answers[:0], ids[:0], false
			if sc.peek() == 'n' {
				nullParts = true
				_, err := sc.skip()
				return err
			}
			partHead = append(partHead, '[')
			err := sc.array(func() error {
				var answer, id []byte
				if sc.peek() == 'n' { // a null part: a part with nothing
					partHead = append(partHead, "null,"...)
					answers, ids = append(answers, nil), append(ids, nil)
					_, err := sc.skip()
					return err
				}
				partHead = append(partHead, '{')
				err := sc.object(func(key []byte) error {
					if keyIs(key, "answer") {
						var err error
						answer, err = sc.answerSpec()
						return err
					}
					start, err := sc.skip()
					switch {
					case keyIs(key, "id"):
						id = data[start:sc.i]
						partHead = appendMember(partHead, "id", id)
					case keyIs(key, "marks"):
						partHead = appendMember(partHead, "marks", data[start:sc.i])
					}
					return err
				})
				partHead = append(trimComma(partHead), "},"...)
				answers, ids = append(answers, answer), append(ids, id)
				return err
			})
			partHead = append(trimComma(partHead), ']')
			return err
		default:
			_, err := sc.skip()
			return err
		}
		start, err := sc.skip()
		if err != nil {
			return err
		}
		if name == "template" {
			template = data[start:sc.i]
		}
		head = appendMember(head, name, data[start:sc.i])
		return nil
	})
	if err == nil {
		err = sc.end()
	}
	if err != nil {
		return nil, fmt.Errorf("stored variant: %w", err)
	}
	if nullParts {
		head = appendMember(head, "parts", []byte("null"))
	} else if len(partHead) > 0 {
		head = appendMember(head, "parts", partHead)
	}
	head = append(trimComma(head), '}')
	var h struct {
		Template  string  `json:"template"`
		Version   int     `json:"version"`
		Seed      uint64  `json:"variant"`
		Canonical bool    `json:"canonical"`
		Title     string  `json:"title"`
		Marks     float64 `json:"marks"`
		Parts     []struct {
			ID    string  `json:"id"`
			Marks float64 `json:"marks"`
		} `json:"parts"`
	}
	if err := json.Unmarshal(head, &h); err != nil {
		return nil, fmt.Errorf("stored variant: %w", err)
	}
	v := &Variant{Template: h.Template, Version: h.Version, Seed: h.Seed, Canonical: h.Canonical, Title: h.Title, Marks: h.Marks}
	gv := &GradingVariant{Variant: v, params: params}
	if h.Parts == nil {
		return gv, nil
	}
	v.Parts = make([]PartVariant, len(h.Parts))
	gv.parts = make([]*sharedSpec, len(h.Parts))
	slot := make([]byte, 0, len(template)+16)
	for i, hp := range h.Parts {
		pv := &v.Parts[i]
		pv.ID, pv.Marks = hp.ID, hp.Marks
		answer := answers[i]
		if answer == nil {
			answer = []byte("null") // as a spec with nothing
		}
		slot = append(append(append(slot[:0], template...), 0), ids[i]...)
		s, err := d.spec(slot, answer)
		if err != nil {
			return nil, fmt.Errorf("stored variant: part %q: answer: %w", pv.ID, err)
		}
		pv.Answer = s.spec
		gv.parts[i] = s
	}
	return gv, nil
}

// trimComma removes the comma that ends b, if any.
func trimComma(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == ',' {
		return b[:len(b)-1]
	}
	return b
}

// appendMember appends "name":value, to an object being written.
func appendMember(b []byte, name string, value []byte) []byte {
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	b = append(b, value...)
	return append(b, ',')
}

// answerSpec skips the answer spec at the scanner and returns it as
// written, but without its reference member (then in a copy), which
// grading does not read and which differs between variants whose specs
// are otherwise the same.
func (s *scanner) answerSpec() ([]byte, error) {
	if s.peek() != '{' {
		start, err := s.skip()
		return s.b[start:s.i], err
	}
	obj := s.i
	var kept [][2]int // the other members
	found := false
	err := s.objectAt(func(key []byte, start int) error {
		if _, err := s.skip(); err != nil {
			return err
		}
		if keyIs(key, "reference") {
			found = true
		} else {
			kept = append(kept, [2]int{start, s.i})
		}
		return nil
	})
	if err != nil || !found {
		return s.b[obj:s.i], err
	}
	b := make([]byte, 0, s.i-obj)
	b = append(b, '{')
	for i, m := range kept {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, s.b[m[0]:m[1]]...)
	}
	return append(b, '}'), nil
}

// decodeParams decodes a variant's parameters, keeping whole numbers as
// integers (see Variant.UnmarshalJSON); nil when there are none.
func decodeParams(raw []byte) (map[string]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var params map[string]any
	if err := dec.Decode(&params); err != nil {
		return nil, err
	}
	if params == nil {
		return nil, nil
	}
	return numbers(params).(map[string]any), nil
}

// keyIs reports whether a member's key, as written between its quotes,
// names name, matched as encoding/json matches keys to fields.
func keyIs(key []byte, name string) bool {
	if bytes.IndexByte(key, '\\') >= 0 {
		var s string
		q := make([]byte, 0, len(key)+2)
		q = append(append(append(q, '"'), key...), '"')
		if json.Unmarshal(q, &s) != nil {
			return false
		}
		key = []byte(s)
	}
	return string(key) == name || bytes.EqualFold(key, []byte(name))
}

// scanner walks JSON text, skipping values without decoding them.
type scanner struct {
	b     []byte
	i     int
	depth int
}

// maxDepth bounds the nesting of what a scanner skips, as encoding/json's does.
const maxDepth = 10000

var errEnd = errors.New("unexpected end of JSON input")

func (s *scanner) syntax(what string) error {
	if s.i >= len(s.b) {
		return errEnd
	}
	return fmt.Errorf("invalid character %q at offset %d: %s", s.b[s.i], s.i, what)
}

// peek skips white space and returns the next byte, 0 at the end.
func (s *scanner) peek() byte {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return c
		}
	}
	return 0
}

// end checks that nothing but white space follows.
func (s *scanner) end() error {
	if s.peek() != 0 {
		return s.syntax("after the top-level value")
	}
	return nil
}

// str skips a string at s.i (its opening quote) and returns its
// contents as written.
func (s *scanner) str() ([]byte, error) {
	start := s.i + 1
	j := start
	for {
		k := bytes.IndexByte(s.b[j:], '"')
		if k < 0 {
			s.i = len(s.b)
			return nil, errEnd
		}
		q := j + k
		n := 0
		for p := q - 1; p >= start && s.b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			s.i = q + 1
			return s.b[start:q], nil
		}
		j = q + 1
	}
}

// skip skips the value after white space and returns where it starts.
func (s *scanner) skip() (int, error) {
	c := s.peek()
	start := s.i
	switch c {
	case '"':
		_, err := s.str()
		return start, err
	case '{':
		return start, s.object(func([]byte) error { _, err := s.skip(); return err })
	case '[':
		return start, s.array(func() error { _, err := s.skip(); return err })
	case 0:
		return start, errEnd
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			goto done
		}
		s.i++
	}
done:
	if !literal(s.b[start:s.i]) {
		s.i = start
		return start, s.syntax("looking for the beginning of a value")
	}
	return start, nil
}

// literal reports whether b is true, false, null or a JSON number.
func literal(b []byte) bool {
	switch string(b) {
	case "true", "false", "null":
		return true
	}
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// object walks an object, calling member with each key (as written) with
// the scanner at its value, which member must consume.
func (s *scanner) object(member func(key []byte) error) error {
	return s.objectAt(func(key []byte, _ int) error { return member(key) })
}

// objectAt is object, also giving where each member starts.
func (s *scanner) objectAt(member func(key []byte, start int) error) error {
	if s.peek() != '{' {
		return s.syntax("looking for the beginning of an object")
	}
	if s.depth++; s.depth > maxDepth {
		return errors.New("exceeded max depth")
	}
	defer func() { s.depth-- }()
	s.i++
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.syntax("looking for the beginning of an object key string")
		}
		start := s.i
		key, err := s.str()
		if err != nil {
			return err
		}
		if s.peek() != ':' {
			return s.syntax("after an object key")
		}
		s.i++
		if err := member(key, start); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.syntax("after an object key:value pair")
		}
	}
}

// array walks an array, calling elem with the scanner at each element,
// which elem must consume.
func (s *scanner) array(elem func() error) error {
	if s.peek() != '[' {
		return s.syntax("looking for the beginning of an array")
	}
	if s.depth++; s.depth > maxDepth {
		return errors.New("exceeded max depth")
	}
	defer func() { s.depth-- }()
	s.i++
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.syntax("after an array element")
		}
	}
}
