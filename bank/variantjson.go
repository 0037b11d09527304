package bank

import (
	"encoding/json"
	"strings"
)

// UnmarshalJSON decodes a stored variant, keeping whole-number parameters
// as integers (as they were drawn) rather than JSON's float64.
func (v *Variant) UnmarshalJSON(data []byte) error {
	type plain Variant
	var aux struct {
		plain
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	*v = Variant(aux.plain)
	var err error
	v.Params, err = decodeParams(aux.Params)
	return err
}

// numbers turns json.Numbers into int (written without a fraction or
// exponent) or float64.
func numbers(x any) any {
	switch t := x.(type) {
	case json.Number:
		s := t.String()
		if !strings.ContainsAny(s, ".eE") {
			if i, err := t.Int64(); err == nil {
				return int(i)
			}
		}
		f, _ := t.Float64()
		return f
	case []any:
		for i := range t {
			t[i] = numbers(t[i])
		}
		return t
	case map[string]any:
		for k := range t {
			t[k] = numbers(t[k])
		}
		return t
	}
	return x
}
