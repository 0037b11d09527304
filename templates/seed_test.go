package templates

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/storage"
)

// TestSeedTemplate checks when a built-in template becomes a new stored
// version and how it is numbered.
func TestSeedTemplate(t *testing.T) {
	db, err := storage.Open(t.Context(), filepath.Join(t.TempDir(), "seed.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	templates := storage.NewTemplateStore(db)
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	svc := New(storage.NewStore(db), func() time.Time { return now }, nil)
	tmpl := func(version int, source string) *bank.Template {
		return &bank.Template{ID: "x/q1", Title: "Q1", Version: version, Marks: 5, Tags: []string{"t"}, Format: "yaml", Source: []byte(source)}
	}
	upload := func(source string) {
		if err := templates.CreateTemplateVersion(t.Context(), &marksmith.TemplateVersion{TemplateID: "x/q1", Format: "yaml", Source: source}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		before func()
		t      *bank.Template
		want   int // version stored, 0 for none
	}{
		{"new template keeps its version", nil, tmpl(3, "a"), 3},
		{"unchanged", nil, tmpl(3, "a"), 0},
		{"changed, same declared version", nil, tmpl(3, "b"), 4},
		{"changed, higher declared version", nil, tmpl(9, "c"), 9},
		{"unchanged behind an upload", func() { upload("mine") }, tmpl(9, "c"), 0},
		{"changed after an upload", nil, tmpl(9, "d"), 11},
		{"back to an older source", nil, tmpl(9, "c"), 12},
	} {
		if tc.before != nil {
			tc.before()
		}
		got, err := svc.seed(t.Context(), tc.t, now)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tc.want == 0 {
			if got != nil {
				t.Fatalf("%s: stored version %d, want none", tc.name, got.Version)
			}
			continue
		}
		if got == nil || got.Version != tc.want || !got.Builtin || got.Source != string(tc.t.Source) || !got.CreatedAt.Equal(now) {
			t.Fatalf("%s: stored %+v, want built-in version %d", tc.name, got, tc.want)
		}
	}
	vs, err := templates.FindTemplateVersions(t.Context(), "x/q1")
	if err != nil || len(vs) != 6 || vs[0].Source != "a" || vs[1].Source != "b" {
		t.Fatalf("stored versions changed: %d, %v", len(vs), err)
	}
}
