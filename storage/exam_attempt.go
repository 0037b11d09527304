package storage

import (
	"context"
	"database/sql"
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
	GraceUntil  *time.Time
	Mode        string
	SubmittedAt *time.Time
	Late        bool
	Score       *float64
	MaxScore    float64
}

func (attemptRow) TableName() string { return "attempts" }

func (r *attemptRow) toDomain() *marksmith.Attempt {
	a := &marksmith.Attempt{ID: r.ID, ExamID: r.ExamID, UserID: r.UserID, Status: marksmith.AttemptStatus(r.Status),
		StartedAt: r.StartedAt.UTC(), DeadlineAt: r.DeadlineAt.UTC(), SubmittedAt: utcPtr(r.SubmittedAt),
		Late: r.Late, Score: r.Score, Max: r.MaxScore, Mode: r.Mode}
	if r.GraceUntil != nil {
		a.GraceUntil = r.GraceUntil.UTC()
	}
	return a
}

func attemptFromDomain(a *marksmith.Attempt) *attemptRow {
	mode := a.Mode
	if mode == "" {
		mode = marksmith.DeliveryOnline
	}
	grace := dbTime(a.GraceUntil)
	if a.GraceUntil.IsZero() {
		grace = dbTime(a.DeadlineAt)
	}
	return &attemptRow{ID: a.ID, ExamID: a.ExamID, UserID: a.UserID, Status: string(a.Status), StartedAt: dbTime(a.StartedAt),
		DeadlineAt: dbTime(a.DeadlineAt), GraceUntil: &grace, Mode: mode, SubmittedAt: dbTimePtr(a.SubmittedAt),
		Late: a.Late, Score: a.Score, MaxScore: a.Max}
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
	r := attemptFromDomain(a)
	r.ID = 0
	// ON CONFLICT DO NOTHING: a student's second attempt is an answer
	// (ECONFLICT), not an error in the database's log.
	res := s.db.gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "exam_id"}, {Name: "user_id"}}, DoNothing: true}).Create(r)
	if res.Error != nil {
		return translate(res.Error, fmt.Sprintf("attempt of student %d at exam %d", a.UserID, a.ExamID))
	}
	if res.RowsAffected == 0 {
		return marksmith.Errorf(marksmith.ECONFLICT, "student %d already has an attempt at exam %d", a.UserID, a.ExamID)
	}
	*a = *r.toDomain()
	return nil
}

// FindAttemptByID returns the attempt, with its exam's version, or
// ENOTFOUND.
func (s *ExamStore) FindAttemptByID(ctx context.Context, id int64) (*marksmith.Attempt, error) {
	var r struct {
		Row         attemptRow `gorm:"embedded"`
		ExamVersion int64
	}
	err := s.db.gorm.WithContext(ctx).Table("attempts").Select("attempts.*, exams.version AS exam_version").
		Joins("JOIN exams ON exams.id = attempts.exam_id").Where("attempts.id = ?", id).Take(&r).Error
	if err != nil {
		return nil, translate(err, fmt.Sprintf("attempt %d", id))
	}
	a := r.Row.toDomain()
	a.ExamVersion = r.ExamVersion
	return a, nil
}

// LockAttempt returns the attempt, or ENOTFOUND. Inside WithTx on
// Postgres it locks the row (FOR UPDATE) until the transaction ends, so a
// save, which takes a share lock on it, waits and then sees what the
// transaction did; SQLite's write transactions hold the database lock
// from their start.
func (s *ExamStore) LockAttempt(ctx context.Context, id int64) (*marksmith.Attempt, error) {
	q := s.db.gorm.WithContext(ctx)
	if s.db.dialect == DialectPostgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var r attemptRow
	if err := q.Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("attempt %d", id))
	}
	return r.toDomain(), nil
}

// UpdateAttempt rewrites an attempt's status, deadline, grace, submission
// time, lateness and score; ENOTFOUND when there is none.
func (s *ExamStore) UpdateAttempt(ctx context.Context, a *marksmith.Attempt) error {
	r := attemptFromDomain(a)
	res := s.db.gorm.WithContext(ctx).Model(&attemptRow{}).Where("id = ?", a.ID).Updates(map[string]any{
		"status": r.Status, "deadline_at": r.DeadlineAt, "grace_until": r.GraceUntil, "submitted_at": r.SubmittedAt,
		"late": r.Late, "score": r.Score, "max_score": r.MaxScore,
	})
	if res.Error != nil {
		return translate(res.Error, fmt.Sprintf("attempt %d", a.ID))
	}
	if res.RowsAffected == 0 {
		return marksmith.Errorf(marksmith.ENOTFOUND, "attempt %d not found", a.ID)
	}
	return nil
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

// The one statement of a save on SQLite, which runs one writer at a time:
// the checks of saveAnswersPostgres for one answer.
const (
	saveAnswerSQLite = `INSERT INTO answers (attempt_id, question, part, raw, seq, format_error, saved_at)
SELECT id, ?, ?, ?, ?, ?, ? FROM attempts
WHERE id = ? AND user_id = ? AND status = 'open' AND grace_until >= ?
	AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = attempts.user_id AND (users.disabled OR users.must_change_password))
ON CONFLICT (attempt_id, question, part) DO UPDATE
SET raw = excluded.raw, seq = excluded.seq, format_error = excluded.format_error, saved_at = excluded.saved_at
WHERE answers.seq < excluded.seq
RETURNING saved_at, saved_at > (SELECT deadline_at FROM attempts WHERE id = ?)`
)

// SaveAnswer stores a part's answer in one statement when the attempt
// belongs to userID (whose account is not disabled), is open, is within
// its grace at a.SavedAt, and the stored answer's Seq is lower; the answer
// is committed when it returns. On PostgreSQL, outside a transaction, the
// statement and its commit are shared with the saves waiting at the same
// moment (see saveGroups).
// Otherwise it stores nothing and says why: the attempt is not the
// saver's (SaveNoAttempt), is no longer open (SaveNotOpen) or is past its
// grace (SaveOverdue), or a save at least as new is stored (Refused "",
// Current the stored answer). A zero SavedAt defaults to the DB's clock.
func (s *ExamStore) SaveAnswer(ctx context.Context, a *marksmith.Answer, userID int64) (*marksmith.SaveOutcome, error) {
	if a.SavedAt.IsZero() {
		a.SavedAt = s.db.now()
	}
	at := dbTime(a.SavedAt)
	what := func() string {
		return fmt.Sprintf("answer to attempt %d question %d part %s", a.AttemptID, a.Position, a.Part)
	}
	if s.db.dialect == DialectPostgres {
		var r groupResult
		var err error
		if s.db.groups != nil && !s.db.inTx {
			if r, err = s.db.groups.save(ctx, a, userID, at); err == nil {
				err = r.err
			}
		} else { // inside a transaction: on its connection, alone
			var res []groupResult
			if res, err = writeGroup(ctx, s.db.pool(), []*pendingSave{{a: a, userID: userID, at: at}}); err == nil {
				r = res[0]
			}
		}
		if err != nil {
			return nil, translate(err, what())
		}
		if !r.stored {
			if r.refused != nil { // said by the group
				return r.refused, nil
			}
			return s.refusedSave(ctx, a, userID, at)
		}
		cur := *a
		cur.SavedAt = r.savedAt
		return &marksmith.SaveOutcome{Stored: true, Late: r.late, Current: &cur}, nil
	}
	rows, err := s.db.pool().QueryContext(ctx, saveAnswerSQLite, a.Position, a.Part, a.Raw, a.Seq, a.FormatError, at, a.AttemptID, userID, at, a.AttemptID)
	if err != nil {
		return nil, translate(err, what())
	}
	var saved anyTime
	var late bool
	stored := rows.Next()
	if stored {
		err = rows.Scan(&saved, &late)
	}
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return nil, translate(err, what())
	}
	if stored {
		cur := *a
		cur.SavedAt = saved.Time.UTC()
		return &marksmith.SaveOutcome{Stored: true, Late: late, Current: &cur}, nil
	}
	return s.refusedSave(ctx, a, userID, at)
}

// saveDiagColumns are what tell why a save stored nothing: the attempt,
// its owner's account, and the part's stored answer (from attempts a,
// users u and answers ans).
const saveDiagColumns = `a.id, a.exam_id, a.user_id, a.status, a.started_at, a.deadline_at, a.grace_until, a.mode,
		a.submitted_at, a.late, a.score, a.max_score, u.disabled, u.must_change_password,
		ans.attempt_id IS NOT NULL, COALESCE(ans.raw, ''), COALESCE(ans.seq, 0), COALESCE(ans.format_error, ''), ans.saved_at`

// refusedSave says why a save stored nothing, in one more round trip.
func (s *ExamStore) refusedSave(ctx context.Context, a *marksmith.Answer, userID int64, at time.Time) (*marksmith.SaveOutcome, error) {
	what := func() string {
		return fmt.Sprintf("answer to attempt %d question %d part %s", a.AttemptID, a.Position, a.Part)
	}
	diag, err := s.db.gorm.WithContext(ctx).Raw(`SELECT `+saveDiagColumns+`
	FROM attempts a JOIN users u ON u.id = a.user_id
	LEFT JOIN answers ans ON ans.attempt_id = a.id AND ans.question = ? AND ans.part = ?
	WHERE a.id = ? AND a.user_id = ?`, a.Position, a.Part, a.AttemptID, userID).Rows()
	if err != nil {
		return nil, translate(err, what())
	}
	defer diag.Close()
	if !diag.Next() {
		if err := diag.Err(); err != nil {
			return nil, translate(err, what())
		}
		return &marksmith.SaveOutcome{Refused: marksmith.SaveNoAttempt}, nil
	}
	w, err := scanRefusal(diag)
	if err != nil {
		return nil, translate(err, what())
	}
	return w.outcome(a, at), nil
}

// refusal is one row of saveDiagColumns.
type refusal struct {
	attemptRow
	Disabled, MustChange, HasAnswer   bool
	AnsRaw, AnsFormatError            string
	AnsSeq                            int64
	started, deadline, grace, savedAt anyTime
	submitted                         anyTime
}

// scanRefusal reads one row of saveDiagColumns, after any dest given
// first.
func scanRefusal(rows *sql.Rows, dest ...any) (*refusal, error) {
	var w refusal
	if err := rows.Scan(append(dest, &w.ID, &w.ExamID, &w.UserID, &w.Status, &w.started, &w.deadline, &w.grace, &w.Mode,
		&w.submitted, &w.Late, &w.Score, &w.MaxScore, &w.Disabled, &w.MustChange, &w.HasAnswer, &w.AnsRaw, &w.AnsSeq, &w.AnsFormatError, &w.savedAt)...); err != nil {
		return nil, err
	}
	w.StartedAt, w.DeadlineAt = w.started.Time, w.deadline.Time
	if !w.grace.Time.IsZero() {
		g := w.grace.Time
		w.GraceUntil = &g
	}
	if !w.submitted.Time.IsZero() {
		sub := w.submitted.Time
		w.SubmittedAt = &sub
	}
	return &w, nil
}

// outcome says why the save a, made at at, stored nothing.
func (w *refusal) outcome(a *marksmith.Answer, at time.Time) *marksmith.SaveOutcome {
	out := &marksmith.SaveOutcome{Attempt: w.attemptRow.toDomain()}
	if w.HasAnswer {
		out.Current = &marksmith.Answer{AttemptID: a.AttemptID, Position: a.Position, Part: a.Part, Raw: w.AnsRaw, Seq: w.AnsSeq,
			FormatError: w.AnsFormatError, SavedAt: w.savedAt.Time.UTC()}
	}
	switch {
	case w.Disabled:
		out.Refused = marksmith.SaveDisabled
	case w.MustChange:
		out.Refused = marksmith.SavePasswordPending
	case w.Status != string(marksmith.AttemptOpen):
		out.Refused = marksmith.SaveNotOpen
	case w.GraceUntil == nil || w.GraceUntil.Before(at):
		out.Refused = marksmith.SaveOverdue
	case out.Current == nil:
		// Not stale and nothing stored: the attempt changed under the
		// statement (closed and reopened); the caller may retry.
		out.Refused = marksmith.SaveNotOpen
	}
	return out
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

// LockPartGrades returns the grades of one part of one question of an
// exam, by attempt; inside WithTx on Postgres it locks them (FOR UPDATE)
// until the transaction ends. SQLite's write transactions hold the
// database lock from their start.
func (s *ExamStore) LockPartGrades(ctx context.Context, examID int64, position int, part string) ([]*marksmith.Grade, error) {
	q := s.db.gorm.WithContext(ctx).Table("grades").Select("grades.*").
		Joins("JOIN attempts a ON a.id = grades.attempt_id").
		Where("a.exam_id = ? AND grades.question = ? AND grades.part = ?", examID, position, part).Order("grades.attempt_id")
	if s.db.dialect == DialectPostgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "grades"}})
	}
	var rows []gradeRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("grades of exam %d question %d part %s", examID, position, part))
	}
	return gradesToDomain(rows), nil
}

// DeleteGrades removes an attempt's grades.
func (s *ExamStore) DeleteGrades(ctx context.Context, attemptID int64) error {
	err := s.db.gorm.WithContext(ctx).Where("attempt_id = ?", attemptID).Delete(&gradeRow{}).Error
	return translate(err, fmt.Sprintf("grades of attempt %d", attemptID))
}

// LastSaves returns, per attempt of an exam that has answers, when its
// last answer was saved and how many parts have a non-blank answer.
func (s *ExamStore) LastSaves(ctx context.Context, examID int64) (map[int64]marksmith.SaveActivity, error) {
	rows, err := s.db.gorm.WithContext(ctx).Table("answers").
		Select("answers.attempt_id, MAX(answers.saved_at), SUM(CASE WHEN TRIM(answers.raw) <> '' THEN 1 ELSE 0 END)").
		Joins("JOIN attempts a ON a.id = answers.attempt_id").Where("a.exam_id = ?", examID).
		Group("answers.attempt_id").Rows()
	if err != nil {
		return nil, translate(err, fmt.Sprintf("save activity at exam %d", examID))
	}
	defer rows.Close()
	out := map[int64]marksmith.SaveActivity{}
	for rows.Next() {
		var id int64
		var last anyTime
		var answered int
		if err := rows.Scan(&id, &last, &answered); err != nil {
			return nil, translate(err, fmt.Sprintf("save activity at exam %d", examID))
		}
		out[id] = marksmith.SaveActivity{LastSaveAt: last.Time.UTC(), Answered: answered}
	}
	return out, translate(rows.Err(), fmt.Sprintf("save activity at exam %d", examID))
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
// sets the score of each attempt they belong to to the sum of its grades
// as stored after the change (rounded to 1e-9), and appends the audit
// entries, in one transaction. Totals summed in the transaction stay right
// when two decisions change different parts of one attempt at once.
func (s *ExamStore) UpdateGrades(ctx context.Context, grades []*marksmith.Grade, audit []*marksmith.AuditEntry) error {
	now := s.db.now()
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		touched := map[int64]bool{}
		var ids []int64
		if len(grades) > 0 {
			rows := make([]gradeRow, len(grades))
			for i, g := range grades {
				rows[i] = gradeFromDomain(g)
				if !touched[g.AttemptID] {
					touched[g.AttemptID] = true
					ids = append(ids, g.AttemptID)
				}
			}
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).CreateInBatches(rows, 200).Error; err != nil {
				return err
			}
		}
		for lo := 0; lo < len(ids); lo += 500 {
			batch := ids[lo:min(lo+500, len(ids))]
			err := tx.Exec(`UPDATE attempts SET score = (SELECT ROUND(CAST(COALESCE(SUM(g.score), 0) AS NUMERIC), 9) FROM grades g WHERE g.attempt_id = attempts.id)
				WHERE id IN ?`, batch).Error
			if err != nil {
				return err
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
