package grader

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	plain := &Spec{Part: "a", Type: Number, Key: 1.0}
	suff := &Spec{Part: "a", Type: Number, Key: 1.0, Suffixes: true}
	tests := []struct {
		spec *Spec
		in   string
		want float64
		err  string // substring of the format error; "" for success
	}{
		{plain, "173408256", 173408256, ""},
		{plain, "173,408,256", 173408256, ""},
		{plain, "1,234.5", 1234.5, ""},
		{plain, "1.734e8", 1.734e8, ""},
		{plain, "1.734E+08", 1.734e8, ""},
		{plain, "1.734e-3", 0.001734, ""},
		{plain, "1.734 × 10^8", 1.734e8, ""},
		{plain, "1.734x10^8", 1.734e8, ""},
		{plain, "1.734X10^8", 1.734e8, ""},
		{plain, "1.734*10^8", 1.734e8, ""},
		{plain, "1.734*10**8", 1.734e8, ""},
		{plain, "1.734 · 10^8", 1.734e8, ""},
		{plain, "1.734×10⁸", 1.734e8, ""},
		{plain, "1.5 × 10^(−3)", 0.0015, ""},
		{plain, "1.5×10⁻³", 0.0015, ""},
		{plain, "10^8", 1e8, ""},
		{plain, "10⁸", 1e8, ""},
		{plain, "−12.5", -12.5, ""},
		{plain, "-12.5", -12.5, ""},
		{plain, "+12.5", 12.5, ""},
		{plain, "  42 \t\n", 42, ""},
		{plain, "\u00a042\u2009", 42, ""},
		{plain, ".5", 0.5, ""},
		{plain, "5.", 5, ""},
		{plain, "-0", 0, ""},
		{plain, "007", 7, ""},
		{plain, "0.1", 0.1, ""},
		{plain, "1e-400", 0, ""},
		{plain, "12,345,678,901,234,567,890,123", 12345678901234567890123, ""},
		{plain, "0.1234567890123456789012", 0.1234567890123456789012, ""},
		{plain, "9007199254740993", 9007199254740993, ""},
		{plain, "1.5e300", 1.5e300, ""},
		{plain, "-10^30", -1e30, ""},
		{plain, "10^-30", 1e-30, ""},
		{suff, "1.5e20 T", 1.5e32, ""},
		{suff, "1.5K", 1500, ""},
		{suff, "1.5 k", 1500, ""},
		{suff, "2M", 2e6, ""},
		{suff, "70B", 7e10, ""},
		{suff, "70 bn", 7e10, ""},
		{suff, "3T", 3e12, ""},
		{suff, "2 million", 2e6, ""},
		{suff, "1.2 Billion", 1.2e9, ""},
		{suff, "4 thousand", 4000, ""},
		{suff, "1 trillion", 1e12, ""},
		{suff, "1.734e2 M", 1.734e8, ""},

		{plain, "1.5K", 0, "without K, M, B or T"},
		{plain, "2 million", 0, "without K, M, B or T"},
		{plain, "NaN", 0, "finite"},
		{plain, "nan", 0, "finite"},
		{plain, "Inf", 0, "finite"},
		{plain, "-Infinity", 0, "finite"},
		{plain, "∞", 0, "finite"},
		{plain, "0x1F", 0, "hexadecimal"},
		{plain, "1_000", 0, "underscores"},
		{plain, "1,00,0", 0, "groups of three"},
		{plain, "1,0000", 0, "groups of three"},
		{plain, "10,00", 0, "groups of three"},
		{plain, "3,5", 0, "groups of three"},
		{plain, "0,123", 0, "groups of three"},
		{plain, "1,", 0, "groups of three"},
		{plain, ",100", 0, "groups of three"},
		{plain, "1,000.5,1", 0, "groups of three"},
		{plain, "1.2.3", 0, "Enter a number"},
		{plain, "abc", 0, "Enter a number"},
		{plain, "+", 0, "Enter a number"},
		{plain, "-", 0, "Enter a number"},
		{plain, ".", 0, "Enter a number"},
		{plain, "e5", 0, "Enter a number"},
		{plain, "5e", 0, "Unexpected \"e\""},
		{plain, "12 apples", 0, "Unexpected \"apples\""},
		{plain, "1 000", 0, "Unexpected \"000\""},
		{plain, "1.2 × 3", 0, "power of ten"},
		{plain, "1.2 × 10", 0, "power of ten"},
		{plain, "1e999", 0, "too large"},
		{plain, "1.7976931348623157e309", 0, "too large"},
		{plain, "1 × 10^400", 0, "too large"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.spec, tt.in)
		if tt.err != "" {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("Parse(%q) = %v, %v; want format error containing %q", tt.in, got, err, tt.err)
				continue
			}
			if !strings.Contains(fe.Msg, tt.err) {
				t.Errorf("Parse(%q) error %q; want it to contain %q", tt.in, fe.Msg, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if f, ok := got.(float64); !ok || f != tt.want || math.Signbit(f) != math.Signbit(tt.want) {
			t.Errorf("Parse(%q) = %#v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseNumberUnits(t *testing.T) {
	gb := &Spec{Part: "a", Type: Number, Key: 35.0, Unit: "GB"}
	gib := &Spec{Part: "a", Type: Number, Key: 1.0, Unit: "GiB"}
	ms := &Spec{Part: "a", Type: Number, Key: 1.0, Unit: "ms"}
	both := &Spec{Part: "a", Type: Number, Key: 1.0, Unit: "GB", Suffixes: true}
	tests := []struct {
		spec *Spec
		in   string
		want float64
		err  string
	}{
		{gb, "35", 35, ""},
		{gb, "35GB", 35, ""},
		{gb, "35 gb", 35, ""},
		{gb, "35000 MB", 35, ""},
		{gb, "35,000,000 KB", 35, ""},
		{gb, "0.035 TB", 35, ""},
		{gb, "35e9 B", 35, ""},
		{gb, "35e9 bytes", 35, ""},
		{gb, "1 GiB", 1.073741824, ""},
		{gb, "2 KiB", 2.048e-6, ""},
		{gib, "1 GiB", 1, ""},
		{gib, "1024 MiB", 1, ""},
		{gib, "1 TiB", 1024, ""},
		{gib, "1.073741824 GB", 1, ""},
		{ms, "12 ms", 12, ""},
		{ms, "12 MS", 12, ""},
		{ms, "12", 12, ""},
		{both, "70B", 70e-9, ""}, // a byte unit: B is bytes
		{both, "2K", 2000, ""},

		{gb, "35 GX", 0, "Unknown unit \"GX\""},
		{gb, "35 kg", 0, "Unknown unit"},
		{gb, "35 K", 0, "without K"},
		{ms, "12 s", 0, "Unknown unit \"s\"; give the answer in ms"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.spec, tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q, unit %s) = %v, %v; want error containing %q", tt.in, tt.spec.Unit, got, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q, unit %s): %v", tt.in, tt.spec.Unit, err)
			continue
		}
		if f := got.(float64); math.Abs(f-tt.want) > 1e-12*math.Abs(tt.want) {
			t.Errorf("Parse(%q, unit %s) = %v; want %v", tt.in, tt.spec.Unit, f, tt.want)
		}
	}
}

func TestParseInteger(t *testing.T) {
	spec := &Spec{Part: "r", Type: Integer, Key: 5, Suffixes: true}
	tests := []struct {
		in   string
		want float64
		err  string
	}{
		{"5", 5, ""},
		{"1,024", 1024, ""},
		{"1.5K", 1500, ""},
		{"2e3", 2000, ""},
		{"−7", -7, ""},
		{"5.0", 5, ""},
		{"2.5", 0, msgWhole},
		{"1e-3", 0, msgWhole},
		{"five", 0, "Enter a number"},
	}
	for _, tt := range tests {
		got, err := Parse(spec, tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q) = %v, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got.(float64) != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseBlank(t *testing.T) {
	for _, typ := range Types() {
		spec := validSpec(typ)
		for _, in := range []string{"", "   ", "\n\t"} {
			v, err := Parse(&spec, in)
			if v != nil || err != nil {
				t.Errorf("Parse(%s, %q) = %v, %v; want nil, nil", typ, in, v, err)
			}
		}
	}
}
