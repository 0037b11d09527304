package api

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/marksmith/marksmith"
)

// TestSchemasMatchTypes compares each schema of openapi.json with the Go
// type the API encodes or decodes for it, field by field and nested: the
// same JSON names, compatible types, and, for what the API writes, a field
// is required exactly when it is always written (no omitempty). The
// response checks of the other tests see only the fields their calls
// happen to produce; this sees every field.
func TestSchemasMatchTypes(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]any{
		"Error": errorResponse{}, "FieldError": marksmith.FieldError{}, "Status": statusResponse{},
		"User": marksmith.User{}, "NewAccount": marksmith.NewAccount{}, "UserList": listUsersResponse{},
		"ImportRow": marksmith.ImportRow{}, "ImportReport": marksmith.ImportReport{}, "Session": marksmith.Session{},
		"TemplateSummary": templateSummary{}, "TemplateList": listTemplatesResponse{}, "Template": templateResponse{},
		"UploadResult": uploadResponse{},
		"Option":       marksmith.Option{}, "Chart": marksmith.Chart{}, "Point": marksmith.Point{}, "Criterion": marksmith.Criterion{},
		"PartKey": marksmith.PartKey{}, "Part": marksmith.Part{}, "Answer": marksmith.Answer{}, "Grade": marksmith.Grade{},
		"Question": marksmith.Question{}, "FeedbackPolicy": marksmith.FeedbackPolicy{}, "ExamQuestion": marksmith.ExamQuestion{},
		"Exam": marksmith.Exam{}, "ExamList": listExamsResponse{}, "RosterError": marksmith.RosterError{},
		"RosterResult": marksmith.RosterResult{}, "RosterEntry": marksmith.RosterEntry{}, "Roster": rosterResponse{},
		"PublishReport": marksmith.PublishReport{}, "SelfTestFailure": marksmith.SelfTestFailure{},
		"CloseReport": marksmith.CloseReport{}, "ReleaseReport": marksmith.ReleaseReport{},
		"MonitorRow": marksmith.MonitorRow{}, "Monitor": marksmith.Monitor{}, "Attempt": marksmith.Attempt{},
		"AttemptView": marksmith.AttemptView{}, "AttemptSummary": marksmith.AttemptSummary{},
		"StudentExam": marksmith.StudentExam{}, "StudentExamList": myExamsResponse{}, "SaveResult": marksmith.SaveResult{},
		"ReviewMember": marksmith.ReviewMember{}, "ReviewGroup": marksmith.ReviewGroup{}, "ReviewQueue": reviewResponse{},
		"ScoreChange": marksmith.ScoreChange{}, "ReviewResult": marksmith.ReviewResult{},
		"RegradeReport": marksmith.RegradeReport{}, "Gradebook": marksmith.Gradebook{}, "Stats": marksmith.Stats{},
		"AuditEntry": marksmith.AuditEntry{}, "AuditList": auditResponse{},
		"SubmissionJob": marksmith.SubmissionJob{}, "RowError": marksmith.RowError{}, "PrintJob": marksmith.PrintJob{},
	}
	inputs := map[string]any{
		"NewUser": marksmith.NewUser{}, "LoginInput": marksmith.LoginInput{}, "RefreshInput": refreshRequest{},
		"PasswordChange": marksmith.PasswordChange{}, "UserUpdate": updateUserRequest{},
		"QuestionInput": marksmith.QuestionInput{}, "ExamInput": marksmith.ExamInput{}, "StudentsInput": rosterRequest{},
		"Accommodation": marksmith.Accommodation{}, "CloseInput": marksmith.CloseInput{}, "ReopenInput": marksmith.ReopenInput{},
		"ReleaseInput": marksmith.ReleaseInput{}, "SaveInput": saveRequest{}, "ReviewDecision": marksmith.ReviewDecision{},
		"AcceptInput": marksmith.AcceptInput{}, "RegradeInput": marksmith.RegradeInput{}, "PrintJobInput": marksmith.PrintJobInput{},
	}
	// Schemas with no Go type of their own: the error details of a
	// template, the template source (validated by the bank), the seed.
	free := []string{"Problem", "TemplateUpload", "Seed", "Role"}
	var names []string
	for name := range doc.Components.Schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ref := doc.Components.Schemas[name]
		v, output := outputs[name]
		if !output {
			var ok bool
			if v, ok = inputs[name]; !ok {
				if !slices.Contains(free, name) {
					t.Errorf("schema %s has no Go type in this test", name)
				}
				continue
			}
		}
		compareSchema(t, name, ref.Value, reflect.TypeOf(v), output)
	}
	for name := range outputs {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("no schema %s", name)
		}
	}
	for name := range inputs {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("no schema %s", name)
		}
	}
}

var (
	timeType        = reflect.TypeOf(time.Time{})
	rawMessageType  = reflect.TypeOf(json.RawMessage{})
	marshalerType   = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	textMarshalType = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
)

// jsonField is a field as encoding/json writes it.
type jsonField struct {
	name      string
	typ       reflect.Type
	omitEmpty bool
}

// jsonFields lists the fields of a struct as encoding/json sees them,
// embedded structs flattened.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, jsonFields(ft)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name: name, typ: ft, omitEmpty: strings.Contains(opts, "omitempty")})
	}
	return out
}

// compareSchema compares schema s with Go type typ at path.
func compareSchema(t *testing.T, path string, s *openapi3.Schema, typ reflect.Type, output bool) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	is := func(want string) bool { return s.Type != nil && s.Type.Is(want) }
	switch {
	case typ == rawMessageType, typ.Kind() == reflect.Interface:
		return // any JSON
	case typ == timeType:
		if !is("string") || s.Format != "date-time" {
			t.Errorf("%s: a time, documented as %v %q", path, s.Type, s.Format)
		}
		return
	case typ.Implements(marshalerType) || reflect.PointerTo(typ).Implements(marshalerType) ||
		typ.Implements(textMarshalType):
		if typ == reflect.TypeOf(marksmith.Seed(0)) && !output {
			if len(s.OneOf) != 2 {
				t.Errorf("%s: a seed in a request is a string or an integer, documented as %v", path, s.Type)
			}
		} else if !is("string") {
			t.Errorf("%s: %s writes itself as a string, documented as %v", path, typ, s.Type)
		}
		return
	}
	switch typ.Kind() {
	case reflect.Struct:
		if !is("object") {
			t.Errorf("%s: a struct, documented as %v", path, s.Type)
			return
		}
		if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
			t.Errorf("%s: additionalProperties should be false", path)
		}
		fields := jsonFields(typ)
		seen := map[string]bool{}
		for _, f := range fields {
			seen[f.name] = true
			p := s.Properties[f.name]
			if p == nil {
				t.Errorf("%s.%s is not documented", path, f.name)
				continue
			}
			if output && slices.Contains(s.Required, f.name) == f.omitEmpty {
				t.Errorf("%s.%s: required=%v, but omitempty=%v", path, f.name, slices.Contains(s.Required, f.name), f.omitEmpty)
			}
			compareSchema(t, path+"."+f.name, p.Value, f.typ, output)
		}
		for name := range s.Properties {
			if !seen[name] {
				t.Errorf("%s.%s is documented but not in %s", path, name, typ)
			}
		}
	case reflect.Slice, reflect.Array:
		if !is("array") {
			t.Errorf("%s: a list, documented as %v", path, s.Type)
			return
		}
		compareSchema(t, path+"[]", s.Items.Value, typ.Elem(), output)
	case reflect.Map:
		if !is("object") {
			t.Errorf("%s: a map, documented as %v", path, s.Type)
		}
	case reflect.String:
		if !is("string") {
			t.Errorf("%s: a string, documented as %v", path, s.Type)
		}
	case reflect.Bool:
		if !is("boolean") {
			t.Errorf("%s: a boolean, documented as %v", path, s.Type)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !is("integer") {
			t.Errorf("%s: an integer, documented as %v", path, s.Type)
		}
	case reflect.Float32, reflect.Float64:
		if !is("number") {
			t.Errorf("%s: a number, documented as %v", path, s.Type)
		}
	default:
		t.Errorf("%s: no rule for %s", path, typ)
	}
}
