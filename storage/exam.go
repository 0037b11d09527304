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
	"gorm.io/gorm/clause"

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
	Delivery             string
	Status               string
	Released             bool
	CreatedBy            int64
	CreatedAt            time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt            time.Time `gorm:"autoUpdateTime:false"`
	PublishedAt          *time.Time
	ReleasedAt           *time.Time
	// Version is the database's: a trigger raises it on every update.
	Version int64 `gorm:"->"`
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
		Seed:             marksmith.Seed(uint64(r.Seed)),
		Questions:        qs,
		OpensAt:          r.OpensAt.UTC(),
		ClosesAt:         r.ClosesAt.UTC(),
		TimeLimitSeconds: r.TimeLimitSeconds,
		LateGraceSeconds: r.LateGraceSeconds,
		ShuffleQuestions: r.ShuffleQuestions,
		ShuffleOptions:   r.ShuffleOptions,
		Feedback:         marksmith.FeedbackPolicy{AfterSubmit: r.FeedbackAfterSubmit, AfterRelease: r.FeedbackAfterRelease},
		Delivery:         r.Delivery,
		Status:           marksmith.ExamStatus(r.Status),
		Released:         r.Released,
		CreatedBy:        r.CreatedBy,
		CreatedAt:        r.CreatedAt.UTC(),
		UpdatedAt:        r.UpdatedAt.UTC(),
		PublishedAt:      utcPtr(r.PublishedAt),
		ReleasedAt:       utcPtr(r.ReleasedAt),
		Version:          r.Version,
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
		Delivery:             delivery(e.Delivery),
		Status:               string(e.Status),
		Released:             e.Released,
		CreatedBy:            e.CreatedBy,
		CreatedAt:            dbTime(e.CreatedAt),
		UpdatedAt:            dbTime(e.UpdatedAt),
		PublishedAt:          dbTimePtr(e.PublishedAt),
		ReleasedAt:           dbTimePtr(e.ReleasedAt),
	}, nil
}

// delivery is an exam's delivery mode, online when unset.
func delivery(d string) string {
	if d == "" {
		return marksmith.DeliveryOnline
	}
	return d
}

// rosterRow is a row of exam_roster.
type rosterRow struct {
	ExamID              int64 `gorm:"primaryKey;autoIncrement:false"`
	UserID              int64 `gorm:"primaryKey;autoIncrement:false"`
	ExtraSeconds        int
	ClosesAt            *time.Time
	AccommodationReason string
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
		TemplateID: r.TemplateID, Version: r.Version, Seed: marksmith.Seed(uint64(r.Seed)), Variant: json.RawMessage(r.Variant)}
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
	r.Version = 1 // the column's default
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
			"delivery": r.Delivery, "updated_at": r.UpdatedAt,
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

// rosterEntryRow is a roster row joined with its user (GORM scans only
// exported fields, so the user's columns are spelled out).
type rosterEntryRow struct {
	ID                  int64
	Email               string
	Name                string
	Role                string
	StudentKey          string
	PasswordHash        string
	Disabled            bool
	MustChangePassword  bool
	CreatedAt           time.Time
	UpdatedAt           time.Time
	ExtraSeconds        int
	RosterClosesAt      *time.Time
	AccommodationReason string
	ExamVersion         int64
}

func (r *rosterEntryRow) toDomain() *marksmith.RosterEntry {
	u := userRow{ID: r.ID, Email: r.Email, Name: r.Name, Role: r.Role, StudentKey: r.StudentKey, PasswordHash: r.PasswordHash,
		Disabled: r.Disabled, MustChange: r.MustChangePassword, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	return &marksmith.RosterEntry{User: u.toDomain(), ExtraSeconds: r.ExtraSeconds,
		ClosesAt: utcPtr(r.RosterClosesAt), AccommodationReason: r.AccommodationReason, ExamVersion: r.ExamVersion}
}

// rosterQuery selects roster entries with their users.
func rosterQuery(tx *gorm.DB, examID int64) *gorm.DB {
	return tx.Table("users").
		Select("users.*, r.extra_seconds, r.closes_at AS roster_closes_at, r.accommodation_reason, e.version AS exam_version").
		Joins("JOIN exam_roster r ON r.user_id = users.id").Joins("JOIN exams e ON e.id = r.exam_id").Where("r.exam_id = ?", examID)
}

// FindRoster returns an exam's roster, ordered by user ID.
func (s *ExamStore) FindRoster(ctx context.Context, examID int64) ([]*marksmith.RosterEntry, error) {
	var rows []rosterEntryRow
	if err := rosterQuery(s.db.gorm.WithContext(ctx), examID).Order("users.id").Find(&rows).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("roster of exam %d", examID))
	}
	out := make([]*marksmith.RosterEntry, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// FindRosterEntry returns a student's entry on an exam's roster, or
// ENOTFOUND.
func (s *ExamStore) FindRosterEntry(ctx context.Context, examID, userID int64) (*marksmith.RosterEntry, error) {
	var r rosterEntryRow
	err := rosterQuery(s.db.gorm.WithContext(ctx), examID).Where("users.id = ?", userID).Take(&r).Error
	if err != nil {
		return nil, translate(err, fmt.Sprintf("student %d on the roster of exam %d", userID, examID))
	}
	return r.toDomain(), nil
}

// AddToRoster adds students to an exam's roster, whatever its status;
// students already on it keep their entry. EINVALID when a user does not
// exist, ENOTFOUND when the exam does not.
func (s *ExamStore) AddToRoster(ctx context.Context, examID int64, userIDs []int64) error {
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		if _, err := examState(tx, examID); err != nil {
			return err
		}
		rows := make([]rosterRow, 0, len(userIDs))
		seen := make(map[int64]bool, len(userIDs))
		for _, id := range userIDs {
			if !seen[id] {
				seen[id] = true
				rows = append(rows, rosterRow{ExamID: examID, UserID: id})
			}
		}
		if len(rows) == 0 {
			return nil
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 1000).Error
	})
	return translate(err, fmt.Sprintf("roster of exam %d", examID))
}

// RemoveFromRoster removes a student from an exam's roster with their
// papers; ENOTFOUND when they are not on it.
func (s *ExamStore) RemoveFromRoster(ctx context.Context, examID, userID int64) error {
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Where("exam_id = ? AND user_id = ?", examID, userID).Delete(&rosterRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return marksmith.Errorf(marksmith.ENOTFOUND, "student %d is not on the roster of exam %d", userID, examID)
		}
		return tx.Where("exam_id = ? AND user_id = ?", examID, userID).Delete(&paperRow{}).Error
	})
	return translate(err, fmt.Sprintf("roster of exam %d", examID))
}

// SetAccommodation records a student's accommodation; ENOTFOUND when the
// student is not on the roster.
func (s *ExamStore) SetAccommodation(ctx context.Context, examID, userID int64, a marksmith.Accommodation) error {
	res := s.db.gorm.WithContext(ctx).Model(&rosterRow{}).Where("exam_id = ? AND user_id = ?", examID, userID).
		Updates(map[string]any{"extra_seconds": a.ExtraSeconds, "closes_at": dbTimePtr(a.ClosesAt), "accommodation_reason": a.Reason})
	if res.Error != nil {
		return translate(res.Error, fmt.Sprintf("accommodation of student %d at exam %d", userID, examID))
	}
	if res.RowsAffected == 0 {
		return marksmith.Errorf(marksmith.ENOTFOUND, "student %d is not on the roster of exam %d", userID, examID)
	}
	return nil
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
	conn := s.db.conn // the transaction's connection, inside WithTx
	if conn == nil {
		c, err := s.db.sql.Conn(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		conn = c
	}
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

// DeletePapers removes the papers of an exam, or of one of its students
// (userID > 0).
func (s *ExamStore) DeletePapers(ctx context.Context, examID, userID int64) error {
	q := s.db.gorm.WithContext(ctx).Where("exam_id = ?", examID)
	if userID > 0 {
		q = q.Where("user_id = ?", userID)
	}
	return translate(q.Delete(&paperRow{}).Error, fmt.Sprintf("papers of exam %d", examID))
}

// EndExam closes a published exam's window at at, when it closes later,
// and cuts every later close an accommodation gave to at, in one
// transaction.
func (s *ExamStore) EndExam(ctx context.Context, examID int64, at time.Time) error {
	at = dbTime(at)
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		if _, err := examState(tx, examID); err != nil {
			return err
		}
		if err := tx.Model(&examRow{}).Where("id = ? AND closes_at > ?", examID, at).
			Updates(map[string]any{"closes_at": at, "updated_at": at}).Error; err != nil {
			return err
		}
		return tx.Model(&rosterRow{}).Where("exam_id = ? AND closes_at > ?", examID, at).Update("closes_at", at).Error
	})
	return translate(err, fmt.Sprintf("exam %d", examID))
}

// MarkDraft moves a published exam back to draft and deletes its papers,
// in one transaction; ECONFLICT when it is not published or a student has
// started it, ENOTFOUND when there is none.
func (s *ExamStore) MarkDraft(ctx context.Context, examID int64, at time.Time) error {
	at = dbTime(at)
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		var started int64
		if err := tx.Model(&attemptRow{}).Where("exam_id = ?", examID).Count(&started).Error; err != nil {
			return err
		}
		if started > 0 {
			return marksmith.Errorf(marksmith.ECONFLICT, "exam %d has %d attempt(s): it can no longer be unpublished", examID, started)
		}
		res := tx.Model(&examRow{}).Where("id = ? AND status = ?", examID, string(marksmith.ExamPublished)).
			Updates(map[string]any{"status": string(marksmith.ExamDraft), "published_at": nil, "released": false,
				"released_at": nil, "updated_at": at})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			if _, err := examState(tx, examID); err != nil {
				return err
			}
			return marksmith.Errorf(marksmith.ECONFLICT, "exam %d is not published", examID)
		}
		return tx.Where("exam_id = ?", examID).Delete(&paperRow{}).Error
	})
	return translate(err, fmt.Sprintf("exam %d", examID))
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

// FindAttemptPaper returns the paper of one question of an attempt's
// student, when the attempt belongs to userID; ENOTFOUND otherwise.
func (s *ExamStore) FindAttemptPaper(ctx context.Context, attemptID, userID int64, position int) (*marksmith.Paper, error) {
	var r paperRow
	err := s.db.gorm.WithContext(ctx).Table("papers").Select("papers.*").
		Joins("JOIN attempts a ON a.exam_id = papers.exam_id AND a.user_id = papers.user_id").
		Where("a.id = ? AND a.user_id = ? AND papers.question = ?", attemptID, userID, position).Take(&r).Error
	if err != nil {
		return nil, translate(err, fmt.Sprintf("question %d of attempt %d", position, attemptID))
	}
	return r.toDomain(), nil
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
