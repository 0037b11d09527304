package exams

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
)

func TestPublish(t *testing.T) {
	const n = 40
	h := newHarness(t, n)
	ctx := t.Context()
	h.svc.BatchSize = 7 // several batches, the last one short
	in := h.input(n)
	in.ShuffleQuestions = true
	in.ShuffleOptions = true
	in.Questions = append(in.Questions, marksmith.QuestionInput{Template: "test/wide"})
	e, err := h.svc.CreateExam(ctx, h.instructor, in)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.Publish(ctx, h.other, e.ID)
	wantCode(t, "other instructor publishes", err, marksmith.ENOTFOUND)
	rep, err := h.svc.Publish(ctx, h.instructor, e.ID)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	// test/area has 4 × 4 = 16 variants for 40 students; test/wide ~10^6.
	want := []marksmith.QuestionDistinct{
		{Position: 1, Template: "test/area", Version: 1, Distinct: 16, Exhausted: true},
		{Position: 2, Template: "test/wide", Version: 1, Distinct: n},
		{Position: 3, Template: "test/wide", Version: 1, Distinct: n},
	}
	if rep.Students != n || rep.Questions != 3 || rep.Papers != 3*n || !slices.Equal(rep.Distinct, want) {
		t.Fatalf("report %+v", rep)
	}
	_, err = h.svc.Publish(ctx, h.instructor, e.ID)
	wantCode(t, "publish twice", err, marksmith.ECONFLICT)

	// The same seeds variants.DrawCohort gives the roster, whatever the batching.
	templates := map[string]*bank.Template{}
	for _, id := range []string{"test/area", "test/wide"} {
		tp, err := h.svc.loadTemplate(ctx, id, 1)
		if err != nil {
			t.Fatal(err)
		}
		templates[id] = tp
	}
	keys := make([]string, n)
	for i, u := range h.students {
		keys[i] = studentKey(u)
	}
	for _, q := range []struct {
		position int
		template string
	}{{1, "test/area"}, {2, "test/wide"}, {3, "test/wide"}} {
		cohort, err := templates[q.template].Generator().DrawCohort(7606, q.template, keys, cohortRetries)
		if err != nil {
			t.Fatal(err)
		}
		papers, err := h.exams.FindExamPapers(ctx, e.ID, q.position)
		if err != nil || len(papers) != n {
			t.Fatalf("question %d: %d papers, %v", q.position, len(papers), err)
		}
		for i, p := range papers {
			if p.UserID != h.students[i].ID || uint64(p.Seed) != cohort.Seeds[i] || p.Version != 1 || p.TemplateID != q.template {
				t.Fatalf("question %d student %d: paper %+v, want seed %d", q.position, i, p, cohort.Seeds[i])
			}
			v := h.paper(t, e.ID, h.students[i], q.position)
			fresh, _ := templates[q.template].Variant(uint64(p.Seed))
			if v.Seed != uint64(p.Seed) || v.Stem != fresh.Stem || v.Parts[0].Prompt != fresh.Parts[0].Prompt {
				t.Fatalf("question %d student %d: stored variant differs from variant %d", q.position, i, p.Seed)
			}
		}
	}
	// Question order: a permutation per student, not the same for all.
	orders := map[string]bool{}
	for _, u := range h.students {
		papers, _ := h.exams.FindPapers(ctx, e.ID, u.ID)
		var seen []int
		var positions []byte
		for i, p := range papers {
			if p.Order != i+1 {
				t.Fatalf("student %s: papers not in their order: %+v", u.Email, papers)
			}
			seen = append(seen, p.Position)
			positions = append(positions, byte('0'+p.Position))
		}
		slices.Sort(seen)
		if !slices.Equal(seen, []int{1, 2, 3}) {
			t.Fatalf("student %s has questions %v", u.Email, seen)
		}
		orders[string(positions)] = true
	}
	if len(orders) < 3 {
		t.Fatalf("only %d question orders across %d students", len(orders), n)
	}
	log, _ := h.exams.FindAudit(ctx, e.ID)
	if len(log) != 1 || log[0].Action != "publish" || !bytes.Contains(log[0].After, []byte(`"papers":120`)) {
		t.Fatalf("audit %+v", log)
	}
}

func TestPublishOptionOrder(t *testing.T) {
	h := newHarness(t, 12)
	for _, shuffle := range []bool{false, true} {
		in := h.input(12)
		in.ShuffleOptions = shuffle
		e := h.published(t, in)
		orders := map[string]bool{}
		for _, u := range h.students {
			v := h.paper(t, e.ID, u, 1)
			var ids, labels []string
			for _, o := range v.Parts[1].Answer.Options {
				ids, labels = append(ids, o.ID), append(labels, o.Label)
			}
			if !slices.Equal(labels, []string{"A", "B", "C", "D"}) {
				t.Fatalf("shuffle %v: labels %v", shuffle, labels)
			}
			orders[strings.Join(ids, ",")] = true
			// Grading is by identity: the key typed as this variant labels it scores.
			res, err := v.Grade(map[string]string{"b": keyOf(t, v, "b")})
			if err != nil || res[1].Score != 4 {
				t.Fatalf("shuffle %v: the key scores %+v, %v", shuffle, res[1], err)
			}
		}
		if !shuffle && (len(orders) != 1 || !orders["rect,tri,circle,hex"]) {
			t.Fatalf("unshuffled exam has option orders %v", orders)
		}
		if shuffle && len(orders) < 3 {
			t.Fatalf("shuffled exam has only option orders %v", orders)
		}
	}
}

func TestPublishSelfTestFailure(t *testing.T) {
	h := newHarness(t, 3)
	ctx := t.Context()
	in := h.input(3)
	in.Questions = append(in.Questions, marksmith.QuestionInput{Template: "test/nokey"})
	e, err := h.svc.CreateExam(ctx, h.instructor, in)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.Publish(ctx, h.instructor, e.ID)
	wantCode(t, "publish with a failing template", err, marksmith.EUNPROCESSABLE)
	msg := marksmith.ErrorMessage(err)
	for _, want := range []string{"test/nokey version 1", "question 3", "no option is right"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	details := err.(*marksmith.Error).Details.([]marksmith.SelfTestFailure)
	if len(details) != 1 || details[0].Template != "test/nokey" || !slices.Equal(details[0].Positions, []int{3}) || len(details[0].Failures) != 6 {
		t.Fatalf("details %+v", details)
	}
	got, _ := h.svc.FindExam(ctx, h.instructor, e.ID)
	papers, _ := h.exams.FindExamPapers(ctx, e.ID, 0)
	if got.Status != marksmith.ExamDraft || len(papers) != 0 {
		t.Fatalf("after a failed publish: status %s, %d papers", got.Status, len(papers))
	}

	empty := h.input(0)
	empty.Roster = []string{}
	e2, _ := h.svc.CreateExam(ctx, h.instructor, empty)
	_, err = h.svc.Publish(ctx, h.instructor, e2.ID)
	wantCode(t, "publish without students", err, marksmith.EUNPROCESSABLE)
}
