package storage

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/marksmith/marksmith"
)

// examRow is a row of exams. Seed holds the uint64 seed bit for bit;
// Questions is a JSON array of marksmith.ExamQuestion.
type examRow struct {
	ID                   int64 `gorm:"primaryKey"`
	Title                string
	Seed                 int64
	Questions            string
	OpensAt              time.Time
	ClosesAt             time.Time
	TimeLimitSeconds     int
	LateGraceSeconds     int
	ShuffleQuestions     bool
	ShuffleOptions       bool
	FeedbackAfterSubmit  string
	FeedbackAfterRelease string
	Status               string
	Released             bool
	CreatedBy            int64
	CreatedAt            time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt            time.Time `gorm:"autoUpdateTime:false"`
	PublishedAt          *time.Time
	ReleasedAt           *time.Time
}

func (examRow) TableName() string { return "exams" }

func (r *examRow) toDomain() (*marksmith.Exam, error) {
	var qs []marksmith.ExamQuestion
	if err := json.Unmarshal([]byte(r.Questions), &qs); err != nil {
		return nil, fmt.Errorf("exam %d: stored questions: %w", r.ID, err)
	}
	return &marksmith.Exam{
		ID:               r.ID,
		Title:            r.Title,
		Seed:             uint64(r.Seed),
		Questions:        qs,
		OpensAt:          r.OpensAt.UTC(),
		ClosesAt:         r.ClosesAt.UTC(),
		TimeLimitSeconds: r.TimeLimitSeconds,
		LateGraceSeconds: r.LateGraceSeconds,
		ShuffleQuestions: r.ShuffleQuestions,
		ShuffleOptions:   r.ShuffleOptions,
		Feedback:         marksmith.FeedbackPolicy{AfterSubmit: r.FeedbackAfterSubmit, AfterRelease: r.FeedbackAfterRelease},
		Status:           marksmith.ExamStatus(r.Status),
		Released:         r.Released,
		CreatedBy:        r.CreatedBy,
		CreatedAt:        r.CreatedAt.UTC(),
		UpdatedAt:        r.UpdatedAt.UTC(),
		PublishedAt:      utcPtr(r.PublishedAt),
		ReleasedAt:       utcPtr(r.ReleasedAt),
	}, nil
}

func examFromDomain(e *marksmith.Exam) (*examRow, error) {
	qs := e.Questions
	if qs == nil {
		qs = []marksmith.ExamQuestion{}
	}
	b, err := json.Marshal(qs)
	if err != nil {
		return nil, fmt.Errorf("exam %d: encode questions: %w", e.ID, err)
	}
	return &examRow{
		ID:                   e.ID,
		Title:                e.Title,
		Seed:                 int64(e.Seed),
		Questions:            string(b),
		OpensAt:              dbTime(e.OpensAt),
		ClosesAt:             dbTime(e.ClosesAt),
		TimeLimitSeconds:     e.TimeLimitSeconds,
		LateGraceSeconds:     e.LateGraceSeconds,
		ShuffleQuestions:     e.ShuffleQuestions,
		ShuffleOptions:       e.ShuffleOptions,
		FeedbackAfterSubmit:  e.Feedback.AfterSubmit,
		FeedbackAfterRelease: e.Feedback.AfterRelease,
		Status:               string(e.Status),
		Released:             e.Released,
		CreatedBy:            e.CreatedBy,
		CreatedAt:            dbTime(e.CreatedAt),
		UpdatedAt:            dbTime(e.UpdatedAt),
		PublishedAt:          dbTimePtr(e.PublishedAt),
		ReleasedAt:           dbTimePtr(e.ReleasedAt),
	}, nil
}

// rosterRow is a row of exam_roster.
type rosterRow struct {
	ExamID int64 `gorm:"primaryKey;autoIncrement:false"`
	UserID int64 `gorm:"primaryKey;autoIncrement:false"`
}

func (rosterRow) TableName() string { return "exam_roster" }

// paperRow is a row of papers; Variant is the variant's JSON.
type paperRow struct {
	ExamID     int64 `gorm:"primaryKey;autoIncrement:false"`
	UserID     int64 `gorm:"primaryKey;autoIncrement:false"`
	Position   int   `gorm:"column:question;primaryKey;autoIncrement:false"`
	Ord        int
	TemplateID string
	Version    int
	Seed       int64
	Variant    string
}

func (paperRow) TableName() string { return "papers" }

func (r *paperRow) toDomain() *marksmith.Paper {
	return &marksmith.Paper{ExamID: r.ExamID, UserID: r.UserID, Position: r.Position, Order: r.Ord,
		TemplateID: r.TemplateID, Version: r.Version, Seed: uint64(r.Seed), Variant: json.RawMessage(r.Variant)}
}

// paperColumns are the columns of papers, in paperRow order.
var paperColumns = []string{"exam_id", "user_id", "question", "ord", "template_id", "version", "seed", "variant"}

// ExamStore stores exams, rosters, papers, attempts, answers, grades
// and the audit log. It implements marksmith.ExamStore; each method is
// one statement or one transaction.
type ExamStore struct{ db *DB }

var _ marksmith.ExamStore = (*ExamStore)(nil)

// NewExamStore returns the exam service of db.
func NewExamStore(db *DB) *ExamStore { return &ExamStore{db: db} }

func validateExam(e *marksmith.Exam) error {
	var problems []string
	if strings.TrimSpace(e.Title) == "" {
		problems = append(problems, "missing title")
	}
	if e.Status != marksmith.ExamDraft && e.Status != marksmith.ExamPublished {
		problems = append(problems, fmt.Sprintf("status %q is not draft or published", e.Status))
	}
	if e.CreatedBy == 0 {
		problems = append(problems, "missing creator")
	}
	if e.TimeLimitSeconds < 0 || e.LateGraceSeconds < 0 {
		problems = append(problems, "negative time limit or grace")
	}
	if len(problems) > 0 {
		return marksmith.Errorf(marksmith.EINVALID, "exam %q: %s", e.Title, strings.Join(problems, "; "))
	}
	return nil
}

// CreateExam stores e and sets its ID. Zero CreatedAt and UpdatedAt
// default to the DB's clock; a zero Status to draft.
func (s *ExamStore) CreateExam(ctx context.Context, e *marksmith.Exam) error {
	if e.Status == "" {
		e.Status = marksmith.ExamDraft
	}
	if err := validateExam(e); err != nil {
		return err
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.db.now()
	}
	if e.UpdatedAt.IsZero() {
		e.UpdatedAt = e.CreatedAt
	}
	r, err := examFromDomain(e)
	if err != nil {
		return err
	}
	r.ID = 0
	if err := s.db.gorm.WithContext(ctx).Create(r).Error; err != nil {
		return translate(err, fmt.Sprintf("exam %q", e.Title))
	}
	out, err := r.toDomain()
	if err != nil {
		return err
	}
	*e = *out
	return nil
}

// FindExamByID returns the exam, or ENOTFOUND.
func (s *ExamStore) FindExamByID(ctx context.Context, id int64) (*marksmith.Exam, error) {
	var r examRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("exam %d", id))
	}
	return r.toDomain()
}

// FindExams returns the exams matching filter, newest first, and how many
// match in all (ignoring Offset and Limit). Limit 0 means no limit.
func (s *ExamStore) FindExams(ctx context.Context, filter marksmith.ExamFilter) ([]*marksmith.Exam, int, error) {
	where := func(tx *gorm.DB) *gorm.DB {
		q := tx.Model(&examRow{})
		if filter.CreatedBy != nil {
			q = q.Where("created_by = ?", *filter.CreatedBy)
		}
		if filter.Status != nil {
			q = q.Where("status = ?", string(*filter.Status))
		}
		if filter.Student != nil {
			q = q.Where("EXISTS (SELECT 1 FROM exam_roster r WHERE r.exam_id = exams.id AND r.user_id = ?)", *filter.Student)
		}
		return q
	}
	var (
		rows  []examRow
		total int64
	)
	db := s.db.gorm.WithContext(ctx)
	err := where(db).Count(&total).Error
	if err == nil {
		err = page(where(db), filter.Offset, filter.Limit).Order("id DESC").Find(&rows).Error
	}
	if err != nil {
		return nil, 0, translate(err, "find exams")
	}
	out := make([]*marksmith.Exam, len(rows))
	for i := range rows {
		e, err := rows[i].toDomain()
		if err != nil {
			return nil, 0, err
		}
		out[i] = e
	}
	return out, int(total), nil
}

// examState returns the status of an exam inside tx, or ENOTFOUND.
func examState(tx *gorm.DB, id int64) (string, error) {
	var status string
	err := tx.Model(&examRow{}).Select("status").Where("id = ?", id).Take(&status).Error
	if err != nil {
		return "", translate(err, fmt.Sprintf("exam %d", id))
	}
	return status, nil
}

// UpdateExam rewrites a draft exam's fields (not its creator, creation
// time, status or release); ECONFLICT when it is published, ENOTFOUND
// when there is none. A zero UpdatedAt defaults to the DB's clock.
func (s *ExamStore) UpdateExam(ctx context.Context, e *marksmith.Exam) error {
	if e.UpdatedAt.IsZero() {
		e.UpdatedAt = s.db.now()
	}
	r, err := examFromDomain(e)
	if err != nil {
		return err
	}
	if strings.TrimSpace(r.Title) == "" {
		return marksmith.Errorf(marksmith.EINVALID, "exam %d: missing title", e.ID)
	}
	what := fmt.Sprintf("exam %d", e.ID)
	err = s.db.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&examRow{}).Where("id = ? AND status = ?", e.ID, string(marksmith.ExamDraft)).Updates(map[string]any{
			"title": r.Title, "seed": r.Seed, "questions": r.Questions, "opens_at": r.OpensAt, "closes_at": r.ClosesAt,
			"time_limit_seconds": r.TimeLimitSeconds, "late_grace_seconds": r.LateGraceSeconds,
			"shuffle_questions": r.ShuffleQuestions, "shuffle_options": r.ShuffleOptions,
			"feedback_after_submit": r.FeedbackAfterSubmit, "feedback_after_release": r.FeedbackAfterRelease,
			"updated_at": r.UpdatedAt,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			if _, err := examState(tx, e.ID); err != nil {
				return err
			}
			return marksmith.Errorf(marksmith.ECONFLICT, "exam %d is published and can no longer be changed", e.ID)
		}
		var stored examRow
		if err := tx.Where("id = ?", e.ID).Take(&stored).Error; err != nil {
			return err
		}
		out, err := stored.toDomain()
		if err != nil {
			return err
		}
		*e = *out
		return nil
	})
	return translate(err, what)
}

// DeleteExam deletes an exam with everything that hangs off it; ENOTFOUND
// when there is none.
func (s *ExamStore) DeleteExam(ctx context.Context, id int64) error {
	res := s.db.gorm.WithContext(ctx).Where("id = ?", id).Delete(&examRow{})
	if res.Error != nil {
		return translate(res.Error, fmt.Sprintf("exam %d", id))
	}
	if res.RowsAffected == 0 {
		return marksmith.Errorf(marksmith.ENOTFOUND, "exam %d not found", id)
	}
	return nil
}

// SetRoster replaces a draft exam's roster; ECONFLICT when it is
// published, EINVALID when a user does not exist.
func (s *ExamStore) SetRoster(ctx context.Context, examID int64, userIDs []int64) error {
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		status, err := examState(tx, examID)
		if err != nil {
			return err
		}
		if status != string(marksmith.ExamDraft) {
			return marksmith.Errorf(marksmith.ECONFLICT, "exam %d is published: its roster can no longer change", examID)
		}
		if err := tx.Where("exam_id = ?", examID).Delete(&rosterRow{}).Error; err != nil {
			return err
		}
		seen := make(map[int64]bool, len(userIDs))
		rows := make([]rosterRow, 0, len(userIDs))
		for _, id := range userIDs {
			if !seen[id] {
				seen[id] = true
				rows = append(rows, rosterRow{ExamID: examID, UserID: id})
			}
		}
		if len(rows) == 0 {
			return nil
		}
		return tx.CreateInBatches(rows, 1000).Error
	})
	return translate(err, fmt.Sprintf("roster of exam %d", examID))
}

// FindRoster returns the users on an exam's roster, ordered by ID.
func (s *ExamStore) FindRoster(ctx context.Context, examID int64) ([]*marksmith.User, error) {
	var rows []userRow
	err := s.db.gorm.WithContext(ctx).Table("users").Select("users.*").
		Joins("JOIN exam_roster r ON r.user_id = users.id").Where("r.exam_id = ?", examID).
		Order("users.id").Find(&rows).Error
	if err != nil {
		return nil, translate(err, fmt.Sprintf("roster of exam %d", examID))
	}
	out := make([]*marksmith.User, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// OnRoster reports whether the user is on the exam's roster.
func (s *ExamStore) OnRoster(ctx context.Context, examID, userID int64) (bool, error) {
	var n int64
	err := s.db.gorm.WithContext(ctx).Model(&rosterRow{}).Where("exam_id = ? AND user_id = ?", examID, userID).Count(&n).Error
	if err != nil {
		return false, translate(err, fmt.Sprintf("roster of exam %d", examID))
	}
	return n > 0, nil
}

// SavePapers stores a batch of papers in one statement: COPY on Postgres,
// multi-row INSERTs in one transaction on SQLite. A paper already stored
// is ECONFLICT and stores none of the batch. Variants must be JSON
// objects; only their outer braces are checked.
func (s *ExamStore) SavePapers(ctx context.Context, papers []*marksmith.Paper) error {
	if len(papers) == 0 {
		return nil
	}
	what := fmt.Sprintf("papers of exam %d", papers[0].ExamID)
	for _, p := range papers {
		// A cheap shape check: validating tens of thousands of variants
		// the publisher just encoded would cost more than storing them.
		if v := bytes.TrimSpace(p.Variant); len(v) < 2 || v[0] != '{' || v[len(v)-1] != '}' {
			return marksmith.Errorf(marksmith.EINVALID, "paper of exam %d student %d question %d: variant is not a JSON object", p.ExamID, p.UserID, p.Position)
		}
	}
	if s.db.dialect == DialectPostgres {
		return translate(s.copyPapers(ctx, papers), what)
	}
	rows := make([]paperRow, len(papers))
	for i, p := range papers {
		rows[i] = paperRow{ExamID: p.ExamID, UserID: p.UserID, Position: p.Position, Ord: p.Order,
			TemplateID: p.TemplateID, Version: p.Version, Seed: int64(p.Seed), Variant: string(p.Variant)}
	}
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		return tx.CreateInBatches(rows, 200).Error
	})
	return translate(err, what)
}

// copyPapers stores papers with Postgres's COPY protocol.
func (s *ExamStore) copyPapers(ctx context.Context, papers []*marksmith.Paper) error {
	conn, err := s.db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy papers: driver connection is %T, not pgx", dc)
		}
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(papers) {
				return nil, nil
			}
			p := papers[i]
			i++
			// The JSON as bytes: pgx writes them as text without the copy a
			// string conversion makes (a few kilobytes a paper).
			return []any{p.ExamID, p.UserID, p.Position, p.Order, p.TemplateID, p.Version, int64(p.Seed), []byte(p.Variant)}, nil
		})
		_, err := sc.Conn().CopyFrom(ctx, pgx.Identifier{"papers"}, paperColumns, src)
		return err
	})
}

// MarkPublished moves a draft exam to published at at; ECONFLICT when it
// is not a draft, ENOTFOUND when there is none.
func (s *ExamStore) MarkPublished(ctx context.Context, examID int64, at time.Time) error {
	at = dbTime(at)
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&examRow{}).Where("id = ? AND status = ?", examID, string(marksmith.ExamDraft)).
			Updates(map[string]any{"status": string(marksmith.ExamPublished), "published_at": at, "updated_at": at})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			if _, err := examState(tx, examID); err != nil {
				return err
			}
			return marksmith.Errorf(marksmith.ECONFLICT, "exam %d is already published", examID)
		}
		return nil
	})
	return translate(err, fmt.Sprintf("exam %d", examID))
}

// DeletePapers removes every paper of an exam.
func (s *ExamStore) DeletePapers(ctx context.Context, examID int64) error {
	err := s.db.gorm.WithContext(ctx).Where("exam_id = ?", examID).Delete(&paperRow{}).Error
	return translate(err, fmt.Sprintf("papers of exam %d", examID))
}

// FindPapers returns a student's papers in the order the student sees them.
func (s *ExamStore) FindPapers(ctx context.Context, examID, userID int64) ([]*marksmith.Paper, error) {
	var rows []paperRow
	err := s.db.gorm.WithContext(ctx).Where("exam_id = ? AND user_id = ?", examID, userID).Order("ord, question").Find(&rows).Error
	if err != nil {
		return nil, translate(err, fmt.Sprintf("papers of exam %d student %d", examID, userID))
	}
	return papersToDomain(rows), nil
}

// FindExamPapers returns the papers of one question of an exam (every
// question when position is 0), ordered by student and position.
func (s *ExamStore) FindExamPapers(ctx context.Context, examID int64, position int) ([]*marksmith.Paper, error) {
	q := s.db.gorm.WithContext(ctx).Where("exam_id = ?", examID)
	if position > 0 {
		q = q.Where("question = ?", position)
	}
	var rows []paperRow
	if err := q.Order("user_id, question").Find(&rows).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("papers of exam %d", examID))
	}
	return papersToDomain(rows), nil
}

func papersToDomain(rows []paperRow) []*marksmith.Paper {
	out := make([]*marksmith.Paper, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out
}

// SetGradeVersion records the template version that grades the question
// at position; ENOTFOUND when the exam has no such question.
func (s *ExamStore) SetGradeVersion(ctx context.Context, examID int64, position, version int) error {
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		var r examRow
		if err := tx.Where("id = ?", examID).Take(&r).Error; err != nil {
			return err
		}
		e, err := r.toDomain()
		if err != nil {
			return err
		}
		found := false
		for i := range e.Questions {
			if e.Questions[i].Position == position {
				e.Questions[i].GradeVersion = version
				found = true
			}
		}
		if !found {
			return marksmith.Errorf(marksmith.ENOTFOUND, "exam %d has no question %d", examID, position)
		}
		b, err := json.Marshal(e.Questions)
		if err != nil {
			return err
		}
		return tx.Model(&examRow{}).Where("id = ?", examID).Update("questions", string(b)).Error
	})
	return translate(err, fmt.Sprintf("exam %d", examID))
}

// errNoRows reports sql.ErrNoRows and GORM's not-found alike.
func errNoRows(err error) bool {
	return errors.Is(err, sql.ErrNoRows) || errors.Is(err, gorm.ErrRecordNotFound)
}
