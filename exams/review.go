package exams

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/grader"
)

// ReviewGroup is a group of identical answers (after normalising white
// space and, unless the part is case-sensitive, case) to one part that
// need a reviewer's decision; one Override grades them all.
type ReviewGroup struct {
	Question   int                `json:"question"`
	Part       string             `json:"part"`
	Answer     string             `json:"answer"` // normalised; send it back in OverrideInput.Answer
	Count      int                `json:"count"`
	AttemptIDs []int64            `json:"attempt_ids"`
	Suggested  float64            `json:"suggested"` // the grader's score (the most common one in the group)
	Max        float64            `json:"max"`
	Feedback   string             `json:"feedback,omitempty"`
	Reference  string             `json:"reference,omitempty"`
	Rubric     []grader.Criterion `json:"rubric,omitempty"`
}

// OverrideInput is a reviewer's decision: a score for one part of one
// question, for the group of attempts whose normalised answer is Answer,
// or for the listed attempts. Reason is required.
type OverrideInput struct {
	Question   int     `json:"question"`
	Part       string  `json:"part"`
	Answer     string  `json:"answer,omitempty"`
	AttemptIDs []int64 `json:"attempt_ids,omitempty"`
	Score      float64 `json:"score"`
	Reason     string  `json:"reason"`
}

// OverrideResult lists the grades an override changed.
type OverrideResult struct {
	Updated int           `json:"updated"`
	Changes []ScoreChange `json:"changes"`
}

// ScoreChange is one part's score before and after an override or a
// regrade.
type ScoreChange struct {
	AttemptID int64   `json:"attempt_id"`
	UserID    int64   `json:"user_id"`
	Student   string  `json:"student"` // email
	Question  int     `json:"question"`
	Part      string  `json:"part"`
	Before    float64 `json:"before"`
	After     float64 `json:"after"`
}

// examData is what review, regrade, results and statistics read of a
// published exam's attempts.
type examData struct {
	e        *marksmith.Exam
	attempts map[int64]*marksmith.Attempt // by attempt ID
	byUser   map[int64]*marksmith.Attempt
	grades   []*marksmith.Grade
	answers  map[answerKey]*marksmith.Answer
	users    map[int64]*marksmith.User
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
	attempts, err := s.exams.FindAttempts(ctx, e.ID)
	if err != nil {
		return nil, fmt.Errorf("exam %d: attempts: %w", e.ID, err)
	}
	for _, a := range attempts {
		d.attempts[a.ID] = a
		d.byUser[a.UserID] = a
	}
	if d.grades, err = s.exams.FindExamGrades(ctx, e.ID); err != nil {
		return nil, fmt.Errorf("exam %d: grades: %w", e.ID, err)
	}
	if withAnswers {
		answers, err := s.exams.FindExamAnswers(ctx, e.ID)
		if err != nil {
			return nil, fmt.Errorf("exam %d: answers: %w", e.ID, err)
		}
		for _, a := range answers {
			d.answers[answerKey{a.AttemptID, a.Position, a.Part}] = a
		}
	}
	roster, err := s.exams.FindRoster(ctx, e.ID)
	if err != nil {
		return nil, fmt.Errorf("exam %d: roster: %w", e.ID, err)
	}
	for _, u := range roster {
		d.users[u.ID] = u
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
	papers, err := s.exams.FindPapers(ctx, d.e.ID, user)
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
// by identical normalised answer, most common first. Overdue attempts are
// closed first, so the queue holds everything graded so far.
func (s *Service) ReviewQueue(ctx context.Context, actor *marksmith.User, examID int64) ([]ReviewGroup, error) {
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
	specs, err := s.specs(ctx, d, positions)
	if err != nil {
		return nil, err
	}
	// Each group shows the reference and rubric of its first answer's
	// variant (a reference may quote the student's numbers).
	papers := map[int]map[int64]*marksmith.Paper{}
	for _, pos := range positions {
		list, err := s.exams.FindExamPapers(ctx, e.ID, pos)
		if err != nil {
			return nil, fmt.Errorf("review exam %d question %d: papers: %w", e.ID, pos, err)
		}
		papers[pos] = make(map[int64]*marksmith.Paper, len(list))
		for _, p := range list {
			papers[pos][p.UserID] = p
		}
	}
	type groupKey struct {
		position int
		part     string
		answer   string
	}
	groups := map[groupKey]*ReviewGroup{}
	suggested := map[groupKey]map[float64]int{}
	for _, g := range d.grades {
		if !g.NeedsReview {
			continue
		}
		spec := partSpec(specs[g.Position], g.Part)
		k := groupKey{g.Position, g.Part, normalize(spec, d.raw(g))}
		rg := groups[k]
		if rg == nil {
			rg = &ReviewGroup{Question: g.Position, Part: g.Part, Answer: k.answer, Max: g.Max, Feedback: g.Feedback}
			if spec != nil {
				rg.Reference, rg.Rubric = spec.Reference, spec.Rubric
			}
			if a := d.attempts[g.AttemptID]; a != nil && papers[g.Position][a.UserID] != nil {
				v, err := decodeVariant(papers[g.Position][a.UserID])
				if err != nil {
					return nil, err
				}
				if own := partSpec(v, g.Part); own != nil {
					rg.Reference, rg.Rubric = own.Reference, own.Rubric
				}
			}
			groups[k] = rg
			suggested[k] = map[float64]int{}
		}
		rg.Count++
		rg.AttemptIDs = append(rg.AttemptIDs, g.AttemptID)
		suggested[k][g.Score]++
	}
	out := make([]ReviewGroup, 0, len(groups))
	for k, rg := range groups {
		best := -1
		for score, n := range suggested[k] {
			if n > best || (n == best && score > rg.Suggested) {
				best, rg.Suggested = n, score
			}
		}
		slices.Sort(rg.AttemptIDs)
		out = append(out, *rg)
	}
	slices.SortFunc(out, func(a, b ReviewGroup) int {
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

// Override applies a reviewer's score to a group of identical answers (or
// to listed attempts) for one part: each grade gets the score, the rule
// "override", the reviewer and the reason, keeps the grader's score as
// Suggested, and leaves the review queue; attempt scores are updated and
// an audit entry (before and after) is written per grade, in one
// transaction.
func (s *Service) Override(ctx context.Context, actor *marksmith.User, examID int64, in OverrideInput) (*OverrideResult, error) {
	e, err := s.publishedExam(ctx, actor, examID)
	if err != nil {
		return nil, err
	}
	var problems []FieldError
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" {
		problems = append(problems, FieldError{Field: "reason", Message: "is required"})
	}
	q := questionAt(e, in.Question)
	if q == nil {
		problems = append(problems, FieldError{Field: "question", Message: fmt.Sprintf("the exam has no question %d", in.Question)})
	}
	if in.Part == "" {
		problems = append(problems, FieldError{Field: "part", Message: "is required"})
	}
	if strings.TrimSpace(in.Answer) == "" && len(in.AttemptIDs) == 0 {
		problems = append(problems, FieldError{Field: "answer", Message: "give the group's answer or attempt_ids"})
	}
	if in.Score < 0 || math.IsNaN(in.Score) || math.IsInf(in.Score, 0) {
		problems = append(problems, FieldError{Field: "score", Message: "must be a number, 0 or more"})
	}
	if len(problems) > 0 {
		return nil, invalid(problems)
	}
	d, err := s.load(ctx, e, true)
	if err != nil {
		return nil, err
	}
	specs, err := s.specs(ctx, d, []int{in.Question})
	if err != nil {
		return nil, err
	}
	spec := partSpec(specs[in.Question], in.Part)
	if spec == nil {
		return nil, invalid([]FieldError{{Field: "part", Message: fmt.Sprintf("question %d has no part %q", in.Question, in.Part)}})
	}
	want := normalize(spec, in.Answer)
	ids := map[int64]bool{}
	for _, id := range in.AttemptIDs {
		ids[id] = true
	}
	now := s.clock()
	var targets []*marksmith.Grade
	for _, g := range d.grades {
		if g.Position != in.Question || g.Part != in.Part {
			continue
		}
		if len(ids) > 0 {
			if !ids[g.AttemptID] {
				continue
			}
		} else if normalize(spec, d.raw(g)) != want {
			continue
		}
		targets = append(targets, g)
	}
	if len(ids) > 0 && len(targets) != len(ids) {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "Only %d of the %d attempts listed have a graded answer to question %d part %s.", len(targets), len(ids), in.Question, in.Part)
	}
	if len(targets) == 0 {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "No graded answer to question %d part %s matches.", in.Question, in.Part)
	}
	if in.Score > targets[0].Max+1e-9 {
		return nil, invalid([]FieldError{{Field: "score", Message: fmt.Sprintf("is more than the part's %g marks", targets[0].Max)}})
	}
	uid := actor.ID
	updated := make([]*marksmith.Grade, len(targets))
	audit := make([]*marksmith.AuditEntry, len(targets))
	res := &OverrideResult{Updated: len(targets)}
	changed := map[answerKey]*marksmith.Grade{}
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
		changed[answerKey{g.AttemptID, g.Position, g.Part}] = &ng
		before, _ := json.Marshal(g)
		after, _ := json.Marshal(&ng)
		audit[i] = &marksmith.AuditEntry{ExamID: examID, Actor: actor.ID, Action: "override",
			Target: fmt.Sprintf("attempt %d question %d part %s", g.AttemptID, g.Position, g.Part),
			Before: before, After: after, Reason: in.Reason, At: now}
		userID, email := d.email(g.AttemptID)
		res.Changes = append(res.Changes, ScoreChange{AttemptID: g.AttemptID, UserID: userID, Student: email,
			Question: g.Position, Part: g.Part, Before: g.Score, After: ng.Score})
	}
	scores := attemptScores(d.grades, changed)
	if err := s.exams.UpdateGrades(ctx, updated, scores, audit); err != nil {
		return nil, fmt.Errorf("override exam %d question %d part %s: %w", examID, in.Question, in.Part, err)
	}
	return res, nil
}

// attemptScores returns the new total of every attempt with a changed
// grade.
func attemptScores(all []*marksmith.Grade, changed map[answerKey]*marksmith.Grade) map[int64]float64 {
	touched := map[int64]bool{}
	for k := range changed {
		touched[k.attempt] = true
	}
	scores := map[int64]float64{}
	for _, g := range all {
		if !touched[g.AttemptID] {
			continue
		}
		if ng := changed[answerKey{g.AttemptID, g.Position, g.Part}]; ng != nil {
			g = ng
		}
		scores[g.AttemptID] += g.Score
	}
	for id, sc := range scores {
		scores[id] = round(sc)
	}
	return scores
}
