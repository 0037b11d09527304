package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// access says who may call a route: anyone (public), or an authenticated
// caller with one of roles.
type access struct {
	public bool
	roles  []marksmith.Role
	// claims: the route's service resolves the account itself (in the
	// statement it runs), so the middleware passes the token's claims
	// without loading the account.
	claims bool
	// pending: allowed while the account must still change its one-time
	// password.
	pending bool
}

// public is the access of a route anyone may call.
func public() access { return access{public: true} }

// requireRole is the access of a route that needs a valid access token
// whose role is one of roles.
func requireRole(roles ...marksmith.Role) access { return access{roles: roles} }

// claimsOnly marks a route whose service checks the account itself.
func (a access) claimsOnly() access { a.claims = true; return a }

// whilePending marks a route allowed before a one-time password is
// changed.
func (a access) whilePending() access { a.pending = true; return a }

// handlerFunc is a route's handler: it gets the caller's account, resolved
// once by the middleware (nil on public routes).
type handlerFunc func(c *fiber.Ctx, actor *marksmith.User) error

// route is one entry of the API surface.
type route struct {
	method  string
	path    string
	access  access
	handler handlerFunc
}

// routes is the whole surface of the API. Every route states its access;
// a test checks that the app serves exactly these and that the OpenAPI
// document describes each.
func (s *server) routes() []route {
	const (
		admin      = marksmith.RoleAdmin
		instructor = marksmith.RoleInstructor
		student    = marksmith.RoleStudent
	)
	anyone := requireRole(admin, instructor, student)
	staff := requireRole(admin, instructor)
	return []route{
		// Operations.
		{fiber.MethodGet, "/healthz", public(), s.handleHealthz()},
		{fiber.MethodGet, "/readyz", public(), s.handleReadyz()},
		{fiber.MethodGet, "/metrics", public(), s.handleMetrics()},
		{fiber.MethodGet, "/openapi.json", public(), s.handleOpenAPI()},

		// Authentication.
		{fiber.MethodPost, "/api/v1/auth/login", public(), s.handleLogin()},
		{fiber.MethodPost, "/api/v1/auth/refresh", public(), s.handleRefresh()},
		{fiber.MethodPost, "/api/v1/auth/logout", public(), s.handleLogout()},
		{fiber.MethodPost, "/api/v1/auth/logout-all", anyone.whilePending(), s.handleLogoutAll()},

		// Users.
		{fiber.MethodGet, "/api/v1/users/me", anyone.whilePending(), s.handleMe()},
		{fiber.MethodPut, "/api/v1/users/me/password", anyone.whilePending(), s.handleChangePassword()},
		{fiber.MethodGet, "/api/v1/users", staff, s.handleListUsers()},
		{fiber.MethodPost, "/api/v1/users", staff, s.handleCreateUser()},
		{fiber.MethodPost, "/api/v1/users/import", staff, s.handleImportUsers()},
		{fiber.MethodPatch, "/api/v1/users/:id", requireRole(admin), s.handleUpdateUser()},
		{fiber.MethodPost, "/api/v1/users/:id/password-reset", requireRole(admin), s.handleResetPassword()},

		// The template bank.
		{fiber.MethodGet, "/api/v1/templates", staff, s.handleListTemplates()},
		{fiber.MethodPost, "/api/v1/templates", staff, s.handleUploadTemplate()},
		{fiber.MethodGet, "/api/v1/templates/:id", staff, s.handleGetTemplate()},
		{fiber.MethodGet, "/api/v1/templates/:id/preview", staff, s.handlePreviewTemplate()},
		{fiber.MethodGet, "/api/v1/templates/:id/export/moodle", staff, s.handleExportTemplateMoodle()},

		// Exams: instructors assemble and publish (admins see every exam;
		// an instructor only their own, which the exams service checks).
		{fiber.MethodPost, "/api/v1/exams", staff, s.handleCreateExam()},
		{fiber.MethodGet, "/api/v1/exams", staff, s.handleListExams()},
		{fiber.MethodGet, "/api/v1/exams/:id", staff, s.handleGetExam()},
		{fiber.MethodPut, "/api/v1/exams/:id", staff, s.handleUpdateExam()},
		{fiber.MethodDelete, "/api/v1/exams/:id", staff, s.handleDeleteExam()},
		{fiber.MethodPut, "/api/v1/exams/:id/roster", staff, s.handleSetRoster()},
		{fiber.MethodGet, "/api/v1/exams/:id/roster", staff, s.handleGetRoster()},
		{fiber.MethodPost, "/api/v1/exams/:id/publish", staff, s.handlePublish()},
		{fiber.MethodPost, "/api/v1/exams/:id/unpublish", staff, s.handleUnpublish()},

		// Exam-day controls.
		{fiber.MethodPost, "/api/v1/exams/:id/students", staff, s.handleAddStudents()},
		{fiber.MethodDelete, "/api/v1/exams/:id/students/:user", staff, s.handleRemoveStudent()},
		{fiber.MethodPut, "/api/v1/exams/:id/students/:user/accommodation", staff, s.handleAccommodation()},
		{fiber.MethodPost, "/api/v1/exams/:id/close", staff, s.handleCloseAttempts()},
		{fiber.MethodPost, "/api/v1/attempts/:id/reopen", staff, s.handleReopen()},
		{fiber.MethodGet, "/api/v1/exams/:id/monitor", staff, s.handleMonitor()},

		// Taking an exam: students only (an admin does not sit exams). The
		// service lets a student reach only their own attempt.
		{fiber.MethodGet, "/api/v1/me/exams", requireRole(student), s.handleMyExams()},
		{fiber.MethodPost, "/api/v1/exams/:id/attempts", requireRole(student), s.handleStartAttempt()},
		{fiber.MethodGet, "/api/v1/attempts/:id", anyone, s.handleGetAttempt()},
		{fiber.MethodPut, "/api/v1/attempts/:id/answers/:question/:part", requireRole(student).claimsOnly(), s.handleSaveAnswer()},
		{fiber.MethodPost, "/api/v1/attempts/:id/submit", requireRole(student), s.handleSubmit()},

		// Review, regrade and results: the exam's instructor, or an admin.
		{fiber.MethodGet, "/api/v1/exams/:id/review", staff, s.handleReviewQueue()},
		{fiber.MethodPost, "/api/v1/exams/:id/review", staff, s.handleReview()},
		{fiber.MethodPost, "/api/v1/exams/:id/review/accept", staff, s.handleAcceptSuggested()},
		{fiber.MethodPost, "/api/v1/exams/:id/regrade", staff, s.handleRegrade()},
		{fiber.MethodPost, "/api/v1/exams/:id/release", staff, s.handleRelease()},
		{fiber.MethodGet, "/api/v1/exams/:id/gradebook", staff, s.handleGradebook()},
		{fiber.MethodGet, "/api/v1/exams/:id/stats", staff, s.handleStats()},
		{fiber.MethodGet, "/api/v1/exams/:id/audit", staff, s.handleAudit()},
		{fiber.MethodGet, "/api/v1/exams/:id/export/moodle", staff, s.handleExportExamMoodle()},

		// Printed papers and keys: the exam's instructor, or an admin.
		{fiber.MethodGet, "/api/v1/exams/:id/papers", staff, s.handlePapers()},
		// A class too large for one request, printed as a job.
		{fiber.MethodPost, "/api/v1/exams/:id/papers/jobs", staff, s.handleStartPrintJob()},
		{fiber.MethodGet, "/api/v1/exams/:id/papers/jobs/:job", staff, s.handleGetPrintJob()},
		{fiber.MethodGet, "/api/v1/exams/:id/papers/jobs/:job/file", staff, s.handlePrintJobFile()},
		// Bulk grading: a cohort's answers uploaded at once, graded as a job.
		{fiber.MethodPost, "/api/v1/exams/:id/submissions", staff, s.handleUploadSubmissions()},
		{fiber.MethodGet, "/api/v1/exams/:id/submissions/:job", staff, s.handleGetSubmissionJob()},
		{fiber.MethodGet, "/api/v1/exams/:id/submissions/:job/results.csv", staff, s.handleSubmissionResults()},
	}
}
