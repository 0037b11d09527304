package marksmith

import (
	"context"
	"io"
	"strings"
	"time"
)

// The use-case services. Each is implemented in a package of its own
// (sessions, users, templates, exams); the JSON API, the web pages and the
// command line call only these, so every rule is written once. Each method
// takes the actor (the signed-in user, resolved once per request) and
// checks what the actor may do; each method that writes owns its
// transaction.

// AuthService signs users in and out and resolves who a request is from.
type AuthService interface {
	// Login checks an email and password and starts a session. Attempts
	// are limited per client address and failures per account, across
	// every instance of the server (ERATELIMIT with RetryAfter).
	Login(ctx context.Context, in LoginInput) (*Session, error)
	// Refresh exchanges a refresh token for a new session (rotation); a
	// token used twice revokes its whole family.
	Refresh(ctx context.Context, refreshToken string) (*Session, error)
	// Logout revokes the refresh token's family; an unknown token is not
	// an error.
	Logout(ctx context.Context, refreshToken string) error
	// LogoutAll revokes every refresh token of the actor: sign out
	// everywhere.
	LogoutAll(ctx context.Context, actor *User) error
	// Verify checks an access token's signature, algorithm, issuer,
	// audience and times, without touching storage.
	Verify(accessToken string) (Principal, error)
	// Actor loads the user of a verified token: EUNAUTHORIZED when the
	// account is gone or its role changed, EFORBIDDEN when disabled.
	Actor(ctx context.Context, p Principal) (*User, error)
}

// Principal is who a verified access token says the caller is.
type Principal struct {
	UserID int64
	Role   Role
}

// LoginInput is a login attempt. Client is the caller's address, for the
// per-address limit.
type LoginInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Client   string `json:"-"`
}

// Session is what a login or a refresh returns: a short-lived access token
// and a refresh token, shown once (only its hash is stored).
type Session struct {
	AccessToken      string        `json:"access_token"`
	TokenType        string        `json:"token_type"`
	ExpiresIn        int           `json:"expires_in"` // seconds
	AccessTTL        time.Duration `json:"-"`
	RefreshToken     string        `json:"refresh_token"`
	RefreshExpiresAt time.Time     `json:"refresh_expires_at"`
	User             *User         `json:"user"`
	// MustChangePassword is set while the account still has the one-time
	// password it was given: every route but changing it is refused.
	MustChangePassword bool `json:"must_change_password,omitempty"`
}

// UserService manages accounts.
type UserService interface {
	Me(ctx context.Context, actor *User) (*User, error)
	FindUsers(ctx context.Context, actor *User, filter UserFilter) ([]*User, int, error)
	// CreateUser creates one account. Admins create any role, instructors
	// only students. Without a password a one-time password is generated
	// and returned once; the account must change it at first login.
	CreateUser(ctx context.Context, actor *User, in NewUser) (*NewAccount, error)
	// ImportUsers creates accounts from a roster (CSV with a header row, or
	// a JSON array), row by row: a bad row is reported with its line and
	// fields and never stops the good ones.
	ImportUsers(ctx context.Context, actor *User, in Roster) (*ImportReport, error)
	// ChangePassword changes the actor's own password, given the current
	// one, and signs out every other session.
	ChangePassword(ctx context.Context, actor *User, in PasswordChange) error
	// ResetPassword gives an account a new one-time password (admins).
	ResetPassword(ctx context.Context, actor *User, userID int64) (*NewAccount, error)
	// SetDisabled disables or enables an account (admins); a disabled
	// account is refused on every route and its sessions are revoked.
	SetDisabled(ctx context.Context, actor *User, userID int64, disabled bool) (*User, error)
}

// NewUser is an account to create.
type NewUser struct {
	Email      string `json:"email"`
	Name       string `json:"name"`
	Role       Role   `json:"role,omitempty"` // default student
	StudentKey string `json:"student_key,omitempty"`
	Password   string `json:"password,omitempty"` // empty: a one-time password is generated
}

// NewAccount is a created account and, when one was generated, its
// one-time password, shown once.
type NewAccount struct {
	User     *User  `json:"user"`
	Password string `json:"password,omitempty"`
}

// Roster is a roster to import: Format "csv" or "json", and its body.
type Roster struct {
	Format string
	Body   io.Reader
}

// ImportReport is the outcome of a roster import, row by row.
type ImportReport struct {
	Created  int         `json:"created"`
	Existing int         `json:"existing"`
	Failed   int         `json:"failed"`
	Rows     []ImportRow `json:"rows"`
}

// Import row outcomes.
const (
	ImportCreated = "created"
	ImportExists  = "exists"
	ImportError   = "error"
)

// ImportRow is the outcome of one roster row. Line is the CSV line (the
// header is line 1) or, for JSON, the 1-based index in the array.
type ImportRow struct {
	Line     int          `json:"line"`
	Email    string       `json:"email,omitempty"`
	Status   string       `json:"status"`
	UserID   int64        `json:"user_id,omitempty"`
	Password string       `json:"password,omitempty"` // generated one-time password, shown once
	Errors   []FieldError `json:"errors,omitempty"`
}

// PasswordChange is a user's change of their own password.
type PasswordChange struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

// TemplateService manages the question bank.
type TemplateService interface {
	FindTemplates(ctx context.Context, actor *User, filter TemplateFilter) ([]*TemplateVersion, int, error)
	// FindTemplate returns one version (0: the latest) with its source,
	// and every version of the template.
	FindTemplate(ctx context.Context, actor *User, id string, version int) (*TemplateVersion, []*TemplateVersion, error)
	// UploadTemplate validates a template and stores it as a new version.
	// Only the template's owner (who uploaded its first version) or an
	// admin may add a version; the built-in bank is the admins'. An upload
	// equal to the latest version stores nothing and reports unchanged.
	UploadTemplate(ctx context.Context, actor *User, in TemplateUpload) (tv *TemplateVersion, unchanged bool, err error)
	// PreviewTemplate draws one variant of a version with its key: seed 0
	// is the canonical variant, the printed paper.
	PreviewTemplate(ctx context.Context, actor *User, id string, version int, seed Seed) (*Question, error)
	// ExportMoodle writes a version's Count variants (drawn as a cohort
	// from Seed) as Moodle XML to w.
	ExportMoodle(ctx context.Context, actor *User, id string, version int, opts MoodleExport, w io.Writer) error
}

// MoodleExport says what a Moodle XML export holds: Count variants of each
// question, drawn from Seed, in categories below Category.
type MoodleExport struct {
	Count    int
	Seed     Seed
	Category string
}

// MaxExportCount bounds the variants one Moodle export holds per question.
const MaxExportCount = 500

// Check validates the options, trimming the category.
func (o *MoodleExport) Check() error {
	var p Problems
	if o.Count < 1 || o.Count > MaxExportCount {
		p.Add("count", "must be a whole number from 1 to %d", MaxExportCount)
	}
	o.Category = strings.TrimSpace(o.Category)
	p.CheckText("category", o.Category, 200)
	return p.Err("export")
}

// TemplateUpload is a template's source: Format "yaml" or "json".
type TemplateUpload struct {
	Format string
	Source []byte
}

// ExamService runs exams: assembly, publishing, exam-day controls,
// attempts, review, regrade, release and results.
type ExamService interface {
	CreateExam(ctx context.Context, actor *User, in ExamInput) (*Exam, error)
	FindExam(ctx context.Context, actor *User, id int64) (*Exam, error)
	FindExams(ctx context.Context, actor *User, offset, limit int) ([]*Exam, int, error)
	UpdateExam(ctx context.Context, actor *User, id int64, in ExamInput) (*Exam, error)
	DeleteExam(ctx context.Context, actor *User, id int64) error
	SetRoster(ctx context.Context, actor *User, id int64, students []string) (*RosterResult, error)
	FindRoster(ctx context.Context, actor *User, id int64) ([]*RosterEntry, error)
	Publish(ctx context.Context, actor *User, id int64) (*PublishReport, error)
	Unpublish(ctx context.Context, actor *User, id int64) (*Exam, error)

	// Exam-day controls, each audited.
	AddStudents(ctx context.Context, actor *User, id int64, students []string) (*RosterResult, error)
	RemoveStudent(ctx context.Context, actor *User, id, userID int64) error
	SetAccommodation(ctx context.Context, actor *User, id, userID int64, in Accommodation) (*RosterEntry, error)
	CloseAttempts(ctx context.Context, actor *User, id int64, in CloseInput) (*CloseReport, error)
	ReopenAttempt(ctx context.Context, actor *User, attemptID int64, in ReopenInput) (*Attempt, error)
	Release(ctx context.Context, actor *User, id int64, in ReleaseInput) (*ReleaseReport, error)
	Monitor(ctx context.Context, actor *User, id int64) (*Monitor, error)

	// Sitting an exam.
	MyExams(ctx context.Context, actor *User) ([]*StudentExam, error)
	StartAttempt(ctx context.Context, actor *User, examID int64) (*AttemptView, error)
	GetAttempt(ctx context.Context, actor *User, attemptID int64) (*AttemptView, error)
	SaveAnswer(ctx context.Context, actor *User, in SaveInput) (*SaveResult, error)
	Submit(ctx context.Context, actor *User, attemptID int64) (*AttemptView, error)

	// Review, regrade and results.
	ReviewQueue(ctx context.Context, actor *User, id int64) ([]ReviewGroup, error)
	Review(ctx context.Context, actor *User, id int64, in ReviewDecision) (*ReviewResult, error)
	AcceptSuggested(ctx context.Context, actor *User, id int64, in AcceptInput) (*ReviewResult, error)
	Regrade(ctx context.Context, actor *User, id int64, in RegradeInput) (*RegradeReport, error)
	Gradebook(ctx context.Context, actor *User, id int64) (*Gradebook, error)
	Stats(ctx context.Context, actor *User, id int64) (*Stats, error)
	Audit(ctx context.Context, actor *User, id int64) ([]*AuditEntry, error)
	// ExportMoodle writes the exam's questions as Moodle XML to w: a
	// published exam's papers as issued (at most opts.Count of each
	// question), a draft's Count variants drawn from its seed.
	ExportMoodle(ctx context.Context, actor *User, id int64, opts MoodleExport, w io.Writer) error
	// Papers returns the stored papers of a published exam (delivery paper
	// or both; keys of any published exam) for printing, each student's
	// questions in their order; the exam's instructor or an admin only.
	Papers(ctx context.Context, actor *User, id int64, q PaperQuery) (*ExamPapers, error)

	// Bulk grading. UploadSubmissions reads the upload's header, starts a
	// job that grades its rows against each student's stored paper, and
	// returns the job; a header that cannot be read is EUNPROCESSABLE with
	// every problem, an upload over the limit ETOOLARGE.
	UploadSubmissions(ctx context.Context, actor *User, examID int64, in SubmissionUpload) (*SubmissionJob, error)
	FindSubmissionJob(ctx context.Context, actor *User, examID, jobID int64) (*SubmissionJob, error)
	// SubmissionResults writes a job's results file (CSV) to w.
	SubmissionResults(ctx context.Context, actor *User, examID, jobID int64, w io.Writer) error

	// Print jobs. StartPrintJob queues a print of a published exam's
	// papers (or keys), checked as Papers checks a request, and returns
	// the job: the same job when one for the same input is queued or
	// running already; EUNAVAILABLE (with a time to retry) when the queue
	// is full or this server cannot print.
	StartPrintJob(ctx context.Context, actor *User, examID int64, in PrintJobInput) (*PrintJob, error)
	FindPrintJob(ctx context.Context, actor *User, examID, jobID int64) (*PrintJob, error)
	// OpenPrintJobFile returns a done job and its file, read with ctx;
	// ECONFLICT while the job is queued or running, or when it failed.
	OpenPrintJobFile(ctx context.Context, actor *User, examID, jobID int64) (*PrintJob, io.ReadCloser, error)

	// CloseOverdue closes and grades every open attempt past its deadline
	// and grace. It is the server's own sweep, not an actor's; with several
	// instances only one sweeps at a time.
	CloseOverdue(ctx context.Context) (int, error)
}
