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
}

// public is the access of a route anyone may call.
func public() access { return access{public: true} }

// requireRole is the access of a route that needs a valid access token
// whose role is one of roles.
func requireRole(roles ...marksmith.Role) access { return access{roles: roles} }

// route is one entry of the API surface.
type route struct {
	method  string
	path    string
	access  access
	handler fiber.Handler
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

		// Users.
		{fiber.MethodGet, "/api/v1/users/me", requireRole(admin, instructor, student), s.handleMe()},
		{fiber.MethodGet, "/api/v1/users", requireRole(admin, instructor), s.handleListUsers()},
		{fiber.MethodPost, "/api/v1/users", requireRole(admin, instructor), s.handleCreateUser()},
		{fiber.MethodPost, "/api/v1/users/import", requireRole(admin, instructor), s.handleImportUsers()},

		// The template bank.
		{fiber.MethodGet, "/api/v1/templates", requireRole(admin, instructor), s.handleListTemplates()},
		{fiber.MethodPost, "/api/v1/templates", requireRole(admin, instructor), s.handleUploadTemplate()},
		{fiber.MethodGet, "/api/v1/templates/:id", requireRole(admin, instructor), s.handleGetTemplate()},
		{fiber.MethodGet, "/api/v1/templates/:id/preview", requireRole(admin, instructor), s.handlePreviewTemplate()},

		// Exams: instructors assemble and publish (admins see every exam;
		// an instructor only their own, which the exams service checks).
		{fiber.MethodPost, "/api/v1/exams", requireRole(admin, instructor), s.handleCreateExam()},
		{fiber.MethodGet, "/api/v1/exams", requireRole(admin, instructor), s.handleListExams()},
		{fiber.MethodGet, "/api/v1/exams/:id", requireRole(admin, instructor), s.handleGetExam()},
		{fiber.MethodPut, "/api/v1/exams/:id", requireRole(admin, instructor), s.handleUpdateExam()},
		{fiber.MethodDelete, "/api/v1/exams/:id", requireRole(admin, instructor), s.handleDeleteExam()},
		{fiber.MethodPut, "/api/v1/exams/:id/roster", requireRole(admin, instructor), s.handleSetRoster()},
		{fiber.MethodGet, "/api/v1/exams/:id/roster", requireRole(admin, instructor), s.handleGetRoster()},
		{fiber.MethodPost, "/api/v1/exams/:id/publish", requireRole(admin, instructor), s.handlePublish()},

		// Taking an exam: students only (an admin does not sit exams). The
		// service lets a student reach only their own attempt.
		{fiber.MethodGet, "/api/v1/me/exams", requireRole(student), s.handleMyExams()},
		{fiber.MethodPost, "/api/v1/exams/:id/attempts", requireRole(student), s.handleStartAttempt()},
		{fiber.MethodGet, "/api/v1/attempts/:id", requireRole(admin, instructor, student), s.handleGetAttempt()},
		{fiber.MethodPut, "/api/v1/attempts/:id/answers/:question/:part", requireRole(student), s.handleSaveAnswer()},
		{fiber.MethodPost, "/api/v1/attempts/:id/submit", requireRole(student), s.handleSubmit()},

		// Review, regrade and results: the exam's instructor, or an admin.
		{fiber.MethodGet, "/api/v1/exams/:id/review", requireRole(admin, instructor), s.handleReviewQueue()},
		{fiber.MethodPost, "/api/v1/exams/:id/review", requireRole(admin, instructor), s.handleOverride()},
		{fiber.MethodPost, "/api/v1/exams/:id/regrade", requireRole(admin, instructor), s.handleRegrade()},
		{fiber.MethodPost, "/api/v1/exams/:id/release", requireRole(admin, instructor), s.handleRelease()},
		{fiber.MethodGet, "/api/v1/exams/:id/gradebook", requireRole(admin, instructor), s.handleGradebook()},
		{fiber.MethodGet, "/api/v1/exams/:id/stats", requireRole(admin, instructor), s.handleStats()},
		{fiber.MethodGet, "/api/v1/exams/:id/audit", requireRole(admin, instructor), s.handleAudit()},
	}
}
