// Package papercode makes and reads paper codes: the short code printed on
// a student's paper exam (as text and as a QR code) that names the exam
// and the student the paper was made for, so that answers typed up from
// the paper reach that student's stored variant.
//
// A code is written E<exam>-S<student>-<check>, for example E12-S00345-7:
// the exam's id, the student's user id (at least five digits, zero padded)
// and one check digit. The check digit is Damm's algorithm over the
// number of digits of the exam id followed by the digits of both ids as
// written. Damm's algorithm catches every single-digit substitution and
// every swap of two adjacent digits; the separators are required, so a
// separator typed as a digit or swapped with one is refused too; and
// leading the digits with the exam id's length makes a moved boundary
// between the two ids (E1-S200345 for E12-S00345) a substitution, caught
// as well.
package papercode

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Code is a decoded paper code.
type Code struct {
	Exam    int64 // the exam's id
	Student int64 // the student's user id
}

// MaxExam is the largest exam id a code can hold.
const MaxExam = 999_999_999

// ErrCheckDigit is the error Parse returns (wrapped) when a code is well
// formed but its check digit is not the one its numbers give.
var ErrCheckDigit = errors.New("check digit does not match: mistyped?")

// Error is a code that cannot be read: its text and why.
type Error struct {
	Input string
	Err   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("paper code %q: %v", e.Input, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns the code of a student's paper of an exam: the exam id from
// 0 to MaxExam, the student's user id from 0.
func New(exam, student int64) (Code, error) {
	if exam < 0 || exam > MaxExam {
		return Code{}, fmt.Errorf("paper code: exam id %d is out of range 0 to %d", exam, MaxExam)
	}
	if student < 0 {
		return Code{}, fmt.Errorf("paper code: student id %d is negative", student)
	}
	return Code{Exam: exam, Student: student}, nil
}

// String writes the code as it is printed: E12-S00345-7. A code with an
// id out of range (which New refuses) writes as "invalid".
func (c Code) String() string {
	if c.Exam < 0 || c.Exam > MaxExam || c.Student < 0 {
		return "invalid"
	}
	exam := strconv.FormatInt(c.Exam, 10)
	student := fmt.Sprintf("%05d", c.Student)
	return "E" + exam + "-S" + student + "-" + string(rune('0'+check(exam, student)))
}

// MarshalText writes the code as String does.
func (c Code) MarshalText() ([]byte, error) {
	if c.Exam < 0 || c.Exam > MaxExam || c.Student < 0 {
		return nil, fmt.Errorf("paper code: ids out of range (exam %d, student %d)", c.Exam, c.Student)
	}
	return []byte(c.String()), nil
}

// UnmarshalText reads a code as Parse does.
func (c *Code) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Parse reads a paper code. Letters may be in either case, spaces around
// the code are ignored, and a hyphen, a dash or spaces separate its
// groups. The separators may not be left out, so that a separator typed
// as a digit, or a dropped check digit, is never read as part of a
// number. The check digit is checked over the digits exactly as
// written: a code with an extra or a missing leading zero does not pass.
func Parse(s string) (Code, error) {
	fail := func(format string, args ...any) (Code, error) {
		return Code{}, &Error{Input: s, Err: fmt.Errorf(format, args...)}
	}
	const want = "a paper code looks like E12-S00345-7"
	in := strings.TrimSpace(s)
	if in == "" {
		return fail("empty: %s", want)
	}
	i := 0
	if in[i] != 'E' && in[i] != 'e' {
		return fail("does not start with E: %s", want)
	}
	i++
	exam, n := digits(in[i:])
	if n == 0 {
		return fail("no exam number after E: %s", want)
	}
	i += n
	sep := separator(in[i:])
	if sep == 0 {
		return fail("expected a hyphen, then S and the student number, after the exam number: %s", want)
	}
	i += sep
	if i >= len(in) || (in[i] != 'S' && in[i] != 's') {
		return fail("expected S and the student number after the exam number: %s", want)
	}
	i++
	student, n := digits(in[i:])
	if n == 0 {
		return fail("no student number after S: %s", want)
	}
	i += n
	sep = separator(in[i:])
	if sep == 0 {
		if i == len(in) {
			return fail("no check digit: expected a hyphen and the check digit after the student number: %s", want)
		}
		return fail("expected a hyphen and the check digit after the student number: %s", want)
	}
	i += sep
	if i >= len(in) {
		return fail("no check digit: %s", want)
	}
	if in[i] < '0' || in[i] > '9' {
		return fail("the check digit %q is not a digit: %s", in[i:i+1], want)
	}
	digit := int(in[i] - '0')
	i++
	if i != len(in) {
		return fail("unexpected %q after the check digit: %s", in[i:], want)
	}
	if len(exam) > 9 {
		return fail("the exam number has more than 9 digits")
	}
	if len(student) > 18 {
		return fail("the student number has more than 18 digits")
	}
	if check(exam, student) != digit {
		return Code{}, &Error{Input: s, Err: ErrCheckDigit}
	}
	e, _ := strconv.ParseInt(exam, 10, 64)
	st, _ := strconv.ParseInt(student, 10, 64)
	return Code{Exam: e, Student: st}, nil
}

// digits returns the leading ASCII digits of s and how many bytes they
// take.
func digits(s string) (string, int) {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return s[:n], n
}

// separator returns the length in bytes of the separator s starts with: a
// run of spaces, or one hyphen, en dash, em dash or minus sign with
// spaces around it; 0 when there is none.
func separator(s string) int {
	n := 0
	for n < len(s) && s[n] == ' ' {
		n++
	}
	for _, d := range []string{"-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212"} {
		if strings.HasPrefix(s[n:], d) {
			n += len(d)
			for n < len(s) && s[n] == ' ' {
				n++
			}
			return n
		}
	}
	return n
}

// damm is the operation table of Damm's algorithm: a totally
// anti-symmetric quasigroup of order 10, row by row (interim digit, then
// the next digit).
const damm = "0317598642" +
	"7092154863" +
	"4206871359" +
	"1750983426" +
	"6123045978" +
	"3674209581" +
	"5869720134" +
	"8945362017" +
	"9438617205" +
	"2581436790"

// check returns the check digit of the code with exam and student
// written as the given digits.
func check(exam, student string) int {
	interim := int(damm[len(exam)%10] - '0') // the table's row 0: the first digit
	for _, s := range []string{exam, student} {
		for i := 0; i < len(s); i++ {
			interim = int(damm[interim*10+int(s[i]-'0')] - '0')
		}
	}
	return interim
}
