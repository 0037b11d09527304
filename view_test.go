package marksmith

import "testing"

func TestPartLabel(t *testing.T) {
	for id, want := range map[string]string{"b": "b", "b_why": "b, why", "e_name": "e, name", "a_step_two": "a, step two", "_x": "_x", "x_": "x_"} {
		if got := PartLabel(id); got != want {
			t.Errorf("PartLabel(%q) = %q, want %q", id, got, want)
		}
	}
}
