package papercode

import (
	"errors"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		exam, student int64
		want          string
	}{
		{12, 345, "E12-S00345-2"},
		{1, 1, "E1-S00001-1"},
		{0, 0, "E0-S00000-4"},
		{7, 1234567, "E7-S1234567-7"},
		{999999999, 99999, "E999999999-S99999-0"},
	}
	for _, tt := range tests {
		c, err := New(tt.exam, tt.student)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.String(); got != tt.want {
			t.Errorf("New(%d, %d) = %s, want %s", tt.exam, tt.student, got, tt.want)
		}
		back, err := Parse(tt.want)
		if err != nil {
			t.Errorf("Parse(%s): %v", tt.want, err)
		} else if back != c {
			t.Errorf("Parse(%s) = %+v, want %+v", tt.want, back, c)
		}
	}
}

func TestNewRange(t *testing.T) {
	for _, tt := range []struct{ exam, student int64 }{{-1, 1}, {MaxExam + 1, 1}, {1, -1}} {
		if _, err := New(tt.exam, tt.student); err == nil {
			t.Errorf("New(%d, %d): no error", tt.exam, tt.student)
		}
	}
	if got := (Code{Exam: -1}).String(); got != "invalid" {
		t.Errorf("String of an invalid code = %q", got)
	}
}

func TestParseForms(t *testing.T) {
	want := Code{Exam: 12, Student: 345}
	for _, s := range []string{
		"E12-S00345-2", "e12-s00345-2", "  E12-S00345-2\t", "E12 S00345 2",
		"E12 - S00345 - 2", "E12–S00345–2", "E12\u2212S00345\u22122",
	} {
		got, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		} else if got != want {
			t.Errorf("Parse(%q) = %+v, want %+v", s, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, msg string
		check   bool
	}{
		{"", "empty", false},
		{"   ", "empty", false},
		{"12-S00345-2", "does not start with E", false},
		{"E-S00345-2", "no exam number", false},
		{"E12S00345-2", "expected a hyphen, then S", false},
		{"E120S00345-2", "expected a hyphen, then S", false}, // the hyphen typed as a zero
		{"E12-00345-2", "expected S", false},
		{"E12-S-2", "no student number", false},
		{"E12-S00345", "no check digit", false},
		{"E12-S00345-", "no check digit", false},
		{"E12-S003452", "expected a hyphen and the check digit", false},
		{"E12-S00345-X", "is not a digit", false},
		{"E12-S00345-22", "unexpected \"2\" after the check digit", false},
		{"E1234567890-S00345-2", "more than 9 digits", false},
		{"E12-S1234567890123456789-0", "more than 18 digits", false},
		{"E12-S00345-7", "check digit does not match: mistyped?", true},
		{"E12-S0345-2", "check digit does not match", true},   // a padding zero dropped
		{"E012-S00345-2", "check digit does not match", true}, // a zero added
		{"E1-S200345-2", "check digit does not match", true},  // the boundary moved
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q): no error", tt.in)
			continue
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Parse(%q) = %v, want it to say %q", tt.in, err, tt.msg)
		}
		if got := errors.Is(err, ErrCheckDigit); got != tt.check {
			t.Errorf("Parse(%q): errors.Is(err, ErrCheckDigit) = %v, want %v", tt.in, got, tt.check)
		}
		var e *Error
		if !errors.As(err, &e) || e.Input != tt.in {
			t.Errorf("Parse(%q): error %T does not carry the input", tt.in, err)
		}
	}
}

// samples are codes whose every mistyping is tried.
var samples = []Code{{12, 345}, {1, 1}, {4096, 123456}, {70, 99999}, {987654321, 10203}, {5, 0}}

// alphabet is every character tried in place of another.
const alphabet = "0123456789ESes- XO"

// TestSubstitutionsCaught changes every character of sample codes, written
// with hyphens and with spaces, to every other character: the result is
// refused, or (a separator for another, a letter's case) reads as the same
// code. A digit changed to another digit is refused by the check digit.
func TestSubstitutionsCaught(t *testing.T) {
	n := 0
	for _, c := range samples {
		for _, code := range forms(c) {
			for i := 0; i < len(code); i++ {
				for _, r := range alphabet {
					if byte(r) == code[i] {
						continue
					}
					typo := code[:i] + string(r) + code[i+1:]
					n++
					got, err := Parse(typo)
					if isDigit(code[i]) && isDigit(byte(r)) {
						if !errors.Is(err, ErrCheckDigit) {
							t.Errorf("%s typed as %s: got %+v, %v; want the check digit error", code, typo, got, err)
						}
						continue
					}
					if err == nil && got != c {
						t.Errorf("%s typed as %s reads as another paper, %s", code, typo, got)
					}
				}
			}
		}
	}
	t.Logf("%d substitutions tried", n)
}

// TestTranspositionsCaught swaps every two adjacent characters of sample
// codes: the result is refused or reads as the same code; two digits
// swapped are refused by the check digit.
func TestTranspositionsCaught(t *testing.T) {
	n := 0
	for _, c := range samples {
		for _, code := range forms(c) {
			for i := 0; i+1 < len(code); i++ {
				if code[i] == code[i+1] {
					continue
				}
				typo := code[:i] + code[i+1:i+2] + code[i:i+1] + code[i+2:]
				n++
				got, err := Parse(typo)
				digits := isDigit(code[i]) && isDigit(code[i+1])
				if digits && !errors.Is(err, ErrCheckDigit) {
					t.Errorf("%s typed as %s: got %+v, %v; want the check digit error", code, typo, got, err)
				}
				if err == nil && got != c {
					t.Errorf("%s typed as %s reads as another paper, %s", code, typo, got)
				}
			}
		}
	}
	t.Logf("%d transpositions tried", n)
}

// TestBoundaryMoves moves the boundary between the exam and the student
// number of sample codes one or more digits either way, the digits kept
// in order: each is caught by the check digit (or, past nine digits of
// exam number, refused as too long).
func TestBoundaryMoves(t *testing.T) {
	for _, c := range samples {
		code := c.String()
		s := strings.Index(code, "-S")
		end := strings.LastIndexByte(code, '-')
		digits := code[1:s] + code[s+2:end]
		for at := 1; at < len(digits); at++ {
			if at == s-1 {
				continue
			}
			typo := "E" + digits[:at] + "-S" + digits[at:] + code[end:]
			_, err := Parse(typo)
			if at <= 9 && !errors.Is(err, ErrCheckDigit) || err == nil {
				t.Errorf("%s typed as %s: %v, want the check digit error", code, typo, err)
			}
		}
	}
}

func forms(c Code) []string {
	s := c.String()
	return []string{s, strings.ReplaceAll(s, "-", " ")}
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func TestText(t *testing.T) {
	c := Code{Exam: 3, Student: 42}
	b, err := c.MarshalText()
	if err != nil || string(b) != c.String() {
		t.Fatalf("MarshalText = %s, %v", b, err)
	}
	var back Code
	if err := back.UnmarshalText(b); err != nil || back != c {
		t.Fatalf("UnmarshalText(%s) = %+v, %v", b, back, err)
	}
	if err := back.UnmarshalText([]byte("E3-S00042-0")); !errors.Is(err, ErrCheckDigit) {
		t.Fatalf("UnmarshalText of a mistyped code: %v", err)
	}
	if _, err := (Code{Student: -1}).MarshalText(); err == nil {
		t.Fatal("MarshalText of an invalid code: no error")
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range samples {
		for _, s := range forms(c) {
			f.Add(s)
		}
	}
	f.Add("E12 - S00345 - 2")
	f.Add("e0s0-0")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			if errors.Is(err, ErrCheckDigit) && !strings.Contains(err.Error(), "mistyped") {
				t.Fatalf("unclear error %v", err)
			}
			return
		}
		if c.Exam < 0 || c.Exam > MaxExam || c.Student < 0 {
			t.Fatalf("Parse(%q) = %+v: out of range", s, c)
		}
		back, err := Parse(c.String())
		if err != nil || back != c {
			t.Fatalf("Parse(%q) = %+v, but its String %s reads as %+v, %v", s, c, c.String(), back, err)
		}
	})
}

func FuzzString(f *testing.F) {
	f.Add(int64(12), int64(345))
	f.Fuzz(func(t *testing.T, exam, student int64) {
		c, err := New(exam, student)
		if err != nil {
			return
		}
		back, err := Parse(c.String())
		if err != nil || back != c {
			t.Fatalf("%+v writes as %s, which reads as %+v, %v", c, c.String(), back, err)
		}
	})
}

// TestDammTable checks the table itself from every interim digit: a digit
// changed, or two adjacent digits swapped, always leads to another interim
// digit, so no later digit can hide the error.
func TestDammTable(t *testing.T) {
	op := func(interim, d int) int { return int(damm[interim*10+d] - '0') }
	for p := 0; p < 10; p++ {
		for a := 0; a < 10; a++ {
			for b := 0; b < 10; b++ {
				if a == b {
					continue
				}
				if op(p, a) == op(p, b) {
					t.Errorf("from %d, digits %d and %d give the same interim", p, a, b)
				}
				if op(op(p, a), b) == op(op(p, b), a) {
					t.Errorf("from %d, %d%d and %d%d give the same interim", p, a, b, b, a)
				}
			}
		}
		if op(p, p) != 0 {
			t.Errorf("the diagonal at %d is %d, not 0", p, op(p, p))
		}
	}
}
