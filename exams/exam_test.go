package exams

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

func TestCreateExam(t *testing.T) {
	h := newHarness(t, 3)
	ctx := t.Context()
	in := h.input(3)
	in.Questions = []marksmith.QuestionInput{{Template: "test/area"}, {Template: "test/area", Version: 1, Marks: 20}, {Template: "test/wide", Marks: 1.5}}
	e, err := h.svc.CreateExam(ctx, h.instructor, in)
	if err != nil {
		t.Fatalf("CreateExam: %v", err)
	}
	want := []marksmith.ExamQuestion{
		{Position: 1, TemplateID: "test/area", Version: 2, Marks: 10}, // latest pinned, the template's marks
		{Position: 2, TemplateID: "test/area", Version: 1, Marks: 20},
		{Position: 3, TemplateID: "test/wide", Version: 1, Marks: 1.5},
	}
	if !reflect.DeepEqual(e.Questions, want) || e.Status != marksmith.ExamDraft || e.Seed != 7606 || e.CreatedBy != h.instructor.ID {
		t.Fatalf("created %+v", e)
	}
	roster, err := h.svc.FindRoster(ctx, h.instructor, e.ID)
	if err != nil || len(roster) != 3 {
		t.Fatalf("Roster = %v, %v", roster, err)
	}
	in.Seed = nil
	a, _ := h.svc.CreateExam(ctx, h.instructor, in)
	b, _ := h.svc.CreateExam(ctx, h.instructor, in)
	if a.Seed == b.Seed {
		t.Fatalf("two exams without a seed drew the same seed %d", a.Seed)
	}

	for _, tc := range []struct {
		name   string
		edit   func(in *marksmith.ExamInput)
		code   string
		fields []string
	}{
		{"no title", func(in *marksmith.ExamInput) { in.Title = "  " }, marksmith.EUNPROCESSABLE, []string{"title"}},
		{"closes before opens", func(in *marksmith.ExamInput) { in.ClosesAt = in.OpensAt }, marksmith.EUNPROCESSABLE, []string{"closes_at"}},
		{"no window", func(in *marksmith.ExamInput) { in.OpensAt = time.Time{} }, marksmith.EUNPROCESSABLE, []string{"opens_at"}},
		{"negative limits", func(in *marksmith.ExamInput) { in.TimeLimitSeconds, in.LateGraceSeconds = -1, -1 },
			marksmith.EUNPROCESSABLE, []string{"time_limit_seconds", "late_grace_seconds"}},
		{"bad feedback", func(in *marksmith.ExamInput) {
			in.Feedback = marksmith.FeedbackPolicy{AfterSubmit: "key", AfterRelease: "none"}
		},
			marksmith.EUNPROCESSABLE, []string{"feedback.after_submit", "feedback.after_release"}},
		{"no questions", func(in *marksmith.ExamInput) { in.Questions = nil }, marksmith.EUNPROCESSABLE, []string{"questions"}},
		{"unknown template", func(in *marksmith.ExamInput) { in.Questions = []marksmith.QuestionInput{{Template: "test/none"}} },
			marksmith.EUNPROCESSABLE, []string{"questions[0].template"}},
		{"unknown version", func(in *marksmith.ExamInput) {
			in.Questions = []marksmith.QuestionInput{{Template: "test/wide"}, {Template: "test/area", Version: 9}}
		},
			marksmith.EUNPROCESSABLE, []string{"questions[1].template"}},
		{"negative marks", func(in *marksmith.ExamInput) {
			in.Questions = []marksmith.QuestionInput{{Template: "test/wide", Marks: -2}}
		},
			marksmith.EUNPROCESSABLE, []string{"questions[0].marks"}},
		{"a time limit that would wrap the deadline", func(in *marksmith.ExamInput) { in.TimeLimitSeconds = 10_000_000_000 },
			marksmith.EUNPROCESSABLE, []string{"time_limit_seconds"}},
		{"a late grace of years", func(in *marksmith.ExamInput) { in.LateGraceSeconds = 10_000_000_000 },
			marksmith.EUNPROCESSABLE, []string{"late_grace_seconds"}},
		{"marks of 1e308", func(in *marksmith.ExamInput) {
			in.Questions = []marksmith.QuestionInput{{Template: "test/wide", Marks: 1e308}}
		},
			marksmith.EUNPROCESSABLE, []string{"questions[0].marks"}},
		{"a version past any", func(in *marksmith.ExamInput) {
			in.Questions = []marksmith.QuestionInput{{Template: "test/wide", Version: 99999999999}}
		}, marksmith.EUNPROCESSABLE, []string{"questions[0].version"}},
		{"a window of ten years", func(in *marksmith.ExamInput) { in.ClosesAt = in.OpensAt.AddDate(10, 0, 0) },
			marksmith.EUNPROCESSABLE, []string{"closes_at"}},
		{"a NUL in the title", func(in *marksmith.ExamInput) { in.Title = "Mid\x00term" }, marksmith.EUNPROCESSABLE, []string{"title"}},
		{"an unknown delivery", func(in *marksmith.ExamInput) { in.Delivery = "pigeon" }, marksmith.EUNPROCESSABLE, []string{"delivery"}},
		{"unknown student", func(in *marksmith.ExamInput) { in.Roster = append(in.Roster, "nobody@example.org") }, marksmith.EUNPROCESSABLE, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := h.input(3)
			tc.edit(&in)
			_, err := h.svc.CreateExam(ctx, h.instructor, in)
			wantCode(t, tc.name, err, tc.code)
			if tc.fields != nil {
				var fields []string
				for _, fe := range err.(*marksmith.Error).Details.([]marksmith.FieldError) {
					fields = append(fields, fe.Field)
				}
				if !slices.Equal(fields, tc.fields) {
					t.Fatalf("fields %v, want %v", fields, tc.fields)
				}
			}
		})
	}

	// Who may see and change it.
	_, err = h.svc.CreateExam(ctx, h.students[0], h.input(1))
	wantCode(t, "student creates", err, marksmith.EFORBIDDEN)
	_, err = h.svc.FindExam(ctx, h.other, e.ID)
	wantCode(t, "other instructor reads", err, marksmith.ENOTFOUND)
	_, err = h.svc.FindExam(ctx, h.students[0], e.ID)
	wantCode(t, "student reads", err, marksmith.EFORBIDDEN)
	if got, err := h.svc.FindExam(ctx, h.admin, e.ID); err != nil || got.ID != e.ID {
		t.Fatalf("admin GetExam = %v, %v", got, err)
	}
	_, err = h.svc.FindExam(ctx, nil, e.ID)
	wantCode(t, "nobody reads", err, marksmith.EUNAUTHORIZED)
	list, n, err := h.svc.FindExams(ctx, h.instructor, 0, 2)
	if err != nil || n != 3 || len(list) != 2 || list[0].ID != b.ID {
		t.Fatalf("ListExams = %d of %d, %v", len(list), n, err)
	}
	if _, n, _ := h.svc.FindExams(ctx, h.other, 0, 0); n != 0 {
		t.Fatalf("other instructor lists %d exams", n)
	}
	if _, n, _ := h.svc.FindExams(ctx, h.admin, 0, 0); n != 3 {
		t.Fatalf("admin lists %d exams", n)
	}

	upd := h.input(2)
	upd.Title = "Midterm 2"
	upd.Seed = nil
	got, err := h.svc.UpdateExam(ctx, h.instructor, e.ID, upd)
	if err != nil || got.Title != "Midterm 2" || got.Seed != 7606 || len(got.Questions) != 2 {
		t.Fatalf("UpdateExam = %+v, %v", got, err)
	}
	if roster, _ := h.svc.FindRoster(ctx, h.instructor, e.ID); len(roster) != 2 {
		t.Fatalf("roster after update has %d students", len(roster))
	}
	_, err = h.svc.UpdateExam(ctx, h.other, e.ID, upd)
	wantCode(t, "other instructor updates", err, marksmith.ENOTFOUND)
	if _, err := h.svc.Publish(ctx, h.instructor, e.ID); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.UpdateExam(ctx, h.instructor, e.ID, upd)
	wantCode(t, "update published", err, marksmith.ECONFLICT)
}

func TestSetRoster(t *testing.T) {
	h := newHarness(t, 4)
	ctx := t.Context()
	in := h.input(0)
	in.Roster = nil
	e, err := h.svc.CreateExam(ctx, h.instructor, in)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.SetRoster(ctx, h.instructor, e.ID, []string{
		" S1@Example.org ", // email, any case
		h.students[1].StudentKey,
		"s1@example.org", // again
		"ghost@example.org",
		"teacher@example.org",
		"",
		"s4@example.org",
	})
	if err != nil {
		t.Fatalf("SetRoster: %v", err)
	}
	want := &marksmith.RosterResult{Students: 3, Unknown: []string{"ghost@example.org"},
		Errors: []marksmith.RosterError{{Entry: "teacher@example.org", Message: "teacher@example.org is an instructor, not a student"}}}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("SetRoster = %+v\nwant %+v", res, want)
	}
	roster, _ := h.svc.FindRoster(ctx, h.instructor, e.ID)
	var got []string
	for _, u := range roster {
		got = append(got, u.Email)
	}
	if !slices.Equal(got, []string{"s1@example.org", "s2@example.org", "s4@example.org"}) {
		t.Fatalf("roster %v", got)
	}
	_, err = h.svc.SetRoster(ctx, h.other, e.ID, nil)
	wantCode(t, "other instructor", err, marksmith.ENOTFOUND)
	if _, err := h.svc.Publish(ctx, h.instructor, e.ID); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.SetRoster(ctx, h.instructor, e.ID, []string{"s3@example.org"})
	wantCode(t, "roster of a published exam", err, marksmith.ECONFLICT)
}

func TestDeleteExamAndAudit(t *testing.T) {
	h := newHarness(t, 2)
	ctx := t.Context()
	draft, err := h.svc.CreateExam(ctx, h.instructor, h.input(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.DeleteExam(ctx, h.other, draft.ID); marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
		t.Errorf("another instructor deleting: %v, want not found", err)
	}
	if err := h.svc.DeleteExam(ctx, h.students[0], draft.ID); marksmith.ErrorCode(err) != marksmith.EFORBIDDEN {
		t.Errorf("a student deleting: %v, want forbidden", err)
	}
	if err := h.svc.DeleteExam(ctx, h.instructor, draft.ID); err != nil {
		t.Fatalf("deleting a draft: %v", err)
	}
	if _, err := h.svc.FindExam(ctx, h.instructor, draft.ID); marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
		t.Errorf("the deleted draft is still there: %v", err)
	}

	e := h.published(t, h.input(2))
	if err := h.svc.DeleteExam(ctx, h.admin, e.ID); marksmith.ErrorCode(err) != marksmith.ECONFLICT {
		t.Errorf("deleting a published exam: %v, want conflict", err)
	}
	log, err := h.svc.Audit(ctx, h.instructor, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) == 0 || log[0].Action != "publish" || log[0].Actor != h.instructor.ID {
		t.Errorf("audit log %+v, want the publish by the instructor first", log)
	}
	if _, err := h.svc.Audit(ctx, h.other, e.ID); marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
		t.Errorf("another instructor reading the audit log: %v, want not found", err)
	}
}
