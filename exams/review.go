package exams

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/grader"
)

// examData is what review, regrade, results and statistics read of a
// published exam's attempts.
type examData struct {
	e        *marksmith.Exam
	attempts map[int64]*marksmith.Attempt // by attempt ID
	byUser   map[int64]*marksmith.Attempt
	grades   []*marksmith.Grade
	// byAttempt holds the grades of each attempt.
	byAttempt map[int64][]*marksmith.Grade
	answers   map[answerKey]*marksmith.Answer
	users     map[int64]*marksmith.User
}

// answerKey identifies one part of one attempt.
type answerKey struct {
	attempt  int64
	position int
	part     string
}

// load reads a published exam's attempts (closing the overdue ones first),
// grades, answers and roster.
func (s *Service) load(ctx context.Context, e *marksmith.Exam, withAnswers bool) (*examData, error) {
	if _, err := s.closeOverdueOf(ctx, e, s.clock()); err != nil {
		return nil, err
	}
	d := &examData{e: e, attempts: map[int64]*marksmith.Attempt{}, byUser: map[int64]*marksmith.Attempt{},
		answers: map[answerKey]*marksmith.Answer{}, users: map[int64]*marksmith.User{}}
	attempts, err := s.store.FindAttempts(ctx, e.ID)
	if err != nil {
		return nil, fmt.Errorf("exam %d: attempts: %w", e.ID, err)
	}
	for _, a := range attempts {
		d.attempts[a.ID] = a
		d.byUser[a.UserID] = a
	}
	if d.grades, err = s.store.FindExamGrades(ctx, e.ID); err != nil {
		return nil, fmt.Errorf("exam %d: grades: %w", e.ID, err)
	}
	d.byAttempt = make(map[int64][]*marksmith.Grade, len(d.attempts))
	for _, g := range d.grades {
		d.byAttempt[g.AttemptID] = append(d.byAttempt[g.AttemptID], g)
	}
	if withAnswers {
		answers, err := s.store.FindExamAnswers(ctx, e.ID)
		if err != nil {
			return nil, fmt.Errorf("exam %d: answers: %w", e.ID, err)
		}
		for _, a := range answers {
			d.answers[answerKey{a.AttemptID, a.Position, a.Part}] = a
		}
	}
	roster, err := s.store.FindRoster(ctx, e.ID)
	if err != nil {
		return nil, fmt.Errorf("exam %d: roster: %w", e.ID, err)
	}
	for _, r := range roster {
		d.users[r.ID] = r.User
	}
	return d, nil
}

// raw returns the saved answer of a grade's part ("" when none).
func (d *examData) raw(g *marksmith.Grade) string {
	if a := d.answers[answerKey{g.AttemptID, g.Position, g.Part}]; a != nil {
		return a.Raw
	}
	return ""
}

// email returns the email of an attempt's student.
func (d *examData) email(attemptID int64) (int64, string) {
	a := d.attempts[attemptID]
	if a == nil {
		return 0, ""
	}
	if u := d.users[a.UserID]; u != nil {
		return a.UserID, u.Email
	}
	return a.UserID, ""
}

// specs returns, per question position, one variant of the question (a
// student's who has an attempt), for part settings that do not vary
// between variants.
func (s *Service) specs(ctx context.Context, d *examData, positions []int) (map[int]*bank.Variant, error) {
	out := map[int]*bank.Variant{}
	if len(positions) == 0 || len(d.attempts) == 0 {
		return out, nil
	}
	var user int64
	for _, a := range d.attempts {
		if user == 0 || a.UserID < user {
			user = a.UserID
		}
	}
	papers, err := s.store.FindPapers(ctx, d.e.ID, user)
	if err != nil {
		return nil, fmt.Errorf("exam %d: papers of student %d: %w", d.e.ID, user, err)
	}
	for _, p := range papers {
		if !slices.Contains(positions, p.Position) {
			continue
		}
		v, err := decodeVariant(p)
		if err != nil {
			return nil, err
		}
		out[p.Position] = v
	}
	return out, nil
}

// partSpec returns a variant's spec of a part, or nil.
func partSpec(v *bank.Variant, part string) *grader.Spec {
	if v == nil {
		return nil
	}
	for i := range v.Parts {
		if v.Parts[i].ID == part {
			return &v.Parts[i].Answer
		}
	}
	return nil
}

// ReviewQueue returns the answers awaiting review (rubric and essay parts,
// short text matching no accepted phrasing), grouped per question and part
// by identical normalised answer, most common first. Each group lists its
// members (the answer as typed, the reference of the member's own variant)
// and a Version that a decision on the group sends back. Overdue attempts
// are closed first, so the queue holds everything graded so far.
func (s *Service) ReviewQueue(ctx context.Context, actor *marksmith.User, examID int64) ([]marksmith.ReviewGroup, error) {
	e, err := s.publishedExam(ctx, actor, examID)
	if err != nil {
		return nil, err
	}
	d, err := s.load(ctx, e, true)
	if err != nil {
		return nil, err
	}
	var positions []int
	for _, g := range d.grades {
		if g.NeedsReview && !slices.Contains(positions, g.Position) {
			positions = append(positions, g.Position)
		}
	}
	// Each member shows the reference and rubric of its own variant (a
	// reference may quote the student's numbers).
	own := map[int]map[int64]*bank.Variant{}
	for _, pos := range positions {
		list, err := s.store.FindExamPapers(ctx, e.ID, pos)
		if err != nil {
			return nil, fmt.Errorf("review exam %d question %d: papers: %w", e.ID, pos, err)
		}
		own[pos] = make(map[int64]*bank.Variant, len(list))
		for _, p := range list {
			if a := d.byUser[p.UserID]; a == nil || !d.awaiting(a.ID, pos) {
				continue
			}
			v, err := decodeVariant(p)
			if err != nil {
				return nil, err
			}
			own[pos][p.UserID] = v
		}
	}
	type groupKey struct {
		position int
		part     string
		answer   string
	}
	groups := map[groupKey]*marksmith.ReviewGroup{}
	suggested := map[groupKey]map[float64]int{}
	for _, g := range d.grades {
		if !g.NeedsReview {
			continue
		}
		var spec *grader.Spec
		if a := d.attempts[g.AttemptID]; a != nil {
			spec = partSpec(own[g.Position][a.UserID], g.Part)
		}
		raw := d.raw(g)
		k := groupKey{g.Position, g.Part, normalize(spec, raw)}
		rg := groups[k]
		if rg == nil {
			rg = &marksmith.ReviewGroup{Question: g.Position, Part: g.Part, Answer: k.answer, Max: g.Max, Feedback: g.Feedback}
			if spec != nil {
				rg.Reference, rg.Rubric = spec.Reference, criteria(spec.Rubric, g.Max, spec.Marks)
			}
			groups[k] = rg
			suggested[k] = map[float64]int{}
		}
		m := marksmith.ReviewMember{AttemptID: g.AttemptID, Answer: raw, Suggested: g.Score, Feedback: g.Feedback}
		if spec != nil {
			m.Reference = spec.Reference
		}
		rg.Members = append(rg.Members, m)
		suggested[k][g.Score]++
	}
	out := make([]marksmith.ReviewGroup, 0, len(groups))
	for k, rg := range groups {
		best := -1
		for score, n := range suggested[k] {
			if n > best || (n == best && score > rg.Suggested) {
				best, rg.Suggested = n, score
			}
		}
		slices.SortFunc(rg.Members, func(a, b marksmith.ReviewMember) int { return cmpInt64(a.AttemptID, b.AttemptID) })
		for _, m := range rg.Members {
			rg.AttemptIDs = append(rg.AttemptIDs, m.AttemptID)
		}
		rg.Count = len(rg.Members)
		rg.Version = groupVersion(rg.AttemptIDs)
		out = append(out, *rg)
	}
	slices.SortFunc(out, func(a, b marksmith.ReviewGroup) int {
		if a.Question != b.Question {
			return a.Question - b.Question
		}
		if c := strings.Compare(a.Part, b.Part); c != 0 {
			return c
		}
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Answer, b.Answer)
	})
	return out, nil
}

// awaiting reports whether an attempt has a grade of the question awaiting
// review.
func (d *examData) awaiting(attemptID int64, position int) bool {
	for _, g := range d.byAttempt[attemptID] {
		if g.Position == position && g.NeedsReview {
			return true
		}
	}
	return false
}

// criteria returns rubric criteria with their marks scaled as the part's
// (the exam's marks over the template's).
func criteria(rubric []grader.Criterion, partMax, templateMarks float64) []marksmith.Criterion {
	f := 1.0
	if templateMarks > 0 {
		f = partMax / templateMarks
	}
	out := make([]marksmith.Criterion, len(rubric))
	for i, c := range rubric {
		out[i] = marksmith.Criterion{ID: c.ID, Text: c.Text, Marks: round(c.Marks * f), Phrases: c.Phrases, Patterns: c.Patterns}
	}
	return out
}

// groupVersion identifies a group by its members: a decision sent with a
// version applies only while the group still has exactly those members.
func groupVersion(ids []int64) string {
	h := fnv.New64a()
	var b [8]byte
	for _, id := range ids {
		binary.LittleEndian.PutUint64(b[:], uint64(id))
		h.Write(b[:])
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// maxDecisionAttempts bounds the attempts one decision lists.
const maxDecisionAttempts = 100000

// maxGroupVersion bounds a group's version in a decision: groupVersion
// writes at most 13 characters.
const maxGroupVersion = 32

// Review applies a reviewer's score to one part of exactly the attempts
// the reviewer saw: those listed in AttemptIDs, or the group whose answer
// is Answer while it still has the members of version Group (ECONFLICT if
// it gained or lost any since). Each grade gets the score, the rule
// "override", the reviewer and the reason (the feedback its student
// reads), keeps the grader's score as Suggested, and leaves the review
// queue; attempt totals are recomputed and each change audited, all in one
// transaction that locks the part's grades, so two reviewers deciding at
// once are applied one after the other.
func (s *Service) Review(ctx context.Context, actor *marksmith.User, examID int64, in marksmith.ReviewDecision) (*marksmith.ReviewResult, error) {
	e, err := s.publishedExam(ctx, actor, examID)
	if err != nil {
		return nil, err
	}
	var p marksmith.Problems
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" {
		p.Add("reason", "is required: say why the score is what it is (the students read it)")
	} else {
		p.CheckText("reason", in.Reason, maxReason)
	}
	if questionAt(e, in.Question) == nil {
		p.Add("question", "the exam has no question %d", in.Question)
	}
	checkPart(&p, in.Part)
	if len(in.Answer) > MaxAnswerBytes {
		p.Add("answer", "is %d bytes, at most %d", len(in.Answer), MaxAnswerBytes)
	} else {
		p.CheckText("answer", in.Answer, 0)
	}
	p.CheckText("group", in.Group, maxGroupVersion)
	switch {
	case len(in.AttemptIDs) > maxDecisionAttempts:
		p.Add("attempt_ids", "lists %d attempts, at most %d", len(in.AttemptIDs), maxDecisionAttempts)
	case len(in.AttemptIDs) == 0 && (in.Group == "" || strings.TrimSpace(in.Answer) == ""):
		p.Add("attempt_ids", "give the attempts you reviewed, or the group's answer and version (group)")
	}
	if in.Score < 0 || math.IsNaN(in.Score) || math.IsInf(in.Score, 0) {
		p.Add("score", "must be a number, 0 or more")
	}
	if err := p.Err("review decision"); err != nil {
		return nil, err
	}
	d, err := s.load(ctx, e, len(in.AttemptIDs) == 0)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	res := &marksmith.ReviewResult{}
	err = s.store.WithTx(ctx, func(tx marksmith.Store) error {
		grades, err := tx.LockPartGrades(ctx, examID, in.Question, in.Part)
		if err != nil {
			return err
		}
		var targets []*marksmith.Grade
		if len(in.AttemptIDs) > 0 {
			want := make(map[int64]bool, len(in.AttemptIDs))
			for _, id := range in.AttemptIDs {
				want[id] = true
			}
			for _, g := range grades {
				if want[g.AttemptID] {
					targets = append(targets, g)
				}
			}
			if len(targets) != len(want) {
				return marksmith.Errorf(marksmith.ENOTFOUND, "Only %d of the %d attempts listed have a graded answer to question %d part %s.",
					len(targets), len(want), in.Question, in.Part)
			}
		} else {
			spec, err := s.partSpecOf(ctx, e.ID, d, in.Question, in.Part)
			if err != nil {
				return err
			}
			want := normalize(spec, in.Answer)
			var ids []int64
			for _, g := range grades {
				if g.NeedsReview && normalize(spec, d.raw(g)) == want {
					targets = append(targets, g)
					ids = append(ids, g.AttemptID)
				}
			}
			if len(targets) == 0 {
				return marksmith.Errorf(marksmith.ECONFLICT, "No answer to question %d part %s awaits review as %q any more: reload the review queue.", in.Question, in.Part, in.Answer)
			}
			if groupVersion(ids) != in.Group {
				return marksmith.Errorf(marksmith.ECONFLICT, "The group changed since you loaded it (it has %d answers now): reload the review queue.", len(ids))
			}
		}
		if in.Score > targets[0].Max+1e-9 {
			return (marksmith.Problems{{Field: "score", Message: fmt.Sprintf("is more than the part's %g marks", targets[0].Max)}}).Err("review decision")
		}
		uid := actor.ID
		updated := make([]*marksmith.Grade, len(targets))
		audit := make([]*marksmith.AuditEntry, len(targets))
		for i, g := range targets {
			ng := *g
			if ng.Suggested == nil {
				sug := g.Score
				ng.Suggested = &sug
			}
			ng.Score, ng.Rule, ng.NeedsReview = round(in.Score), RuleOverride, false
			ng.ReviewedBy, ng.ReviewReason, ng.ReviewedAt = &uid, in.Reason, &now
			ng.GradedAt = now
			updated[i] = &ng
			before, _ := json.Marshal(g)
			after, _ := json.Marshal(&ng)
			audit[i] = &marksmith.AuditEntry{ExamID: examID, Actor: actor.ID, Action: "override",
				Target: fmt.Sprintf("attempt %d question %d part %s", g.AttemptID, g.Position, g.Part),
				Before: before, After: after, Reason: in.Reason, At: now}
			userID, email := d.email(g.AttemptID)
			res.Changes = append(res.Changes, marksmith.ScoreChange{AttemptID: g.AttemptID, UserID: userID, Student: email,
				Question: g.Position, Part: g.Part, Before: g.Score, After: ng.Score})
		}
		res.Updated = len(updated)
		return tx.UpdateGrades(ctx, updated, audit)
	})
	if err != nil {
		return nil, fmt.Errorf("review exam %d question %d part %s: %w", examID, in.Question, in.Part, err)
	}
	return res, nil
}

// partSpecOf returns a part's spec from the paper of one student who
// answered the question (for settings all variants share, such as case
// sensitivity).
func (s *Service) partSpecOf(ctx context.Context, examID int64, d *examData, position int, part string) (*grader.Spec, error) {
	specs, err := s.specs(ctx, d, []int{position})
	if err != nil {
		return nil, err
	}
	spec := partSpec(specs[position], part)
	if spec == nil {
		return nil, (marksmith.Problems{{Field: "part", Message: fmt.Sprintf("question %d has no part %q", position, part)}}).Err("review decision")
	}
	return spec, nil
}

// AcceptSuggested confirms the grader's suggested score of every answer
// still awaiting review — of one part, one question, or the whole exam —
// in one transaction and one audit entry listing them.
func (s *Service) AcceptSuggested(ctx context.Context, actor *marksmith.User, examID int64, in marksmith.AcceptInput) (*marksmith.ReviewResult, error) {
	e, err := s.publishedExam(ctx, actor, examID)
	if err != nil {
		return nil, err
	}
	var p marksmith.Problems
	in.Reason = strings.TrimSpace(in.Reason)
	p.CheckText("reason", in.Reason, maxReason)
	if in.Question != 0 && questionAt(e, in.Question) == nil {
		p.Add("question", "the exam has no question %d", in.Question)
	}
	switch {
	case in.Part != "" && in.Question == 0:
		p.Add("part", "needs its question")
	case in.Part != "":
		checkPart(&p, in.Part)
	}
	if err := p.Err("acceptance"); err != nil {
		return nil, err
	}
	d, err := s.load(ctx, e, false)
	if err != nil {
		return nil, err
	}
	type qp struct {
		position int
		part     string
	}
	var scope []qp
	for _, g := range d.grades {
		if !g.NeedsReview || (in.Question != 0 && g.Position != in.Question) || (in.Part != "" && g.Part != in.Part) {
			continue
		}
		if k := (qp{g.Position, g.Part}); !slices.Contains(scope, k) {
			scope = append(scope, k)
		}
	}
	now := s.clock()
	uid := actor.ID
	res := &marksmith.ReviewResult{Changes: []marksmith.ScoreChange{}}
	err = s.store.WithTx(ctx, func(tx marksmith.Store) error {
		var updated []*marksmith.Grade
		for _, k := range scope {
			grades, err := tx.LockPartGrades(ctx, examID, k.position, k.part)
			if err != nil {
				return err
			}
			for _, g := range grades {
				if !g.NeedsReview {
					continue
				}
				ng := *g
				sug := g.Score
				ng.Suggested, ng.NeedsReview = &sug, false
				ng.ReviewedBy, ng.ReviewReason, ng.ReviewedAt = &uid, in.Reason, &now
				updated = append(updated, &ng)
				userID, email := d.email(g.AttemptID)
				res.Changes = append(res.Changes, marksmith.ScoreChange{AttemptID: g.AttemptID, UserID: userID, Student: email,
					Question: g.Position, Part: g.Part, Before: g.Score, After: g.Score})
			}
		}
		res.Updated = len(updated)
		if len(updated) == 0 {
			return nil
		}
		target := fmt.Sprintf("exam %d", examID)
		if in.Question != 0 {
			target += fmt.Sprintf(" question %d", in.Question)
		}
		if in.Part != "" {
			target += " part " + in.Part
		}
		after, _ := json.Marshal(res.Changes)
		return tx.UpdateGrades(ctx, updated, []*marksmith.AuditEntry{{ExamID: examID, Actor: actor.ID, Action: "accept-suggested",
			Target: target, After: after, Reason: in.Reason, At: now}})
	})
	if err != nil {
		return nil, fmt.Errorf("accept suggested scores of exam %d: %w", examID, err)
	}
	return res, nil
}
