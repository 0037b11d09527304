package bank

import (
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// q7Paper is the paper's text of each part's options, in the paper's order,
// and the instructor's key as those texts.
var q7Paper = []struct {
	part, prompt string
	options      []string
	key          []string
}{
	{
		part:    "a",
		prompt:  "Which loss function is commonly used in GANs?",
		options: []string{"Cross-entropy loss", "Mean squared error loss", "Binary logistic loss", "Softmax loss"},
		key:     []string{"Cross-entropy loss", "Binary logistic loss"},
	},
	{
		part:    "b",
		prompt:  "Which of the following are related to the generation of sample variations?",
		options: []string{"Input in the generator component of a GAN", "Adjusting the weights and biases of the generator", "Mode collapse in GANs", "Conditional GAN"},
		key:     []string{"Input in the generator component of a GAN", "Mode collapse in GANs", "Conditional GAN"},
	},
	{
		part:    "c",
		prompt:  "How does the training process of a GAN usually work with a generated sample?",
		options: []string{"Only the generator is trained", "Either the generator or discriminator is trained", "Both the generator and discriminator are trained for score 0.5", "The generator is trained for score 1 and the discriminator for score 0"},
		key:     []string{"Either the generator or discriminator is trained", "The generator is trained for score 1 and the discriminator for score 0"},
	},
}

// q7Texts returns the option texts of a part in display order and the texts
// of its right options, sorted.
func q7Texts(p PartVariant) (shown, right []string) {
	for _, o := range p.Answer.Options {
		shown = append(shown, o.Text)
		if o.Correct {
			right = append(right, o.Text)
		}
	}
	sort.Strings(right)
	return shown, right
}

func TestQ7CanonicalRendersThePaper(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q7").Canonical()
	if err != nil {
		t.Fatal(err)
	}
	if v.Marks != 12 || !strings.Contains(v.Stem, "select one or more answers as appropriate.") || strings.Contains(v.Stem, "circling") {
		t.Errorf("marks %v, stem %q (online, nobody circles a letter)", v.Marks, v.Stem)
	}
	const instruction = "\n\nSelect every option that applies, one or more (typed: their letters, e.g. A, C)."
	for i, want := range q7Paper {
		p := v.Parts[i]
		if p.ID != want.part || p.Prompt != want.prompt+instruction || p.Marks != 4 {
			t.Errorf("part %d = (%s) %q, %v marks; want (%s) %q, 4 marks", i, p.ID, p.Prompt, p.Marks, want.part, want.prompt)
		}
		shown, right := q7Texts(p)
		if !reflect.DeepEqual(shown, want.options) {
			t.Errorf("(%s) options %q, want the paper's order %q", p.ID, shown, want.options)
		}
		key := append([]string(nil), want.key...)
		sort.Strings(key)
		if !reflect.DeepEqual(right, key) {
			t.Errorf("(%s) right options %q, want %q", p.ID, right, key)
		}
	}
	labels := map[string][]any{"a": {"A", "C"}, "b": {"A", "C", "D"}, "c": {"B", "D"}}
	for _, p := range v.Parts {
		if got := KeyValue(&p.Answer); !reflect.DeepEqual(got, labels[p.ID]) {
			t.Errorf("(%s) canonical key labels %v, want %v", p.ID, got, labels[p.ID])
		}
	}
}

func TestQ7VariantsShuffleOptionsAndKeepKeys(t *testing.T) {
	tp := builtinTemplate(t, "dasc7606/q7")
	orders := map[string]map[string]bool{"a": {}, "b": {}, "c": {}}
	for seed := uint64(1); seed <= 500; seed++ {
		v, err := tp.Variant(seed)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range q7Paper {
			p := v.Parts[i]
			shown, right := q7Texts(p)
			sorted := append([]string(nil), shown...)
			sort.Strings(sorted)
			paper := append([]string(nil), want.options...)
			sort.Strings(paper)
			if !reflect.DeepEqual(sorted, paper) {
				t.Fatalf("seed %d (%s): options %q are not the paper's", seed, p.ID, shown)
			}
			key := append([]string(nil), want.key...)
			sort.Strings(key)
			if !reflect.DeepEqual(right, key) {
				t.Errorf("seed %d (%s): right options %q, want %q", seed, p.ID, right, key)
			}
			orders[p.ID][strings.Join(shown, "|")] = true
		}
	}
	for part, seen := range orders {
		if len(seen) != 24 {
			t.Errorf("(%s): %d of the 24 option orders appear in 500 variants", part, len(seen))
		}
	}
}

func TestQ7Grading(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q7").Variant(5)
	if err != nil {
		t.Fatal(err)
	}
	// Seed 5 shows (a) as A Cross-entropy, B Binary logistic, C Softmax, D MSE.
	if shown, _ := q7Texts(v.Parts[0]); shown[0] != "Cross-entropy loss" || shown[1] != "Binary logistic loss" {
		t.Fatalf("seed 5 (a) options %q", shown)
	}
	tests := []struct {
		part, answer string
		want         float64
	}{
		{"a", "A, B", 4},
		{"a", "A", 2},
		{"a", "A, B, C", 2},
		{"a", "A, B, C, D", 0},
		{"a", "C, D", 0},
		{"a", "cross_entropy, binary_logistic", 4},
		{"b", "A, C, D", 4},
		{"b", "A, B, C, D", 4 * 2.0 / 3},
		{"c", "B, C", 4},
		{"c", "D", 0},
	}
	for _, tc := range tests {
		if r := gradeOne(t, v, tc.part, tc.answer); math.Abs(r.Score-tc.want) > 1e-9 {
			t.Errorf("(%s) %q scores %v, want %v (%s)", tc.part, tc.answer, r.Score, tc.want, r.FormatError)
		}
	}
}
