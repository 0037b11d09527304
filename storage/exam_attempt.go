package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/marksmith/marksmith"
)

// attemptRow is a row of attempts.
type attemptRow struct {
	ID          int64 `gorm:"primaryKey"`
	ExamID      int64
	UserID      int64
	Status      string
	StartedAt   time.Time
	DeadlineAt  time.Time
	SubmittedAt *time.Time
	Late        bool
	Score       *float64
	MaxScore    float64
}

func (attemptRow) TableName() string { return "attempts" }

func (r *attemptRow) toDomain() *marksmith.Attempt {
	return &marksmith.Attempt{ID: r.ID, ExamID: r.ExamID, UserID: r.UserID, Status: marksmith.AttemptStatus(r.Status),
		StartedAt: r.StartedAt.UTC(), DeadlineAt: r.DeadlineAt.UTC(), SubmittedAt: utcPtr(r.SubmittedAt),
		Late: r.Late, Score: r.Score, Max: r.MaxScore}
}

// answerRow is a row of answers.
type answerRow struct {
	AttemptID   int64  `gorm:"primaryKey;autoIncrement:false"`
	Position    int    `gorm:"column:question;primaryKey;autoIncrement:false"`
	Part        string `gorm:"primaryKey"`
	Raw         string
	Seq         int64
	FormatError string
	SavedAt     time.Time
}

func (answerRow) TableName() string { return "answers" }

func (r *answerRow) toDomain() *marksmith.Answer {
	return &marksmith.Answer{AttemptID: r.AttemptID, Position: r.Position, Part: r.Part, Raw: r.Raw, Seq: r.Seq,
		FormatError: r.FormatError, SavedAt: r.SavedAt.UTC()}
}

// gradeRow is a row of grades.
type gradeRow struct {
	AttemptID       int64  `gorm:"primaryKey;autoIncrement:false"`
	Position        int    `gorm:"column:question;primaryKey;autoIncrement:false"`
	Part            string `gorm:"primaryKey"`
	Score           float64
	MaxScore        float64
	Rule            string
	Feedback        string
	NeedsReview     bool
	TemplateVersion int
	GradedAt        time.Time
	Suggested       *float64
	ReviewedBy      *int64
	ReviewReason    string
	ReviewedAt      *time.Time
}

func (gradeRow) TableName() string { return "grades" }

func (r *gradeRow) toDomain() *marksmith.Grade {
	return &marksmith.Grade{AttemptID: r.AttemptID, Position: r.Position, Part: r.Part, Score: r.Score, Max: r.MaxScore,
		Rule: r.Rule, Feedback: r.Feedback, NeedsReview: r.NeedsReview, TemplateVersion: r.TemplateVersion,
		GradedAt: r.GradedAt.UTC(), Suggested: r.Suggested, ReviewedBy: r.ReviewedBy, ReviewReason: r.ReviewReason,
		ReviewedAt: utcPtr(r.ReviewedAt)}
}

func gradeFromDomain(g *marksmith.Grade) gradeRow {
	return gradeRow{AttemptID: g.AttemptID, Position: g.Position, Part: g.Part, Score: g.Score, MaxScore: g.Max,
		Rule: g.Rule, Feedback: g.Feedback, NeedsReview: g.NeedsReview, TemplateVersion: g.TemplateVersion,
		GradedAt: dbTime(g.GradedAt), Suggested: g.Suggested, ReviewedBy: g.ReviewedBy, ReviewReason: g.ReviewReason,
		ReviewedAt: dbTimePtr(g.ReviewedAt)}
}

// auditRow is a row of audit_log.
type auditRow struct {
	ID         int64 `gorm:"primaryKey"`
	ExamID     int64
	Actor      int64
	Action     string
	Target     string
	BeforeJSON *string `gorm:"column:before_json"`
	AfterJSON  *string `gorm:"column:after_json"`
	Reason     string
	At         time.Time
}

func (auditRow) TableName() string { return "audit_log" }

func (r *auditRow) toDomain() *marksmith.AuditEntry {
	e := &marksmith.AuditEntry{ID: r.ID, ExamID: r.ExamID, Actor: r.Actor, Action: r.Action, Target: r.Target,
		Reason: r.Reason, At: r.At.UTC()}
	if r.BeforeJSON != nil {
		e.Before = json.RawMessage(*r.BeforeJSON)
	}
	if r.AfterJSON != nil {
		e.After = json.RawMessage(*r.AfterJSON)
	}
	return e
}

func auditFromDomain(e *marksmith.AuditEntry, now time.Time) *auditRow {
	r := &auditRow{ExamID: e.ExamID, Actor: e.Actor, Action: e.Action, Target: e.Target, Reason: e.Reason, At: dbTime(e.At)}
	if e.At.IsZero() {
		r.At = now
	}
	if len(e.Before) > 0 {
		s := string(e.Before)
		r.BeforeJSON = &s
	}
	if len(e.After) > 0 {
		s := string(e.After)
		r.AfterJSON = &s
	}
	return r
}

// CreateAttempt stores a new attempt and sets its ID; ECONFLICT when the
// student already has one at the exam.
func (s *ExamStore) CreateAttempt(ctx context.Context, a *marksmith.Attempt) error {
	if a.Status == "" {
		a.Status = marksmith.AttemptOpen
	}
	r := &attemptRow{ExamID: a.ExamID, UserID: a.UserID, Status: string(a.Status), StartedAt: dbTime(a.StartedAt),
		DeadlineAt: dbTime(a.DeadlineAt), SubmittedAt: dbTimePtr(a.SubmittedAt), Late: a.Late, Score: a.Score, MaxScore: a.Max}
	if err := s.db.gorm.WithContext(ctx).Create(r).Error; err != nil {
		return translate(err, fmt.Sprintf("attempt of student %d at exam %d", a.UserID, a.ExamID))
	}
	*a = *r.toDomain()
	return nil
}

// FindAttemptByID returns the attempt, or ENOTFOUND.
func (s *ExamStore) FindAttemptByID(ctx context.Context, id int64) (*marksmith.Attempt, error) {
	var r attemptRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("attempt %d", id))
	}
	return r.toDomain(), nil
}

// FindAttempt returns a student's attempt at an exam, or ENOTFOUND.
func (s *ExamStore) FindAttempt(ctx context.Context, examID, userID int64) (*marksmith.Attempt, error) {
	var r attemptRow
	if err := s.db.gorm.WithContext(ctx).Where("exam_id = ? AND user_id = ?", examID, userID).Take(&r).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("attempt of student %d at exam %d", userID, examID))
	}
	return r.toDomain(), nil
}

// FindAttempts returns every attempt at an exam, ordered by ID.
func (s *ExamStore) FindAttempts(ctx context.Context, examID int64) ([]*marksmith.Attempt, error) {
	var rows []attemptRow
	if err := s.db.gorm.WithContext(ctx).Where("exam_id = ?", examID).Order("id").Find(&rows).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("attempts at exam %d", examID))
	}
	out := make([]*marksmith.Attempt, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// saveAnswerSQL inserts an answer, or overwrites the stored one only when
// its seq is lower, in one statement, and only while the attempt is open.
// Both dialects support the upsert with a WHERE and RETURNING; Postgres
// needs the types of the selected parameters spelled out.
const (
	saveAnswerInsert = `INSERT INTO answers (attempt_id, question, part, raw, seq, format_error, saved_at) SELECT `
	saveAnswerRest   = ` WHERE EXISTS (SELECT 1 FROM attempts WHERE id = ? AND status = 'open')
ON CONFLICT (attempt_id, question, part) DO UPDATE
SET raw = excluded.raw, seq = excluded.seq, format_error = excluded.format_error, saved_at = excluded.saved_at
WHERE answers.seq < excluded.seq
RETURNING attempt_id, question, part, raw, seq, format_error, saved_at`
	saveAnswerSQLite   = saveAnswerInsert + `?, ?, ?, ?, ?, ?, ?` + saveAnswerRest
	saveAnswerPostgres = saveAnswerInsert + `CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS TEXT),
CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TIMESTAMPTZ)` + saveAnswerRest
)

// SaveAnswer stores a part's answer unless the stored one has a Seq at
// least as high, and returns whether it stored it and the answer now
// stored. The answer is committed when it returns. ECONFLICT when the
// attempt is not open, ENOTFOUND when there is no such attempt. A zero
// SavedAt defaults to the DB's clock.
func (s *ExamStore) SaveAnswer(ctx context.Context, a *marksmith.Answer) (bool, *marksmith.Answer, error) {
	if a.SavedAt.IsZero() {
		a.SavedAt = s.db.now()
	}
	what := fmt.Sprintf("answer to attempt %d question %d part %s", a.AttemptID, a.Position, a.Part)
	db := s.db.gorm.WithContext(ctx)
	var rows []answerRow
	q := saveAnswerSQLite
	if s.db.dialect == DialectPostgres {
		q = saveAnswerPostgres
	}
	err := db.Raw(q, a.AttemptID, a.Position, a.Part, a.Raw, a.Seq, a.FormatError, dbTime(a.SavedAt), a.AttemptID).
		Scan(&rows).Error
	if err != nil {
		return false, nil, translate(err, what)
	}
	if len(rows) == 1 {
		return true, rows[0].toDomain(), nil
	}
	var r answerRow
	err = db.Where("attempt_id = ? AND question = ? AND part = ?", a.AttemptID, a.Position, a.Part).Take(&r).Error
	if err == nil {
		var status string
		err = db.Model(&attemptRow{}).Select("status").Where("id = ?", a.AttemptID).Take(&status).Error
		if err == nil && status != string(marksmith.AttemptOpen) && r.Seq < a.Seq {
			return false, nil, marksmith.Errorf(marksmith.ECONFLICT, "attempt %d is %s", a.AttemptID, status)
		}
		if err == nil {
			return false, r.toDomain(), nil
		}
	}
	if errNoRows(err) {
		// Nothing stored: the attempt is closed or does not exist.
		var st attemptRow
		if err := db.Where("id = ?", a.AttemptID).Take(&st).Error; err != nil {
			return false, nil, translate(err, fmt.Sprintf("attempt %d", a.AttemptID))
		}
		return false, nil, marksmith.Errorf(marksmith.ECONFLICT, "attempt %d is %s", a.AttemptID, st.Status)
	}
	return false, nil, translate(err, what)
}

// FindAnswers returns an attempt's answers, by question and part.
func (s *ExamStore) FindAnswers(ctx context.Context, attemptID int64) ([]*marksmith.Answer, error) {
	var rows []answerRow
	err := s.db.gorm.WithContext(ctx).Where("attempt_id = ?", attemptID).Order("question, part").Find(&rows).Error
	if err != nil {
		return nil, translate(err, fmt.Sprintf("answers of attempt %d", attemptID))
	}
	return answersToDomain(rows), nil
}

// FindExamAnswers returns the answers of every attempt at an exam, by
// attempt, question and part.
func (s *ExamStore) FindExamAnswers(ctx context.Context, examID int64) ([]*marksmith.Answer, error) {
	var rows []answerRow
	err := s.db.gorm.WithContext(ctx).Table("answers").Select("answers.*").
		Joins("JOIN attempts a ON a.id = answers.attempt_id").Where("a.exam_id = ?", examID).
		Order("answers.attempt_id, answers.question, answers.part").Find(&rows).Error
	if err != nil {
		return nil, translate(err, fmt.Sprintf("answers at exam %d", examID))
	}
	return answersToDomain(rows), nil
}

func answersToDomain(rows []answerRow) []*marksmith.Answer {
	out := make([]*marksmith.Answer, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out
}

// CloseAttempt stores the end of an open attempt (status, submission
// time, lateness, score and maximum) with its grades, in one transaction;
// ECONFLICT when it is no longer open, ENOTFOUND when there is none.
func (s *ExamStore) CloseAttempt(ctx context.Context, a *marksmith.Attempt, grades []*marksmith.Grade) error {
	if a.Status != marksmith.AttemptSubmitted && a.Status != marksmith.AttemptClosed {
		return marksmith.Errorf(marksmith.EINVALID, "attempt %d: cannot close with status %q", a.ID, a.Status)
	}
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&attemptRow{}).Where("id = ? AND status = ?", a.ID, string(marksmith.AttemptOpen)).Updates(map[string]any{
			"status": string(a.Status), "submitted_at": dbTimePtr(a.SubmittedAt), "late": a.Late,
			"score": a.Score, "max_score": a.Max,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var r attemptRow
			if err := tx.Where("id = ?", a.ID).Take(&r).Error; err != nil {
				return err
			}
			return marksmith.Errorf(marksmith.ECONFLICT, "attempt %d is already %s", a.ID, r.Status)
		}
		if len(grades) == 0 {
			return nil
		}
		rows := make([]gradeRow, len(grades))
		for i, g := range grades {
			rows[i] = gradeFromDomain(g)
			rows[i].AttemptID = a.ID
		}
		return tx.Clauses(clause.OnConflict{UpdateAll: true}).CreateInBatches(rows, 200).Error
	})
	return translate(err, fmt.Sprintf("attempt %d", a.ID))
}

// FindGrades returns an attempt's grades, by question and part.
func (s *ExamStore) FindGrades(ctx context.Context, attemptID int64) ([]*marksmith.Grade, error) {
	var rows []gradeRow
	err := s.db.gorm.WithContext(ctx).Where("attempt_id = ?", attemptID).Order("question, part").Find(&rows).Error
	if err != nil {
		return nil, translate(err, fmt.Sprintf("grades of attempt %d", attemptID))
	}
	return gradesToDomain(rows), nil
}

// FindExamGrades returns the grades of every attempt at an exam, by
// attempt, question and part.
func (s *ExamStore) FindExamGrades(ctx context.Context, examID int64) ([]*marksmith.Grade, error) {
	var rows []gradeRow
	err := s.db.gorm.WithContext(ctx).Table("grades").Select("grades.*").
		Joins("JOIN attempts a ON a.id = grades.attempt_id").Where("a.exam_id = ?", examID).
		Order("grades.attempt_id, grades.question, grades.part").Find(&rows).Error
	if err != nil {
		return nil, translate(err, fmt.Sprintf("grades at exam %d", examID))
	}
	return gradesToDomain(rows), nil
}

func gradesToDomain(rows []gradeRow) []*marksmith.Grade {
	out := make([]*marksmith.Grade, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out
}

// UpdateGrades replaces grades (matched by attempt, question and part),
// sets each listed attempt's score, and appends the audit entries, in one
// transaction. An attempt in scores that does not exist is ENOTFOUND.
func (s *ExamStore) UpdateGrades(ctx context.Context, grades []*marksmith.Grade, scores map[int64]float64, audit []*marksmith.AuditEntry) error {
	now := s.db.now()
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		if len(grades) > 0 {
			rows := make([]gradeRow, len(grades))
			for i, g := range grades {
				rows[i] = gradeFromDomain(g)
			}
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).CreateInBatches(rows, 200).Error; err != nil {
				return err
			}
		}
		for id, score := range scores {
			res := tx.Model(&attemptRow{}).Where("id = ?", id).Update("score", score)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return marksmith.Errorf(marksmith.ENOTFOUND, "attempt %d not found", id)
			}
		}
		if len(audit) > 0 {
			rows := make([]*auditRow, len(audit))
			for i, e := range audit {
				rows[i] = auditFromDomain(e, now)
			}
			if err := tx.CreateInBatches(rows, 200).Error; err != nil {
				return err
			}
			for i, r := range rows {
				audit[i].ID, audit[i].At = r.ID, r.At.UTC()
			}
		}
		return nil
	})
	return translate(err, "update grades")
}

// Release marks a published exam's results released at at, with an audit
// entry, in one transaction; ECONFLICT when it is a draft or already
// released, ENOTFOUND when there is none.
func (s *ExamStore) Release(ctx context.Context, examID int64, at time.Time, audit *marksmith.AuditEntry) error {
	at = dbTime(at)
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&examRow{}).Where("id = ? AND status = ? AND NOT released", examID, string(marksmith.ExamPublished)).
			Updates(map[string]any{"released": true, "released_at": at, "updated_at": at})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			if _, err := examState(tx, examID); err != nil {
				return err
			}
			return marksmith.Errorf(marksmith.ECONFLICT, "exam %d is a draft or already released", examID)
		}
		if audit == nil {
			return nil
		}
		r := auditFromDomain(audit, at)
		if err := tx.Create(r).Error; err != nil {
			return err
		}
		audit.ID, audit.At = r.ID, r.At.UTC()
		return nil
	})
	return translate(err, fmt.Sprintf("exam %d", examID))
}

// AddAudit appends an audit entry and sets its ID; a zero At defaults to
// the DB's clock.
func (s *ExamStore) AddAudit(ctx context.Context, e *marksmith.AuditEntry) error {
	r := auditFromDomain(e, s.db.now())
	if err := s.db.gorm.WithContext(ctx).Create(r).Error; err != nil {
		return translate(err, fmt.Sprintf("audit entry of exam %d", e.ExamID))
	}
	*e = *r.toDomain()
	return nil
}

// FindAudit returns an exam's audit log, oldest first.
func (s *ExamStore) FindAudit(ctx context.Context, examID int64) ([]*marksmith.AuditEntry, error) {
	var rows []auditRow
	if err := s.db.gorm.WithContext(ctx).Where("exam_id = ?", examID).Order("id").Find(&rows).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("audit log of exam %d", examID))
	}
	out := make([]*marksmith.AuditEntry, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}
