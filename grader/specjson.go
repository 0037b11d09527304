package grader

import (
	"encoding/json"
	"fmt"
)

// UnmarshalJSON decodes a spec and gives its key the Go type the answer type
// documents (so a stored paper grades exactly as a freshly drawn one).
func (s *Spec) UnmarshalJSON(data []byte) error {
	type plain Spec
	var aux struct {
		plain
		Key json.RawMessage `json:"key"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	*s = Spec(aux.plain)
	s.Key = nil
	if len(aux.Key) == 0 || string(aux.Key) == "null" {
		return nil
	}
	var err error
	switch s.Type {
	case Number:
		var f float64
		err, s.Key = json.Unmarshal(aux.Key, &f), f
	case Integer:
		var i int
		err, s.Key = json.Unmarshal(aux.Key, &i), i
	case Choice, Text, Essay:
		var str string
		err, s.Key = json.Unmarshal(aux.Key, &str), str
	case Multi, Sequence:
		var l []string
		err, s.Key = json.Unmarshal(aux.Key, &l), l
	case Table:
		var m [][]float64
		err, s.Key = json.Unmarshal(aux.Key, &m), m
	case Points:
		var c []Chart
		err, s.Key = json.Unmarshal(aux.Key, &c), c
	default:
		return fmt.Errorf("spec of part %s: unknown answer type %q", s.Part, s.Type)
	}
	if err != nil {
		return fmt.Errorf("spec of part %s: key: %w", s.Part, err)
	}
	return nil
}
