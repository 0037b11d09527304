package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// The exam-day controls: each reads its form, calls one service method
// (which audits it) and goes back to the page it came from.

// backTo returns the page a control form came from (its "back" field),
// or the exam's page.
func backTo(c *fiber.Ctx, id int64) string {
	if b := safeNext(c.FormValue("back")); b != "" {
		return b
	}
	return examPath(id)
}

func (w *Web) handleAddStudents() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		res, err := w.exams.AddStudents(c.UserContext(), actor(c), id, splitList(c.FormValue("students")))
		if err != nil {
			return w.refused(c, err)
		}
		p, err := w.loadExam(c)
		if err != nil {
			return err
		}
		p.Rost = res
		return w.render(c, "exam-admin", p.Exam.Title, p)
	}
}

func (w *Web) handleRemoveStudent() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		uid, err := paramID(c, "user")
		if err != nil {
			return err
		}
		if err := w.exams.RemoveStudent(c.UserContext(), actor(c), id, uid); err != nil {
			return w.refused(c, err)
		}
		w.flash(c, "The student is removed from the roster.")
		return w.redirect(c, backTo(c, id))
	}
}

// handleAccommodation gives one student extra time (and, optionally, a
// later close of the window).
func (w *Web) handleAccommodation() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		uid, err := paramID(c, "user")
		if err != nil {
			return err
		}
		errs := map[string]string{}
		minutes := formInt(c, "extra_minutes", errs)
		in := marksmith.Accommodation{ExtraSeconds: minutes * 60, Reason: strings.TrimSpace(c.FormValue("reason"))}
		if c.FormValue("closes_at") != "" || c.FormValue("closes_at_local") != "" {
			t := w.formTime(c, "closes_at", errs)
			in.ClosesAt = &t
		}
		if msg := firstError(errs); msg != "" {
			return w.refused(c, marksmith.Errorf(marksmith.EINVALID, "%s", msg))
		}
		e, err := w.exams.SetAccommodation(c.UserContext(), actor(c), id, uid, in)
		if err != nil {
			return w.refused(c, err)
		}
		w.flash(c, e.Email+" has "+formatDuration(e.ExtraSeconds)+" extra.")
		return w.redirect(c, backTo(c, id))
	}
}

func firstError(errs map[string]string) string {
	for _, k := range sortedKeys(errs) {
		return errs[k]
	}
	return ""
}

// handleClose ends open attempts now: the listed ones, or with all=1
// every open attempt ("end the exam").
func (w *Web) handleClose() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		in := marksmith.CloseInput{All: c.FormValue("all") == "1", Reason: strings.TrimSpace(c.FormValue("reason"))}
		for _, s := range c.Request().PostArgs().PeekMulti("attempt") {
			if n, err := strconv.ParseInt(string(s), 10, 64); err == nil {
				in.AttemptIDs = append(in.AttemptIDs, n)
			}
		}
		rep, err := w.exams.CloseAttempts(c.UserContext(), actor(c), id, in)
		if err != nil {
			return w.refused(c, err)
		}
		w.flash(c, "Closed "+strconv.Itoa(rep.Closed)+" attempt(s); each is graded with what was saved.")
		return w.redirect(c, backTo(c, id))
	}
}

// handleReopen reopens a submitted or closed attempt for some minutes.
func (w *Web) handleReopen() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		aid, err := paramID(c, "attempt")
		if err != nil {
			return err
		}
		errs := map[string]string{}
		minutes := formInt(c, "minutes", errs)
		if msg := firstError(errs); msg != "" {
			return w.refused(c, marksmith.Errorf(marksmith.EINVALID, "%s", msg))
		}
		a, err := w.exams.ReopenAttempt(c.UserContext(), actor(c), aid,
			marksmith.ReopenInput{Seconds: minutes * 60, Reason: strings.TrimSpace(c.FormValue("reason"))})
		if err != nil {
			return w.refused(c, err)
		}
		w.flash(c, "Attempt "+strconv.FormatInt(a.ID, 10)+" is open until "+a.DeadlineAt.UTC().Format(time.Kitchen)+" UTC.")
		return w.redirect(c, backTo(c, id))
	}
}

// handleRelease releases the results to students.
func (w *Web) handleRelease() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		rep, err := w.exams.Release(c.UserContext(), actor(c), id, marksmith.ReleaseInput{Partial: c.FormValue("partial") == "1"})
		if err != nil {
			return w.refused(c, err)
		}
		msg := "Results released to " + strconv.Itoa(rep.Released) + " student(s)."
		if rep.Pending > 0 {
			msg += " " + strconv.Itoa(rep.Pending) + " more as they finish or are reviewed."
		}
		w.flash(c, msg)
		return w.redirect(c, backTo(c, id))
	}
}

// monitorPage is the live monitor.
type monitorPage struct {
	ExamID  int64
	Monitor *marksmith.Monitor
	CSRF    string
}

func (w *Web) loadMonitor(c *fiber.Ctx) (*monitorPage, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	m, err := w.exams.Monitor(c.UserContext(), actor(c), id)
	if err != nil {
		return nil, err
	}
	return &monitorPage{ExamID: id, Monitor: m, CSRF: sessionOf(c).csrf}, nil
}

func (w *Web) handleMonitor() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := w.loadMonitor(c)
		if err != nil {
			return err
		}
		return w.render(c, "monitor", "Monitor: "+p.Monitor.Title, p)
	}
}

// handleMonitorRows is the monitor's table alone, which the page fetches
// every few seconds.
func (w *Web) handleMonitorRows() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := w.loadMonitor(c)
		if err != nil {
			return err
		}
		return w.renderPartial(c, "monitor-table", p)
	}
}
