package exams

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
)

// Regrade regrades every graded attempt's questions that come from
// in.Template against version in.Version: each stored variant is rebuilt
// with that version (the student's drawn values kept, the key
// recomputed) and the saved answers graded again. A dry run changes
// nothing and reports every score that would change. A real run stores
// the new grades (recording the version), updates attempt scores, writes
// an audit entry per changed score, and makes the version grade the
// questions from now on (attempts submitted later included). Papers keep
// the variant as issued: what the student saw is never rewritten.
func (s *Service) Regrade(ctx context.Context, actor *marksmith.User, examID int64, in marksmith.RegradeInput) (*marksmith.RegradeReport, error) {
	e, err := s.publishedExam(ctx, actor, examID)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Template) == "" {
		return nil, invalid("regrade", marksmith.Problems{{Field: "template", Message: "is required"}})
	}
	// Checked before it is looked for, and quoted back, in the exam.
	var p marksmith.Problems
	if p.CheckText("template", in.Template, marksmith.MaxTemplateID); len(p) > 0 {
		return nil, invalid("regrade", p)
	}
	if in.Version < 0 || in.Version > maxVersion {
		return nil, invalid("regrade", marksmith.Problems{{Field: "version", Message: "must be from 0 (the latest) to 1073741824"}})
	}
	var positions []int
	for _, q := range e.Questions {
		if q.TemplateID == in.Template {
			positions = append(positions, q.Position)
		}
	}
	if len(positions) == 0 {
		return nil, invalid("regrade", marksmith.Problems{{Field: "template", Message: fmt.Sprintf("exam %d has no question from template %s", examID, in.Template)}})
	}
	t, err := s.loadTemplate(ctx, in.Template, in.Version)
	if err != nil {
		return nil, err
	}
	d, err := s.load(ctx, e, true)
	if err != nil {
		return nil, err
	}
	rep := &marksmith.RegradeReport{Template: in.Template, Version: t.Version, DryRun: in.DryRun, Questions: positions, Changes: []marksmith.ScoreChange{}}
	old := map[answerKey]*marksmith.Grade{}
	for _, g := range d.grades {
		old[answerKey{g.AttemptID, g.Position, g.Part}] = g
	}
	now := s.clock()
	changed := map[answerKey]*marksmith.Grade{}
	var updated []*marksmith.Grade
	var audit []*marksmith.AuditEntry
	attempts := map[int64]bool{}
	reason := fmt.Sprintf("regrade against template %s version %d", in.Template, t.Version)
	for _, pos := range positions {
		papers, err := s.store.FindExamPapers(ctx, examID, pos)
		if err != nil {
			return nil, fmt.Errorf("regrade exam %d question %d: papers: %w", examID, pos, err)
		}
		for _, p := range papers {
			a := d.byUser[p.UserID]
			if a == nil || a.Status == marksmith.AttemptOpen {
				continue
			}
			v, err := decodeVariant(p)
			if err != nil {
				return nil, err
			}
			nv, err := t.Rebuild(v)
			if err != nil {
				return nil, marksmith.Errorf(marksmith.EUNPROCESSABLE, "Template %s version %d cannot rebuild the paper of question %d for student %d: %v.", in.Template, t.Version, pos, p.UserID, err)
			}
			nv.Version = t.Version
			if !sameParts(v, nv.Parts) {
				return nil, marksmith.Errorf(marksmith.EUNPROCESSABLE, "Template %s version %d has parts %s, the papers have %s: a regrade needs the same parts.",
					in.Template, t.Version, partList(nv.Parts), partList(v.Parts))
			}
			answers := map[string]string{}
			for _, part := range v.Parts {
				if ans := d.answers[answerKey{a.ID, pos, part.ID}]; ans != nil {
					answers[part.ID] = ans.Raw
				}
			}
			gs, err := gradeVariant(e, a.ID, pos, nv, answers, now)
			if err != nil {
				return nil, err
			}
			attempts[a.ID] = true
			userID, email := d.email(a.ID)
			for _, ng := range gs {
				k := answerKey{a.ID, pos, ng.Part}
				og := old[k]
				if og != nil && og.ReviewedBy != nil {
					// A reviewer's decision stands.
					if ng.Score != og.Score {
						rep.Kept = append(rep.Kept, marksmith.ScoreChange{AttemptID: a.ID, UserID: userID, Student: email, Question: pos, Part: ng.Part, Before: og.Score, After: ng.Score})
					}
					continue
				}
				var before float64
				if og != nil {
					before = og.Score
				}
				updated = append(updated, ng)
				if og != nil && og.Score == ng.Score {
					continue
				}
				changed[k] = ng
				rep.Changes = append(rep.Changes, marksmith.ScoreChange{AttemptID: a.ID, UserID: userID, Student: email, Question: pos, Part: ng.Part, Before: before, After: ng.Score})
				b, _ := json.Marshal(og)
				after, _ := json.Marshal(ng)
				audit = append(audit, &marksmith.AuditEntry{ExamID: examID, Actor: actor.ID, Action: "regrade",
					Target: fmt.Sprintf("attempt %d question %d part %s", a.ID, pos, ng.Part),
					Before: b, After: after, Reason: reason, At: now})
			}
		}
	}
	rep.Attempts = len(attempts)
	if in.DryRun {
		return rep, nil
	}
	// The new grades, the attempts' totals, the audit and the version that
	// grades the questions from now on: all or nothing.
	if len(updated) > 0 && len(audit) == 0 {
		// Nothing scored differently, but the grades now record the version.
		audit = append(audit, &marksmith.AuditEntry{ExamID: examID, Actor: actor.ID, Action: "regrade",
			Target: fmt.Sprintf("exam %d questions %s", examID, joinInts(positions)), Reason: reason + ": no score changed", At: now})
	}
	err = s.store.WithTx(ctx, func(tx marksmith.Store) error {
		if len(updated) > 0 {
			if err := tx.UpdateGrades(ctx, updated, audit); err != nil {
				return err
			}
		}
		for _, pos := range positions {
			if err := tx.SetGradeVersion(ctx, examID, pos, t.Version); err != nil {
				return fmt.Errorf("question %d: %w", pos, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("regrade exam %d: %w", examID, err)
	}
	return rep, nil
}

// sameParts reports whether a stored variant has the parts given, in order.
func sameParts(v *bank.Variant, parts []bank.PartVariant) bool {
	return slices.EqualFunc(v.Parts, parts, func(a, b bank.PartVariant) bool { return a.ID == b.ID })
}

// partList lists part IDs.
func partList(parts []bank.PartVariant) string {
	ids := make([]string, len(parts))
	for i, p := range parts {
		ids[i] = p.ID
	}
	return strings.Join(ids, ", ")
}
