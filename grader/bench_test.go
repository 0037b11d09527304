package grader

import (
	"strconv"
	"testing"
)

// numberInputs returns n numbers written in the syntaxes students use.
func numberInputs(n int) []string {
	forms := []func(i int) string{
		func(i int) string { return strconv.Itoa(173408256 + i) },
		func(i int) string { return "173," + strconv.Itoa(100+i%900) + ",256" },
		func(i int) string { return "1.734" + strconv.Itoa(i%10) + "e8" },
		func(i int) string { return "1.734 × 10^" + strconv.Itoa(i%12) },
		func(i int) string { return "1.734x10^8" },
		func(i int) string { return "−0." + strconv.Itoa(1000+i) },
		func(i int) string { return " +" + strconv.Itoa(i) + ".5 " },
		func(i int) string { return strconv.Itoa(i%100) + "K" },
		func(i int) string { return "70B" },
		func(i int) string { return "1.5 million" },
	}
	out := make([]string, n)
	for i := range out {
		out[i] = forms[i%len(forms)](i)
	}
	return out
}

func BenchmarkParseNumbers1000(b *testing.B) {
	in := numberInputs(1000)
	o := &numOpts{thousands: true, suffixes: true}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range in {
			if _, msg := parseNumber(s, o); msg != "" {
				b.Fatalf("%q: %s", s, msg)
			}
		}
	}
}

// paper is a representative full paper as one question list: 35 parts
// of mixed types, like the eight questions of the seed exam.
func paper() ([]Spec, map[string]string) {
	var specs []Spec
	answers := map[string]string{}
	add := func(s Spec, answer string) {
		s.Part = strconv.Itoa(len(specs)+1) + s.Part
		specs = append(specs, s)
		answers[s.Part] = answer
	}
	multi := validSpec(Multi)
	multi.Scheme = PerOption
	multi.Penalty = 0.5
	for range 4 {
		add(multi, "B, D")
	}
	add(Spec{Type: Essay, Marks: 4, Rubric: []Criterion{
		{ID: "linear", Marks: 1, Phrases: []string{"linear"}},
		{ID: "relu", Marks: 1, Phrases: []string{"relu"}},
		{ID: "smooth", Marks: 2, Phrases: []string{"smooth*", "non monotonic"}},
	}}, "At beta = 0 it is linear, for large beta it approaches ReLU, and it is smooth.")
	for i := range 12 {
		add(Spec{Type: Number, Marks: 3, Key: 173408256.0 + float64(i), Tolerance: Tolerance{Rel: 0.001}}, "173,408,256")
	}
	add(Spec{Type: Number, Marks: 2, Key: 35.0, Unit: "GB"}, "35 GB")
	add(Spec{Type: Number, Marks: 2, Key: 70e9, Suffixes: true}, "70B")
	for range 4 {
		add(Spec{Type: Integer, Marks: 3, Key: 1280}, "1,280")
	}
	for range 5 {
		add(validSpec(Choice), "(b)")
	}
	add(Spec{Type: Sequence, Marks: 2, Key: []string{"1111", "0001"}}, "1111, 0001")
	add(Spec{Type: Table, Marks: 4, Key: [][]float64{
		{-1, -0.87, -0.73, -0.6, -0.47, -0.33, -0.2, -0.07},
		{0.07, 0.2, 0.33, 0.47, 0.6, 0.73, 0.87, 1}}, Tolerance: Tolerance{Abs: 0.01}},
		"-1 -0.87 -0.73 -0.6 -0.47 -0.33 -0.2 -0.07\n0.07 0.2 0.33 0.47 0.6 0.73 0.87 1")
	add(validSpec(Points), "d12: cat (1, 2), dog (3, 4); d34: cat (-1, 0.5), dog (0, 0)")
	add(Spec{Type: Text, Marks: 3, Accept: []string{"embedding layer", "embeddings"}}, "The embedding layer")
	add(Spec{Type: Number, Marks: 3, Key: 3.0, Follow: "ans['6'] - 173408253"}, "4")
	add(Spec{Type: Number, Marks: 3, Key: 0.0879, Tolerance: Tolerance{SigFigs: 3}}, "0.0879")
	return specs, answers
}

func BenchmarkGradePaper(b *testing.B) {
	specs, answers := paper()
	q, err := Compile(specs, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ReportMetric(float64(len(specs)), "parts")
	for b.Loop() {
		q.Grade(answers)
	}
}

// BenchmarkGradeQuestion grades one question of mixed types without an
// error-carried-forward evaluation.
func BenchmarkGradeQuestion(b *testing.B) {
	specs := []Spec{
		{Part: "a", Type: Number, Marks: 3, Key: 173408256.0, Tolerance: Tolerance{Rel: 0.001}},
		{Part: "b", Type: Integer, Marks: 2, Key: 1280},
		{Part: "c", Type: Choice, Marks: 2, Options: abcd()},
		func() Spec { s := validSpec(Multi); s.Part = "d"; return s }(),
		{Part: "e", Type: Sequence, Marks: 2, Key: []string{"1111", "0001"}},
		{Part: "f", Type: Number, Marks: 3, Key: 173408256.0 - 1280, Follow: "ans.a - ans.b"},
	}
	answers := map[string]string{"a": "1.734e8", "b": "1,280", "c": "B", "d": "B, D", "e": "1111 0001", "f": "173,406,976"}
	q, err := Compile(specs, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		q.Grade(answers)
	}
}

// BenchmarkGradePart grades one part of each type.
func BenchmarkGradePart(b *testing.B) {
	specs, answers := paper()
	seen := map[Type]bool{}
	for _, s := range specs {
		if seen[s.Type] {
			continue
		}
		seen[s.Type] = true
		q, err := Compile([]Spec{s}, nil)
		if err != nil {
			continue // the follow part reads another part
		}
		in := map[string]string{s.Part: answers[s.Part]}
		b.Run(string(s.Type), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				q.Grade(in)
			}
		})
	}
}

// BenchmarkCompilePaper compiles the representative paper, as each
// variant of an exam is compiled once before grading.
func BenchmarkCompilePaper(b *testing.B) {
	specs, _ := paper()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(specs, nil); err != nil {
			b.Fatal(err)
		}
	}
}
