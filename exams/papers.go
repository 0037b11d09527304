package exams

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/internal/view"
)

// Papers returns the stored papers of a published exam for printing: one
// student's (q.Student, a student number or an email) or every student's
// on the roster, in student-number order, each student's questions in the
// order they see them. Question papers are printed for exams sat on paper
// (delivery paper or both); keys for any published exam. The papers are
// the ones stored at publish, never regenerated.
func (s *Service) Papers(ctx context.Context, actor *marksmith.User, id int64, q marksmith.PaperQuery) (*marksmith.ExamPapers, error) {
	e, err := s.publishedExam(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	students, err := s.paperStudents(ctx, e, q.Student, q.Key)
	if err != nil {
		return nil, err
	}
	if q.Max > 0 && len(students) > q.Max {
		return nil, marksmith.Errorf(marksmith.ETOOLARGE,
			"Exam %d has %d students, more than the %d printed in one request: print one student at a time (student=KEY), or start a print job.",
			id, len(students), q.Max)
	}
	return s.examPapers(ctx, e, q.Key, students)
}

// paperStudents returns the students whose papers a print of a published
// exam selects (want: one student's number or email; "": the roster), in
// student-number order, with the print's own refusals: question papers
// of an exam sat online only, a student not on the roster, an empty
// roster.
func (s *Service) paperStudents(ctx context.Context, e *marksmith.Exam, want string, key bool) ([]*marksmith.User, error) {
	id := e.ID
	if !key && e.Delivery == marksmith.DeliveryOnline {
		return nil, marksmith.Errorf(marksmith.ECONFLICT,
			"Exam %d is sat online only (delivery online): it has no printed papers. Its keys may be printed (key=true).", id)
	}
	roster, err := s.store.FindRoster(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("papers of exam %d: roster: %w", id, err)
	}
	want = strings.TrimSpace(want)
	var students []*marksmith.User
	for _, r := range roster {
		if r.User == nil {
			continue
		}
		if want == "" || r.StudentKey == want || strings.EqualFold(r.Email, want) {
			students = append(students, r.User)
		}
	}
	if want != "" && len(students) == 0 {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "Student %q is not on the roster of exam %d.", want, id)
	}
	if len(students) == 0 {
		return nil, marksmith.Errorf(marksmith.ECONFLICT, "Exam %d has no students on its roster: nothing to print.", id)
	}
	sort.SliceStable(students, func(i, j int) bool { return studentKey(students[i]) < studentKey(students[j]) })
	return students, nil
}

// examPapers reads and views the stored papers of the students of a
// published exam, in their order.
func (s *Service) examPapers(ctx context.Context, e *marksmith.Exam, key bool, students []*marksmith.User) (*marksmith.ExamPapers, error) {
	id := e.ID
	var papers []*marksmith.Paper
	var err error
	if len(students) == 1 {
		papers, err = s.store.FindPapers(ctx, id, students[0].ID)
	} else {
		papers, err = s.store.FindExamPapers(ctx, id, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("papers of exam %d: %w", id, err)
	}
	byUser := map[int64][]*marksmith.Paper{}
	for _, p := range papers {
		byUser[p.UserID] = append(byUser[p.UserID], p)
	}
	out := &marksmith.ExamPapers{Exam: e, Key: key, Students: make([]marksmith.StudentPaper, 0, len(students))}
	for _, u := range students {
		ps := byUser[u.ID]
		if len(ps) == 0 {
			// On the roster but without a paper: cannot happen after a
			// publish, which stores every student's paper.
			return nil, fmt.Errorf("papers of exam %d: student %d has no stored paper", id, u.ID)
		}
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Order < ps[j].Order })
		sp := marksmith.StudentPaper{UserID: u.ID, Name: u.Name, Number: studentKey(u), Questions: make([]marksmith.Question, 0, len(ps))}
		for _, p := range ps {
			v, err := decodeVariant(p)
			if err != nil {
				return nil, err
			}
			qv := view.Question(v, view.Options{Key: key, Scale: scale(e, p.Position, v)})
			qv.Position, qv.Order = p.Position, p.Order
			if eq := questionAt(e, p.Position); eq != nil {
				qv.Marks = eq.Marks
			}
			sp.Questions = append(sp.Questions, qv)
		}
		out.Students = append(out.Students, sp)
	}
	return out, nil
}
