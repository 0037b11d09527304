package bank

import (
	"errors"
	"strings"
	"testing"
)

// FuzzLoad feeds the template loader arbitrary bytes: it must return a
// template or a *ValidationError, never panic or exhaust the stack or
// memory, and a loaded template must give its canonical variant. The seeds
// include the hostile inputs of TestLoadLimits.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(goodTemplate))
	f.Add([]byte(`{"id": "a/b", "title": "t", "marks": 1, "parts": [{"id": "a", "marks": 1, "prompt": "{{1+1}}", "answer": {"type": "integer", "value": "2"}}]}`))
	f.Add([]byte("id: [\n"))
	f.Add([]byte("&a x: *a\n"))
	f.Add([]byte(minimal("params:\n  x: {value: " + aliasBomb() + "}\n")))
	f.Add([]byte(minimal("params:\n  x: {choice: [1, 2]}\ncanonical: {x: " + aliasBomb() + "}\n")))
	f.Add([]byte(strings.Repeat("[", 120_000)))
	f.Add([]byte(strings.Repeat("{b: ", 30_000)))
	f.Add([]byte(nested(200)))
	f.Add([]byte(strings.Repeat("- ", 1000) + "x\n"))
	f.Add([]byte(manyKeys(1001)))
	f.Add([]byte(withPrompt(strings.Repeat("{{x}}", 1001))))
	f.Add([]byte(nParams(201)))
	f.Add([]byte(nParts(101)))
	f.Fuzz(func(t *testing.T, data []byte) {
		tp, err := Load("fuzz.yaml", data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error %v is not a ValidationError with problems", err)
			}
			return
		}
		if _, err := tp.Canonical(); err != nil {
			t.Fatalf("loaded, but the canonical variant fails: %v", err)
		}
	})
}
