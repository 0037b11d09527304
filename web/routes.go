package web

import (
	"fmt"
	"runtime/debug"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// access says who may open a route.
type access int

const (
	// anyone, signed in or not.
	public access = iota
	// signed in, even while the password must still be changed.
	account
	// signed in with a password of one's own, any role.
	signedIn
	// students.
	students
	// instructors and admins.
	staff
	// admins.
	admins
)

// route is one entry of the pages' surface.
type route struct {
	method  string
	path    string
	access  access
	json    bool // answers JSON (the exam page's scripts), errors included
	handler fiber.Handler
}

// routes is the whole surface of the pages. Every route states who may
// open it; the services then check the object (an instructor's own exam,
// a student's own attempt), and anything the caller may not see is 404.
// Every POST and PUT needs the CSRF token.
func (w *Web) routes() []route {
	return []route{
		{fiber.MethodGet, "/static/:version/*", public, false, w.handleStatic()},
		{fiber.MethodGet, "/", public, false, w.handleHome()},

		// Signing in and out.
		{fiber.MethodGet, "/login", public, false, w.handleLoginForm()},
		{fiber.MethodPost, "/login", public, false, w.handleLogin()},
		{fiber.MethodPost, "/logout", account, false, w.handleLogout()},
		{fiber.MethodPost, "/logout/all", account, false, w.handleLogoutAll()},
		{fiber.MethodGet, "/password", account, false, w.handlePasswordForm()},
		{fiber.MethodPost, "/password", account, false, w.handlePassword()},
		{fiber.MethodGet, "/session/csrf", account, true, w.handleCSRFToken()},

		// Students: their exams, sitting one, their results.
		{fiber.MethodGet, "/exams", students, false, w.handleMyExams()},
		{fiber.MethodGet, "/exams/:id", students, false, w.handleMyExam()},
		{fiber.MethodPost, "/exams/:id/start", students, false, w.handleStart()},
		{fiber.MethodGet, "/attempts/:id", signedIn, false, w.handleAttempt()},
		{fiber.MethodPut, "/attempts/:id/answers/:question/:part", students, true, w.handleSave()},
		{fiber.MethodGet, "/attempts/:id/clock", students, true, w.handleClock()},
		{fiber.MethodPost, "/attempts/:id/submit", students, false, w.handleSubmit()},

		// Instructors: the bank.
		{fiber.MethodGet, "/instructor", staff, false, w.handleInstructorHome()},
		{fiber.MethodGet, "/instructor/bank", staff, false, w.handleBank()},
		{fiber.MethodGet, "/instructor/bank/template", staff, false, w.handleTemplate()},
		{fiber.MethodGet, "/instructor/bank/template/moodle.xml", staff, false, w.handleTemplateMoodle()},
		{fiber.MethodGet, "/instructor/bank/upload", staff, false, w.handleUploadForm()},
		{fiber.MethodPost, "/instructor/bank/upload", staff, false, w.handleUpload()},

		// Instructors: exams, from assembly to publishing.
		{fiber.MethodGet, "/instructor/exams", staff, false, w.handleExams()},
		{fiber.MethodGet, "/instructor/exams/new", staff, false, w.handleNewExam()},
		{fiber.MethodPost, "/instructor/exams", staff, false, w.handleCreateExam()},
		{fiber.MethodGet, "/instructor/exams/:id", staff, false, w.handleExam()},
		{fiber.MethodGet, "/instructor/exams/:id/edit", staff, false, w.handleEditExam()},
		{fiber.MethodPost, "/instructor/exams/:id/edit", staff, false, w.handleUpdateExam()},
		{fiber.MethodPost, "/instructor/exams/:id/delete", staff, false, w.handleDeleteExam()},
		{fiber.MethodPost, "/instructor/exams/:id/roster", staff, false, w.handleSetRoster()},
		{fiber.MethodPost, "/instructor/exams/:id/roster/import", staff, false, w.handleImportRoster()},
		{fiber.MethodPost, "/instructor/exams/:id/publish", staff, false, w.handlePublish()},
		{fiber.MethodPost, "/instructor/exams/:id/unpublish", staff, false, w.handleUnpublish()},

		// Instructors: exam-day controls and the live monitor.
		{fiber.MethodPost, "/instructor/exams/:id/students", staff, false, w.handleAddStudents()},
		{fiber.MethodPost, "/instructor/exams/:id/students/:user/remove", staff, false, w.handleRemoveStudent()},
		{fiber.MethodPost, "/instructor/exams/:id/students/:user/time", staff, false, w.handleAccommodation()},
		{fiber.MethodPost, "/instructor/exams/:id/close", staff, false, w.handleClose()},
		{fiber.MethodPost, "/instructor/exams/:id/attempts/:attempt/reopen", staff, false, w.handleReopen()},
		{fiber.MethodPost, "/instructor/exams/:id/release", staff, false, w.handleRelease()},
		{fiber.MethodGet, "/instructor/exams/:id/monitor", staff, false, w.handleMonitor()},
		{fiber.MethodGet, "/instructor/exams/:id/monitor/rows", staff, false, w.handleMonitorRows()},

		// Instructors: review and results.
		{fiber.MethodGet, "/instructor/exams/:id/review", staff, false, w.handleReview()},
		{fiber.MethodPost, "/instructor/exams/:id/review", staff, false, w.handleDecide()},
		{fiber.MethodPost, "/instructor/exams/:id/review/accept", staff, false, w.handleAcceptAll()},
		{fiber.MethodGet, "/instructor/exams/:id/gradebook", staff, false, w.handleGradebook()},
		{fiber.MethodGet, "/instructor/exams/:id/gradebook.csv", staff, false, w.handleGradebookCSV()},
		{fiber.MethodGet, "/instructor/exams/:id/stats", staff, false, w.handleStats()},
		{fiber.MethodGet, "/instructor/exams/:id/audit", staff, false, w.handleAudit()},
		{fiber.MethodGet, "/instructor/exams/:id/moodle.xml", staff, false, w.handleExamMoodle()},

		// Admins: accounts.
		{fiber.MethodGet, "/admin/users", admins, false, w.handleUsers()},
		{fiber.MethodPost, "/admin/users", admins, false, w.handleCreateUser()},
		{fiber.MethodPost, "/admin/users/:id/disable", admins, false, w.handleSetDisabled(true)},
		{fiber.MethodPost, "/admin/users/:id/enable", admins, false, w.handleSetDisabled(false)},
		{fiber.MethodPost, "/admin/users/:id/reset", admins, false, w.handleResetPassword()},
	}
}

// chain returns the handlers of one route: headers, the session, the
// access check, the CSRF check, then the route's handler; any error on the
// way, a panic included, is rendered as a page (or, on a JSON route, as
// JSON).
func (w *Web) chain(rt route) []fiber.Handler {
	if rt.path == "/static/:version/*" {
		return []fiber.Handler{w.staticHeaders, rt.handler}
	}
	return []fiber.Handler{func(c *fiber.Ctx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = w.fail(c, fmt.Errorf("panic in %s %s: %v\n%s", c.Method(), c.Path(), r, debug.Stack()))
			}
		}()
		w.pageHeaders(c)
		if rt.json {
			c.Locals(keyJSON, true)
		}
		err = w.identify(c)
		if err == nil {
			err = w.allow(c, rt.access)
		}
		if err == nil {
			err = w.checkCSRF(c)
		}
		if err == nil {
			err = rt.handler(c)
		}
		if err != nil {
			return w.fail(c, err)
		}
		return nil
	}}
}

// allow checks the route's access against the session.
func (w *Web) allow(c *fiber.Ctx, a access) error {
	if a == public {
		return nil
	}
	u := actor(c)
	if u == nil {
		return errSignedOut
	}
	if a == account {
		return nil
	}
	if u.MustChangePassword {
		return errMustChange
	}
	ok := false
	switch a {
	case signedIn:
		ok = true
	case students:
		ok = u.Role == marksmith.RoleStudent
	case staff:
		ok = u.Role == marksmith.RoleInstructor || u.Role == marksmith.RoleAdmin
	case admins:
		ok = u.Role == marksmith.RoleAdmin
	}
	if !ok {
		return marksmith.Errorf(marksmith.EFORBIDDEN, "This page is not for your role (%s).", u.Role)
	}
	return nil
}

// errMustChange refuses everything but choosing a password to an account
// that still has its one-time password.
var errMustChange = &marksmith.Error{Code: marksmith.EFORBIDDEN, Message: "Choose a new password first."}
