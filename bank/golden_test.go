package bank

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenSeeds are the drawn variants pinned for every built-in template,
// beside the canonical one.
var goldenSeeds = []uint64{1, 2024}

// TestGolden pins every built-in template's canonical variant (as text, with
// its key) and two drawn variants (as JSON), byte for byte. Run with
// -update after an intended change and read the diff.
func TestGolden(t *testing.T) {
	ts, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range ts {
		t.Run(tp.ID, func(t *testing.T) {
			base := strings.ReplaceAll(tp.ID, "/", "_")
			v, err := tp.Canonical()
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if err := v.WriteText(&text, true); err != nil {
				t.Fatal(err)
			}
			golden(t, base+".canonical.txt", text.Bytes())
			var js bytes.Buffer
			for _, seed := range goldenSeeds {
				v, err := tp.Variant(seed)
				if err != nil {
					t.Fatal(err)
				}
				b, err := json.MarshalIndent(v, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				js.Write(b)
				js.WriteByte('\n')
			}
			golden(t, base+".variants.json", js.Bytes())
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bank -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run with -update if the change is intended.\n--- got ---\n%s", path, got)
	}
}
