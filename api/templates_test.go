package api

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
)

func TestUploadTemplateVersions(t *testing.T) {
	h := newHarness(t)
	tok := h.tokenFor(h.instructor)
	upload := func(ct string, body []byte) response {
		return h.do(request{method: "POST", path: "/api/v1/templates", token: tok, contentType: ct, body: body})
	}
	src := readTestdata(t, "area.yaml")
	resp := upload("application/yaml", src)
	if resp.status != 201 {
		t.Fatalf("upload: %d %s", resp.status, resp.body)
	}
	var up uploadResponse
	resp.decode(t, &up)
	if up.ID != "test/area" || up.Version != 1 || up.Title != "Area of a rectangle" || up.Marks != 4 ||
		strings.Join(up.Tags, ",") != "geometry,test" || up.Format != "yaml" || up.CreatedBy == nil || *up.CreatedBy != h.instructor.ID {
		t.Errorf("upload response %+v", up)
	}
	// The same source again stores nothing.
	resp = upload("text/yaml; charset=utf-8", src)
	resp.decode(t, &up)
	if resp.status != 200 || !up.Unchanged || up.Version != 1 {
		t.Errorf("re-upload: %d %s", resp.status, resp.body)
	}
	// A changed source is version 2; version 1 stays as it was.
	v2 := strings.Replace(string(src), "Area of a rectangle", "Rectangle area", 1)
	resp = upload("application/x-yaml", []byte(v2))
	resp.decode(t, &up)
	if resp.status != 201 || up.Version != 2 || up.Title != "Rectangle area" {
		t.Fatalf("second version: %d %s", resp.status, resp.body)
	}
	resp = h.do(request{method: "GET", path: "/api/v1/templates/test%2Farea", token: tok})
	var tr templateResponse
	resp.decode(t, &tr)
	if resp.status != 200 || tr.Version != 2 || tr.Source != v2 || len(tr.Versions) != 2 ||
		tr.Versions[0].Version != 1 || tr.Versions[0].Title != "Area of a rectangle" || tr.Versions[1].Version != 2 {
		t.Fatalf("get: %d %s", resp.status, resp.body)
	}
	// Only the owner or an admin adds a version.
	other := h.seedUser("other@example.edu", marksmith.RoleInstructor, testPassword)
	v3 := strings.Replace(v2, "Rectangle area", "Area", 1)
	resp = h.do(request{method: "POST", path: "/api/v1/templates", token: h.tokenFor(other), contentType: "application/yaml", body: []byte(v3)})
	if resp.status != 403 || resp.err(t).Code != marksmith.EFORBIDDEN {
		t.Errorf("another instructor's version: %d %s", resp.status, resp.body)
	}
	resp = h.do(request{method: "POST", path: "/api/v1/templates", token: h.tokenFor(h.admin), contentType: "application/yaml", body: []byte(v3)})
	resp.decode(t, &up)
	if resp.status != 201 || up.Version != 3 || up.CreatedBy == nil || *up.CreatedBy != h.admin.ID {
		t.Errorf("an admin's version: %d %s", resp.status, resp.body)
	}
	resp = h.do(request{method: "GET", path: "/api/v1/templates/test%2Farea?version=1", token: tok})
	resp.decode(t, &tr)
	if resp.status != 200 || tr.Version != 1 || tr.Source != string(src) {
		t.Errorf("get version 1: %d %s", resp.status, resp.body)
	}
	// JSON uploads are accepted too.
	jsonSrc := `{"id":"test/json","title":"Doubling","marks":1,"params":{"x":{"choice":[1,2]},"y":{"expr":"2*x"}},` +
		`"canonical":{"x":1},"parts":[{"id":"a","marks":1,"prompt":"Double {{x}}?","answer":{"type":"number","value":"y"}}]}`
	resp = upload("application/json", []byte(jsonSrc))
	resp.decode(t, &up)
	if resp.status != 201 || up.Format != "json" || up.ID != "test/json" {
		t.Errorf("JSON upload: %d %s", resp.status, resp.body)
	}
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/api/v1/templates/test%2Farea?version=4", 404},
		{"/api/v1/templates/test%2Farea?version=0", 400},
		{"/api/v1/templates/nothing", 404},
		{"/api/v1/templates/" + strings.Repeat("x", 201), 400},
		{"/api/v1/templates/bad%00id", 400},
		{"/api/v1/templates/bad%ffid", 400},
		{"/api/v1/templates/%20%20", 422},
	} {
		if resp := h.do(request{method: "GET", path: tt.path, token: tok}); resp.status != tt.want {
			t.Errorf("%s: %d, want %d", tt.path, resp.status, tt.want)
		}
	}
}

// TestUploadBrokenTemplate checks that a template with problems is refused
// with 422 and each problem's line, column and field.
func TestUploadBrokenTemplate(t *testing.T) {
	h := newHarness(t)
	tok := h.tokenFor(h.admin)
	tests := []struct {
		name, contentType string
		body              []byte
		want              []bank.Problem // line and field of each, in order
	}{
		{"problems", "application/yaml", readTestdata(t, "broken.yaml"), []bank.Problem{
			{Line: 0, Field: "canonical"},
			{Line: 11, Column: 13, Field: "parts.a.answer.type"},
			{Line: 14, Column: 12, Field: "parts.b.marks"},
			{Line: 18, Column: 14, Field: "parts.b.answer.value"},
		}},
		{"YAML syntax", "application/yaml", []byte("id: test/x\ntitle: [unclosed\nmarks: 3\n"), []bank.Problem{{Line: 3, Column: 1}}},
		{"JSON syntax", "application/json", []byte("{\"id\": \"test/x\",\n\"title\": \"T\",\n\"marks\": [1, 2}"), []bank.Problem{{Line: 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			resp := h.do(request{method: "POST", path: "/api/v1/templates", token: tok, contentType: tt.contentType, body: tt.body})
			if resp.status != 422 {
				t.Fatalf("status %d, want 422: %s", resp.status, resp.body)
			}
			e := resp.err(t)
			var got []bank.Problem
			if err := json.Unmarshal(e.Details, &got); err != nil {
				t.Fatalf("details %s: %v", e.Details, err)
			}
			if e.Code != marksmith.EUNPROCESSABLE || len(got) != len(tt.want) {
				t.Fatalf("code %s, problems %+v, want %d", e.Code, got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Line != w.Line || (w.Column != 0 && g.Column != w.Column) || (w.Field != "" && g.Field != w.Field) || g.Message == "" {
					t.Errorf("problem %d = %+v, want line %d column %d field %q", i, g, w.Line, w.Column, w.Field)
				}
			}
		})
	}
	h.t = t
	if n, _, _ := h.store.FindTemplates(t.Context(), marksmith.TemplateFilter{}); len(n) != 0 {
		t.Errorf("%d templates stored after broken uploads", len(n))
	}
	for _, tt := range []struct {
		ct   string
		body string
		want int
	}{
		{"text/plain", "id: x", 400},
		{"application/yaml", "", 400},
	} {
		if resp := h.do(request{method: "POST", path: "/api/v1/templates", token: tok, contentType: tt.ct, body: []byte(tt.body)}); resp.status != tt.want {
			t.Errorf("%s %q: %d, want %d", tt.ct, tt.body, resp.status, tt.want)
		}
	}
}

func TestListTemplates(t *testing.T) {
	h := newHarness(t)
	h.seedTemplate("area.yaml", h.instructor)
	builtin, err := bank.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.tmpl.SeedBuiltin(t.Context()); err != nil {
		t.Fatal(err)
	}
	tok := h.tokenFor(h.instructor)
	tests := []struct {
		query string
		ids   []string
		total int
	}{
		{"?q=area", []string{"test/area"}, 1},
		{"?tag=geometry", []string{"test/area"}, 1},
		{"?q=RECTANGLE", []string{"test/area"}, 1},
		{"?q=nothing-like-this", []string{}, 0},
		{"?limit=1", []string{builtin[0].ID}, len(builtin) + 1},
	}
	for _, tt := range tests {
		resp := h.do(request{method: "GET", path: "/api/v1/templates" + tt.query, token: tok})
		var lr listTemplatesResponse
		resp.decode(t, &lr)
		ids := []string{}
		for _, x := range lr.Templates {
			ids = append(ids, x.ID)
		}
		if resp.status != 200 || strings.Join(ids, ",") != strings.Join(tt.ids, ",") || lr.Total != tt.total {
			t.Errorf("%s: %d %v total %d, want %v total %d", tt.query, resp.status, ids, lr.Total, tt.ids, tt.total)
		}
		if strings.Contains(string(resp.body), "source") {
			t.Errorf("%s: list carries sources", tt.query)
		}
	}
}

func TestPreviewTemplate(t *testing.T) {
	h := newHarness(t)
	h.seedTemplate("area.yaml", h.instructor)
	tok := h.tokenFor(h.instructor)
	tests := []struct {
		query string
		want  int
		seed  marksmith.Seed
		key   string
	}{
		{"", 200, 0, "21"},        // canonical: 3 by 7
		{"?seed=0", 200, 0, "21"}, // seed 0 is the canonical variant
		{"?seed=0&version=1", 200, 0, "21"},
		{"?seed=18446744073709551615", 200, 18446744073709551615, ""},
		{"?seed=18446744073709551616", 400, 0, ""},
		{"?seed=-1", 400, 0, ""},
		{"?seed=abc", 400, 0, ""},
		{"?version=2", 404, 0, ""},
		{"?version=0", 400, 0, ""},
	}
	for _, tt := range tests {
		resp := h.do(request{method: "GET", path: "/api/v1/templates/test%2Farea/preview" + tt.query, token: tok})
		if resp.status != tt.want {
			t.Errorf("%q: status %d, want %d: %s", tt.query, resp.status, tt.want, resp.body)
			continue
		}
		if tt.want != 200 {
			continue
		}
		var q marksmith.Question
		resp.decode(t, &q)
		if q.Template != "test/area" || q.Version != 1 || q.Variant == nil || *q.Variant != tt.seed || len(q.Parts) != 1 || q.Marks != 4 {
			t.Errorf("%q: question %+v", tt.query, q)
			continue
		}
		// The seed is a JSON string: 2^64-1 does not fit a JavaScript number.
		if want := `"variant":"` + tt.seed.String() + `"`; !strings.Contains(string(resp.body), want) {
			t.Errorf("%q: body lacks %s: %s", tt.query, want, resp.body)
		}
		p := q.Parts[0]
		if p.Key == nil || p.Type != "number" || p.Hint == "" || (tt.key != "" && p.Key.Answer != tt.key) {
			t.Errorf("%q: part %+v key %+v, want key %q", tt.query, p, p.Key, tt.key)
		}
	}
	// A seeded variant is deterministic and its key matches its numbers.
	var a, b marksmith.Question
	h.do(request{method: "GET", path: "/api/v1/templates/test%2Farea/preview?seed=12345", token: tok}).decode(t, &a)
	h.do(request{method: "GET", path: "/api/v1/templates/test%2Farea/preview?seed=12345", token: tok}).decode(t, &b)
	wv, _ := a.Params["w"].(float64)
	hv, _ := a.Params["h"].(float64)
	if wv == 0 || hv == 0 || a.Variant == nil || *a.Variant != 12345 || a.Parts[0].Key.Answer != strconv.FormatFloat(wv*hv, 'f', -1, 64) ||
		a.Parts[0].Prompt != b.Parts[0].Prompt || !strings.Contains(a.Parts[0].Prompt, strconv.FormatFloat(wv, 'f', -1, 64)) {
		t.Errorf("seeded variant %+v / %+v", a, b)
	}
}
