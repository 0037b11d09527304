package storage

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

func newTemplate(id string, version int, title string, tags ...string) *marksmith.TemplateVersion {
	return &marksmith.TemplateVersion{
		TemplateID: id, Version: version, Title: title, Marks: 12.5, Tags: tags,
		Format: "yaml", Source: fmt.Sprintf("id: %s\ntitle: %s\n", id, title),
	}
}

func TestCreateTemplateVersion(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		s := NewTemplateStore(db)
		ctx := t.Context()
		owner := mustCreateUsers(t, NewUserStore(db), marksmith.User{Email: "i@uni.edu", Role: marksmith.RoleInstructor})[0]
		missing := owner.ID + 50
		for _, tc := range []struct {
			name        string
			tv          *marksmith.TemplateVersion
			code        string
			wantVersion int
		}{
			{"first, numbered", newTemplate("q1", 0, "CNN"), "", 1},
			{"second, numbered", newTemplate("q1", 0, "CNN (fixed)"), "", 2},
			{"explicit number", newTemplate("q1", 7, "CNN v7"), "", 7},
			{"after a gap", newTemplate("q1", 0, "CNN v8"), "", 8},
			{"number taken", newTemplate("q1", 2, "again"), marksmith.ECONFLICT, 0},
			{"other template", newTemplate("q2", 3, "RNN", "rnn"), "", 3},
			{"no id", newTemplate("", 0, "x"), marksmith.EINVALID, 0},
			{"bad format", &marksmith.TemplateVersion{TemplateID: "q3", Format: "toml", Source: "x"}, marksmith.EINVALID, 0},
			{"no source", &marksmith.TemplateVersion{TemplateID: "q3", Format: "json"}, marksmith.EINVALID, 0},
			{"negative version", newTemplate("q3", -1, "x"), marksmith.EINVALID, 0},
			{"unknown author", &marksmith.TemplateVersion{TemplateID: "q3", Format: "json", Source: "{}", CreatedBy: &missing}, marksmith.EINVALID, 0},
		} {
			err := s.CreateTemplateVersion(ctx, tc.tv)
			wantCode(t, tc.name, err, tc.code)
			if tc.code != "" {
				continue
			}
			if tc.tv.Version != tc.wantVersion || !tc.tv.CreatedAt.Equal(testClock) {
				t.Fatalf("%s: stored as version %d at %v, want %d at %v", tc.name, tc.tv.Version, tc.tv.CreatedAt, tc.wantVersion, testClock)
			}
			got, err := s.FindTemplateVersion(ctx, tc.tv.TemplateID, tc.wantVersion)
			if err != nil || !reflect.DeepEqual(got, tc.tv) {
				t.Fatalf("%s: FindTemplateVersion = %+v, %v\nwant %+v", tc.name, got, err, tc.tv)
			}
		}
		// Every field round-trips, including author, builtin and tags.
		at := testClock.Add(-48 * time.Hour)
		full := &marksmith.TemplateVersion{TemplateID: "dasc7606/q6-cnn", Title: "CNN and ImageNet", Marks: 24,
			Tags: []string{"cnn", "imagenet"}, Format: "json", Source: `{"id":"dasc7606/q6-cnn"}`, Builtin: true,
			CreatedBy: &owner.ID, CreatedAt: at}
		if err := s.CreateTemplateVersion(ctx, full); err != nil {
			t.Fatal(err)
		}
		want := *full
		want.Version = 1
		got, err := s.FindTemplateVersion(ctx, "dasc7606/q6-cnn", 0)
		if err != nil || !reflect.DeepEqual(got, &want) {
			t.Fatalf("full template = %+v, %v\nwant %+v", got, err, &want)
		}
	})
}

// TestCreateTemplateVersionConcurrent numbers concurrent new versions of
// one template without losing any.
func TestCreateTemplateVersionConcurrent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		s := NewTemplateStore(db)
		const n = 5
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = s.CreateTemplateVersion(t.Context(), newTemplate("q", 0, fmt.Sprint("t", i))) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
		vs, err := s.FindTemplateVersions(t.Context(), "q")
		if err != nil || len(vs) != n {
			t.Fatalf("FindTemplateVersions = %d versions, %v; want %d", len(vs), err, n)
		}
		for i, v := range vs {
			if v.Version != i+1 {
				t.Fatalf("version %d is numbered %d", i, v.Version)
			}
		}
	})
}

func TestFindTemplateVersions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		s := NewTemplateStore(db)
		ctx := t.Context()
		for _, tv := range []*marksmith.TemplateVersion{newTemplate("q1", 0, "one"), newTemplate("q1", 0, "two"), newTemplate("q2", 0, "other")} {
			if err := s.CreateTemplateVersion(ctx, tv); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name    string
			id      string
			version int
			titles  []string // FindTemplateVersions, oldest first
			one     string   // FindTemplateVersion
			code    string
		}{
			{"latest", "q1", 0, []string{"one", "two"}, "two", ""},
			{"first", "q1", 1, []string{"one", "two"}, "one", ""},
			{"missing version", "q1", 3, []string{"one", "two"}, "", marksmith.ENOTFOUND},
			{"other", "q2", 0, []string{"other"}, "other", ""},
			{"missing template", "q9", 0, nil, "", marksmith.ENOTFOUND},
		} {
			vs, err := s.FindTemplateVersions(ctx, tc.id)
			var titles []string
			for _, v := range vs {
				titles = append(titles, v.Title)
			}
			if !reflect.DeepEqual(titles, tc.titles) || (tc.titles == nil) != (marksmith.ErrorCode(err) == marksmith.ENOTFOUND) {
				t.Errorf("%s: FindTemplateVersions = %v, %v; want %v", tc.name, titles, err, tc.titles)
			}
			one, err := s.FindTemplateVersion(ctx, tc.id, tc.version)
			wantCode(t, tc.name, err, tc.code)
			if tc.code == "" && one.Title != tc.one {
				t.Errorf("%s: FindTemplateVersion title %q, want %q", tc.name, one.Title, tc.one)
			}
		}
	})
}

func TestFindTemplates(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		s := NewTemplateStore(db)
		for _, tv := range []*marksmith.TemplateVersion{
			newTemplate("dasc/q1", 0, "Old title", "cnn", "legacy"),
			newTemplate("dasc/q1", 0, "Convolutions", "CNN", "vision"), // latest of q1
			newTemplate("dasc/q2", 0, "Recurrent nets", "rnn"),
			newTemplate("dasc/q3", 0, "Attention 100%", "transformer", "cnn-free"),
			newTemplate("misc/x_y", 0, "Backprop", "calculus"),
			newTemplate("misc/xzy", 0, "Decoy"),
			newTemplate("misc/q5", 0, "Tags with \"quotes\"", `a"b`),
			newTemplate("misc/q6", 0, "No tags"),
		} {
			if err := s.CreateTemplateVersion(t.Context(), tv); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name   string
			filter marksmith.TemplateFilter
			ids    []string
			total  int
		}{
			{"all", marksmith.TemplateFilter{}, []string{"dasc/q1", "dasc/q2", "dasc/q3", "misc/q5", "misc/q6", "misc/x_y", "misc/xzy"}, 7},
			{"query in id", marksmith.TemplateFilter{Query: "DASC/"}, []string{"dasc/q1", "dasc/q2", "dasc/q3"}, 3},
			{"query in latest title", marksmith.TemplateFilter{Query: "convol"}, []string{"dasc/q1"}, 1},
			{"query in old title only", marksmith.TemplateFilter{Query: "old title"}, nil, 0},
			{"percent is literal", marksmith.TemplateFilter{Query: "0%"}, []string{"dasc/q3"}, 1},
			{"underscore is literal", marksmith.TemplateFilter{Query: "x_y"}, []string{"misc/x_y"}, 1},
			{"tag, any case", marksmith.TemplateFilter{Tag: "cnn"}, []string{"dasc/q1"}, 1},
			{"tag is a whole tag", marksmith.TemplateFilter{Tag: "cnn-free"}, []string{"dasc/q3"}, 1},
			{"tag with quote", marksmith.TemplateFilter{Tag: `a"b`}, []string{"misc/q5"}, 1},
			{"second tag", marksmith.TemplateFilter{Tag: "vision"}, []string{"dasc/q1"}, 1},
			{"tag of old version only", marksmith.TemplateFilter{Tag: "legacy"}, nil, 0},
			{"query and tag", marksmith.TemplateFilter{Query: "misc", Tag: "calculus"}, []string{"misc/x_y"}, 1},
			{"page", marksmith.TemplateFilter{Offset: 1, Limit: 2}, []string{"dasc/q2", "dasc/q3"}, 7},
			{"no match", marksmith.TemplateFilter{Tag: "nope"}, nil, 0},
		} {
			got, total, err := s.FindTemplates(t.Context(), tc.filter)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var ids []string
			for _, tv := range got {
				ids = append(ids, tv.TemplateID)
				if tv.TemplateID == "dasc/q1" && (tv.Version != 2 || tv.Title != "Convolutions" || !reflect.DeepEqual(tv.Tags, []string{"CNN", "vision"})) {
					t.Errorf("%s: dasc/q1 is not the latest version: %+v", tc.name, tv)
				}
			}
			if !reflect.DeepEqual(ids, tc.ids) || total != tc.total {
				t.Errorf("%s: got %v total %d, want %v total %d", tc.name, ids, total, tc.ids, tc.total)
			}
		}
	})
}
