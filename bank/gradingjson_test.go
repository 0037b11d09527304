package bank

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/marksmith/marksmith/grader"
)

// forGrading is what DecodeForGrading keeps of a fully decoded variant.
func forGrading(v *Variant) *Variant {
	out := &Variant{Template: v.Template, Version: v.Version, Seed: v.Seed, Canonical: v.Canonical, Title: v.Title,
		Marks: v.Marks, Params: v.Params}
	if v.Parts != nil {
		out.Parts = make([]PartVariant, len(v.Parts))
		for i, p := range v.Parts {
			out.Parts[i] = PartVariant{ID: p.ID, Marks: p.Marks, Answer: p.Answer}
			out.Parts[i].Answer.Reference = ""
		}
	}
	return out
}

// answersFor are answers to every part of v: the keys, blanks, and a few
// wrong or unreadable ones.
func answersFor(v *Variant) []map[string]string {
	keys, wrong, bad := map[string]string{}, map[string]string{}, map[string]string{}
	for i := range v.Parts {
		id := v.Parts[i].ID
		keys[id] = KeyAnswer(&v.Parts[i].Answer)
		wrong[id] = "1"
		bad[id] = "A, Z; (x"
	}
	return []map[string]string{keys, {}, wrong, bad}
}

// checkForGrading decodes data fully and for grading, through d, and
// checks that the two agree on everything grading reads, and grade and
// parse every answer alike.
func checkForGrading(t *testing.T, d *GradingDecoder, data []byte) {
	t.Helper()
	var full Variant
	if err := json.Unmarshal(data, &full); err != nil {
		t.Fatal(err)
	}
	want := forGrading(&full)
	light, err := DecodeForGrading(data)
	if err != nil {
		t.Fatalf("DecodeForGrading: %v\n%s", err, data)
	}
	if !reflect.DeepEqual(light, want) {
		t.Fatalf("DecodeForGrading:\n got %+v\nwant %+v", light, want)
	}
	gv, err := d.Decode(data)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	wq, werr := full.Grader()
	gq, gerr := gv.Grader() // decodes the parameters when a follow rule reads them
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%s v%d seed %d: Grader: %v; full decode: %v", full.Template, full.Version, full.Seed, gerr, werr)
	}
	if params, err := gv.DecodeParams(); err != nil || !reflect.DeepEqual(params, want.Params) {
		t.Fatalf("DecodeParams = %v, %v; want %v", params, err, want.Params)
	}
	if !reflect.DeepEqual(gv.Variant, want) {
		t.Fatalf("GradingDecoder.Decode:\n got %+v\nwant %+v", gv.Variant, want)
	}
	if werr != nil {
		return
	}
	for _, a := range answersFor(&full) {
		if got, want := gq.Grade(a), wq.Grade(a); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s seed %d, answers %q:\n got %+v\nwant %+v", full.Template, full.Seed, a, got, want)
		}
		for i := range full.Parts {
			p, err := gv.Part(i)
			if err != nil {
				t.Fatal(err)
			}
			raw := a[full.Parts[i].ID]
			got, gotErr := p.Parse(raw)
			want, wantErr := grader.Parse(&full.Parts[i].Answer, raw)
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotErr, wantErr) {
				t.Fatalf("%s part %s: Parse(%q) = %v, %v; full decode: %v, %v", full.Template, full.Parts[i].ID, raw, got, gotErr, want, wantErr)
			}
		}
	}
}

// Every built-in template, over many seeds: the decode for grading reads
// what the full decode reads of the fields grading uses, and grades and
// parses alike, with its specs shared or not.
func TestDecodeForGradingBuiltin(t *testing.T) {
	ts, err := builtinOnce()
	if err != nil {
		t.Fatal(err)
	}
	seeds := 300
	if testing.Short() {
		seeds = 30
	}
	d := NewGradingDecoder()
	for _, tp := range ts {
		t.Run(tp.ID, func(t *testing.T) {
			for seed := range uint64(seeds) {
				v, err := tp.Variant(seed * 7919)
				if err != nil {
					t.Fatal(err)
				}
				data, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				checkForGrading(t, d, data)
			}
		})
	}
}

// The decode reads what the full decode reads however the JSON is laid
// out: members in another order, keys in other case or escaped, white
// space, unknown members, nulls and missing parts.
func TestDecodeForGradingLayout(t *testing.T) {
	d := NewGradingDecoder()
	for _, data := range []string{
		`{"parts":[{"answer":{"reference":"r","type":"number","part":"a","marks":2,"key":3},"marks":2,"id":"a","prompt":"p"}],"marks":4,"template":"t","params":{"x":1,"y":1.5,"l":[1,2.0,"s"],"m":{"k":3}}}`,
		` { "Template" : "t" , "VERSION":2, "variant": 18446744073709551615, "canonical": true,
		    "parts" : [ { "id" : "a\u00e9\"\\", "answer" : { "part":"a\u00e9\"\\", "type":"text", "marks":1, "accept":["x \"y\""], "Reference":"a\\\"b" } } ] } `,
		`{"template":"t","parts":[null,{"id":"b","answer":null},{"id":"c"}]}`,
		`{"template":"t","parts":null,"params":null}`,
		`{"template":"t","parts":[],"params":{}}`,
		`{}`,
		`{"template":"t","title":"old","title":"new","parts":[{"id":"a","answer":{"part":"a","type":"integer","marks":1,"key":1}}],"parts":[{"id":"b","answer":{"part":"b","type":"integer","marks":1,"key":2,"reference":"x","reference":"y"}}]}`,
		`{"template":"t","stem":"[{\"parts\": [","extra":{"deep":[[[{"a":[true,false,null,-1.5e+3,0]}]]]},"parts":[{"id":"a","rows":["x","y"],"charts":[{"id":"c","points":[]}],"answer":{"part":"a","type":"choice","marks":1,"options":[{"id":"x","label":"A","text":"X","correct":true},{"id":"y","label":"B","text":"Y"}]}}]}`,
	} {
		checkForGrading(t, d, []byte(data))
	}
}

// What cannot be read is an error, however it is cut or mangled, and
// never a panic.
func TestDecodeForGradingErrors(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q6").Variant(42)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(data) {
		if _, err := DecodeForGrading(data[:n]); err == nil {
			t.Fatalf("%d of %d bytes: no error", n, len(data))
		}
	}
	for _, bad := range []string{
		``, `[]`, `nul`, `null x`, `{"parts":{}}`, `{"parts":[1]}`, `{"version":"2"}`, `{"version":1.5}`, `{"marks":01}`,
		`{"parts":[{"id":1}]}`, `{"parts":[{"answer":"x"}]}`, `{"parts":[{"answer":{"type":"dance","key":1}}]}`,
		`{"params":[1]}`, `{"a":tru}`, `{"a":1.}`, `{"a":-}`, `{"a" 1}`, `{"a":1,}`, `{"a":[1,]}`, `{} {}`, `{"a":"x}`,
		`{"a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`,
	} {
		var full Variant
		fullErr := json.Unmarshal([]byte(bad), &full)
		_, err := DecodeForGrading([]byte(bad))
		if err == nil || fullErr == nil {
			t.Errorf("%.60s: error %v; full decode: %v", bad, err, fullErr)
		}
	}
}

// Specs written the same are decoded and compiled once; a part whose
// specs differ for each variant stops being kept.
func TestGradingDecoderShares(t *testing.T) {
	tp := builtinTemplate(t, "dasc7606/q1") // a-d: options drawn for each variant; e: one essay
	d := NewGradingDecoder()
	var first *GradingVariant
	var wg sync.WaitGroup
	vs := make([]*GradingVariant, slotTrial+50)
	for i := range vs {
		v, err := tp.Variant(uint64(i + 1))
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			gv, err := d.Decode(data)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := gv.Grader(); err != nil {
				t.Error(err)
			}
			vs[i] = gv
		}()
		if i == 0 {
			wg.Wait()
			first = vs[0]
		}
	}
	wg.Wait()
	for _, gv := range vs[slotTrial:] {
		if gv.parts[4] != first.parts[4] {
			t.Fatal("the essay's spec is not shared")
		}
		if gv.parts[0] == first.parts[0] {
			t.Fatal("part a's spec, drawn for each variant, is shared")
		}
	}
	p1, _ := first.Part(4)
	p2, _ := vs[len(vs)-1].Part(4)
	if p1 != p2 {
		t.Error("the essay is compiled twice")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for slot, sl := range d.slots {
		essay := strings.HasSuffix(slot, `"e"`)
		if sl.off == essay || (sl.off && len(sl.specs) != 0) {
			t.Errorf("slot %q: off %v with %d specs", slot, sl.off, len(sl.specs))
		}
	}
	if d.n != 1 {
		t.Errorf("%d specs kept, want 1", d.n)
	}
}

// FuzzDecodeForGrading: never a panic; and whatever the full decode
// reads, written again, the decode for grading reads alike.
func FuzzDecodeForGrading(f *testing.F) {
	for _, id := range []string{"dasc7606/q1", "dasc7606/q5", "dasc7606/q6", "dasc7606/q8"} {
		v, err := builtinTemplate(f, id).Variant(3)
		if err != nil {
			f.Fatal(err)
		}
		data, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"parts":[{"id":"a\u00e9","answer":{"part":"a","type":"number","marks":1,"key":1e3,"reference":"x"}}],"params":{"x":[1,{"y":2}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeForGrading(data)
		var full Variant
		if json.Unmarshal(data, &full) != nil {
			return
		}
		again, err := json.Marshal(&full)
		if err != nil {
			return
		}
		if err := json.Unmarshal(again, &full); err != nil {
			return
		}
		light, err := DecodeForGrading(again)
		if err != nil {
			t.Fatalf("%s: %v", again, err)
		}
		if want := forGrading(&full); !reflect.DeepEqual(light, want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", again, light, want)
		}
	})
}

// BenchmarkDecodeCohort decodes the stored papers of 1,000 students of the
// built-in paper and compiles their graders: fully, as grading does
// without sharing, and with a GradingDecoder.
func BenchmarkDecodeCohort(b *testing.B) {
	ts, err := builtinOnce()
	if err != nil {
		b.Fatal(err)
	}
	var papers [][]byte
	size := 0
	for seed := range uint64(1000) {
		for _, tp := range ts {
			v, err := tp.Variant(seed + 1)
			if err != nil {
				b.Fatal(err)
			}
			data, err := json.Marshal(v)
			if err != nil {
				b.Fatal(err)
			}
			papers = append(papers, data)
			size += len(data)
		}
	}
	b.Run("full", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, data := range papers {
				var v Variant
				if err := json.Unmarshal(data, &v); err != nil {
					b.Fatal(err)
				}
				if _, err := v.Grader(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("for-grading", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			for _, data := range papers {
				v, err := DecodeForGrading(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.Grader(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("shared", func(b *testing.B) {
		b.SetBytes(int64(size))
		for b.Loop() {
			d := NewGradingDecoder()
			for _, data := range papers {
				gv, err := d.Decode(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := gv.Grader(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
