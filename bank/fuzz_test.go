package bank

import (
	"errors"
	"testing"
)

// FuzzLoad feeds the template loader arbitrary bytes: it must return a
// template or a *ValidationError, never panic, and a loaded template must
// give its canonical variant.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(goodTemplate))
	f.Add([]byte(`{"id": "a/b", "title": "t", "marks": 1, "parts": [{"id": "a", "marks": 1, "prompt": "{{1+1}}", "answer": {"type": "integer", "value": "2"}}]}`))
	f.Add([]byte("id: [\n"))
	f.Add([]byte("&a x: *a\n"))
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
