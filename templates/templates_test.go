package templates

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/storage"
)

// TestLimitsAreTheBanks checks that the routes' limits on a template id
// and a part id are the ones the bank enforces on upload, so that no
// stored template has an id, or a part, that the routes refuse.
func TestLimitsAreTheBanks(t *testing.T) {
	if marksmith.MaxTemplateID != bank.MaxIDLength {
		t.Errorf("marksmith.MaxTemplateID is %d, bank.MaxIDLength %d", marksmith.MaxTemplateID, bank.MaxIDLength)
	}
	if marksmith.MaxPartID != bank.MaxPartIDLength {
		t.Errorf("marksmith.MaxPartID is %d, bank.MaxPartIDLength %d", marksmith.MaxPartID, bank.MaxPartIDLength)
	}
}

// TestUploadRefusesUnusableText checks that an upload whose id no route
// takes, or whose text holds what no database should get, is 422 naming
// the field, and stores nothing.
func TestUploadRefusesUnusableText(t *testing.T) {
	db, err := storage.Open(t.Context(), filepath.Join(t.TempDir(), "upload.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	svc := New(storage.NewStore(db), func() time.Time { return time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC) }, nil)
	prof := &marksmith.User{Email: "prof@example.edu", Role: marksmith.RoleInstructor}
	if err := storage.NewUserStore(db).CreateUser(t.Context(), prof); err != nil {
		t.Fatal(err)
	}
	src := func(id, title, tags string) string {
		return "id: " + id + "\ntitle: " + title + "\nmarks: 1\ntags: " + tags + "\nparts:\n  - {id: a, marks: 1, prompt: x, answer: {type: integer, key: 1}}\n"
	}
	long := "t/" + strings.Repeat("i", marksmith.MaxTemplateID-1)
	tests := []struct {
		name, format, source string
		field                string
	}{
		{"id over the limit", "yaml", src(long, "A", "[]"), "id"},
		{"NUL in the title", "yaml", src("t/nul", `"A\0B"`, "[]"), "title"},
		{"NUL in the title, JSON", "json", `{"id":"t/nul","title":"A\u0000B","marks":1,"parts":[{"id":"a","marks":1,"prompt":"x","answer":{"type":"integer","key":1}}]}`, "title"},
		{"control character in a tag", "yaml", src("t/tag", "A", `[ok, "b\x1bd"]`), "tags[1]"},
	}
	for _, tt := range tests {
		_, _, err := svc.UploadTemplate(t.Context(), prof, marksmith.TemplateUpload{Format: tt.format, Source: []byte(tt.source)})
		var me *marksmith.Error
		if !asError(err, &me) || me.Code != marksmith.EUNPROCESSABLE {
			t.Errorf("%s: %v, want 422", tt.name, err)
			continue
		}
		ps, _ := me.Details.([]bank.Problem)
		if len(ps) != 1 || ps[0].Field != tt.field {
			t.Errorf("%s: problems %v, want one naming %s", tt.name, ps, tt.field)
		}
	}
	if _, _, err := svc.UploadTemplate(t.Context(), prof, marksmith.TemplateUpload{Format: "yaml", Source: []byte(src(long[:len(long)-1], "A", "[]"))}); err != nil {
		t.Errorf("an id of %d characters: %v", marksmith.MaxTemplateID, err)
	}
	ts, total, err := svc.FindTemplates(t.Context(), prof, marksmith.TemplateFilter{Limit: 10})
	if err != nil || total != 1 || len(ts) != 1 || ts[0].TemplateID != long[:len(long)-1] {
		t.Errorf("stored: %d %v %v", total, ts, err)
	}
}

func asError(err error, target **marksmith.Error) bool {
	e, ok := err.(*marksmith.Error)
	*target = e
	return ok
}
