package web

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// examsPage is an instructor's list of exams.
type examsPage struct {
	Exams  []*marksmith.Exam
	Total  int
	Offset int
	Prev   string
	Next   string
}

func (w *Web) handleExams() fiber.Handler {
	return func(c *fiber.Ctx) error {
		off := max(0, c.QueryInt("offset"))
		list, total, err := w.exams.FindExams(c.UserContext(), actor(c), off, pageSize)
		if err != nil {
			return err
		}
		p := examsPage{Exams: list, Total: total, Offset: off}
		if off > 0 {
			p.Prev = "/instructor/exams?offset=" + strconv.Itoa(max(0, off-pageSize))
		}
		if off+len(list) < total {
			p.Next = "/instructor/exams?offset=" + strconv.Itoa(off+pageSize)
		}
		return w.render(c, "exams", "Exams", p)
	}
}

// examForm is the form that creates or rewrites a draft exam.
type examForm struct {
	ID        int64 // 0: a new exam
	Title     string
	Seed      string
	Rows      []examFormRow // every template of the bank, the exam's ticked
	OpensAt   time.Time
	ClosesAt  time.Time
	TimeLimit int // minutes
	LateGrace int // minutes
	ShuffleQ  bool
	ShuffleO  bool
	Delivery  string // online, paper or both
	Feedback  marksmith.FeedbackPolicy
	Roster    string
	Errors    map[string]string
	Error     string
}

// examFormRow is one template to pick, with its place and marks.
type examFormRow struct {
	Template *marksmith.TemplateVersion
	Picked   bool
	Position int
	Marks    string
	Version  int
}

func (w *Web) handleNewExam() fiber.Handler {
	return func(c *fiber.Ctx) error {
		now := w.now().UTC().Truncate(time.Hour)
		f := &examForm{
			OpensAt: now.Add(24 * time.Hour), ClosesAt: now.Add(27 * time.Hour), TimeLimit: 120, LateGrace: 2,
			ShuffleQ: false, ShuffleO: true, Delivery: marksmith.DeliveryOnline,
			Feedback: marksmith.FeedbackPolicy{AfterSubmit: marksmith.FeedbackNone, AfterRelease: marksmith.FeedbackParts},
		}
		if err := w.fillBank(c, f, nil); err != nil {
			return err
		}
		return w.render(c, "exam-form", "New exam", f)
	}
}

// fillBank lists the bank in the form, ticking the exam's questions.
func (w *Web) fillBank(c *fiber.Ctx, f *examForm, qs []marksmith.ExamQuestion) error {
	list, _, err := w.templates.FindTemplates(c.UserContext(), actor(c), marksmith.TemplateFilter{Limit: 200})
	if err != nil {
		return err
	}
	picked := map[string]marksmith.ExamQuestion{}
	for _, q := range qs {
		picked[q.TemplateID] = q
	}
	f.Rows = f.Rows[:0]
	for _, tv := range list {
		r := examFormRow{Template: tv, Marks: formatScore(tv.Marks)}
		if q, ok := picked[tv.TemplateID]; ok {
			r.Picked, r.Position, r.Marks, r.Version = true, q.Position, formatScore(q.Marks), q.Version
		}
		f.Rows = append(f.Rows, r)
	}
	return nil
}

// readExamForm decodes the exam form into an ExamInput, noting the fields
// it cannot read; the service validates the rest.
func (w *Web) readExamForm(c *fiber.Ctx, f *examForm) marksmith.ExamInput {
	f.Errors = map[string]string{}
	f.Title = strings.TrimSpace(c.FormValue("title"))
	f.Seed = strings.TrimSpace(c.FormValue("seed"))
	f.OpensAt = w.formTime(c, "opens_at", f.Errors)
	f.ClosesAt = w.formTime(c, "closes_at", f.Errors)
	f.TimeLimit = formInt(c, "time_limit", f.Errors)
	f.LateGrace = formInt(c, "late_grace", f.Errors)
	f.ShuffleQ = c.FormValue("shuffle_questions") == "on"
	f.ShuffleO = c.FormValue("shuffle_options") == "on"
	f.Delivery = c.FormValue("delivery")
	f.Feedback = marksmith.FeedbackPolicy{AfterSubmit: c.FormValue("after_submit"), AfterRelease: c.FormValue("after_release")}
	f.Roster = c.FormValue("roster")
	in := marksmith.ExamInput{
		Title: f.Title, OpensAt: f.OpensAt, ClosesAt: f.ClosesAt,
		TimeLimitSeconds: f.TimeLimit * 60, LateGraceSeconds: f.LateGrace * 60,
		ShuffleQuestions: f.ShuffleQ, ShuffleOptions: f.ShuffleO, Feedback: f.Feedback, Delivery: f.Delivery,
	}
	if f.Seed != "" {
		n, err := strconv.ParseUint(f.Seed, 10, 64)
		if err != nil {
			f.Errors["seed"] = "A seed is a whole number from 0 to 18446744073709551615; leave it empty for a random one."
		} else {
			s := marksmith.Seed(n)
			in.Seed = &s
		}
	}
	// The questions: every ticked template, in the order of their
	// positions (then of the list).
	args := c.Request().PostArgs()
	var picked []examFormRow
	for _, id := range args.PeekMulti("q") {
		tid := string(id)
		r := examFormRow{Picked: true, Template: &marksmith.TemplateVersion{TemplateID: tid}, Marks: c.FormValue("marks:" + tid)}
		r.Position, _ = strconv.Atoi(c.FormValue("pos:" + tid))
		r.Version, _ = strconv.Atoi(c.FormValue("version:" + tid))
		picked = append(picked, r)
	}
	sort.SliceStable(picked, func(i, j int) bool {
		pi, pj := picked[i].Position, picked[j].Position
		if pi == 0 || pj == 0 {
			return pi != 0 && pj == 0
		}
		return pi < pj
	})
	for _, r := range picked {
		marks := 0.0
		if s := strings.TrimSpace(r.Marks); s != "" {
			m, err := strconv.ParseFloat(s, 64)
			if err != nil || m < 0 {
				f.Errors["questions"] = fmt.Sprintf("The marks of %s must be a number.", r.Template.TemplateID)
			}
			marks = m
		}
		in.Questions = append(in.Questions, marksmith.QuestionInput{Template: r.Template.TemplateID, Version: r.Version, Marks: marks})
	}
	if len(in.Questions) == 0 {
		f.Errors["questions"] = "Pick at least one question."
	}
	if r := strings.TrimSpace(f.Roster); r != "" {
		in.Roster = splitList(r)
	}
	return in
}

// formTime reads a time field: the RFC 3339 value the page's script puts
// in name (converted from the reader's time zone), or else the
// datetime-local field name_local read as UTC.
func (w *Web) formTime(c *fiber.Ctx, name string, errs map[string]string) time.Time {
	if v := c.FormValue(name); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t.UTC()
		}
	}
	v := c.FormValue(name + "_local")
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t
		}
	}
	errs[name] = "Give a date and time."
	return time.Time{}
}

func formInt(c *fiber.Ctx, name string, errs map[string]string) int {
	s := strings.TrimSpace(c.FormValue(name))
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		errs[name] = "Give a whole number of minutes, 0 or more."
	}
	return n
}

// splitList splits a list typed one per line or separated by commas,
// semicolons or spaces.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == '\n' || r == '\r' || r == ',' || r == ';' || r == ' ' || r == '\t'
	})
}

func (w *Web) handleCreateExam() fiber.Handler {
	return func(c *fiber.Ctx) error {
		f := &examForm{}
		in := w.readExamForm(c, f)
		if len(f.Errors) == 0 {
			e, err := w.exams.CreateExam(c.UserContext(), actor(c), in)
			if err == nil {
				w.flash(c, "Created "+e.Title+" as a draft.")
				return w.redirect(c, examPath(e.ID))
			}
			if !w.formError(err, f) {
				return err
			}
		}
		return w.reshowExamForm(c, f, in, "New exam")
	}
}

func (w *Web) reshowExamForm(c *fiber.Ctx, f *examForm, in marksmith.ExamInput, title string) error {
	var qs []marksmith.ExamQuestion
	for i, q := range in.Questions {
		qs = append(qs, marksmith.ExamQuestion{Position: i + 1, TemplateID: q.Template, Version: q.Version, Marks: q.Marks})
	}
	if err := w.fillBank(c, f, qs); err != nil {
		return err
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return w.render(c, "exam-form", title, f)
}

// formError puts a validation error of the service on the form; it
// reports false for any other error.
func (w *Web) formError(err error, f *examForm) bool {
	switch marksmith.ErrorCode(err) {
	case marksmith.EUNPROCESSABLE, marksmith.EINVALID, marksmith.ECONFLICT:
	default:
		return false
	}
	f.Error = marksmith.ErrorMessage(err)
	for _, fe := range fieldErrors(err) {
		field := fe.Field
		if i := strings.IndexAny(field, ".["); i >= 0 {
			field = field[:i]
		}
		switch field {
		case "time_limit_seconds":
			field = "time_limit"
		case "late_grace_seconds":
			field = "late_grace"
		case "feedback":
			field = "feedback"
		}
		if f.Errors[field] == "" {
			f.Errors[field] = fe.Field + " " + fe.Message
		}
	}
	return true
}

func examPath(id int64) string { return "/instructor/exams/" + strconv.FormatInt(id, 10) }

// adminExamPage is one exam for its instructor: settings, roster, the controls
// its state allows, and the report of the last action.
type adminExamPage struct {
	Exam   *marksmith.Exam
	Roster []*marksmith.RosterEntry
	Import *marksmith.ImportReport
	Rost   *marksmith.RosterResult
	Report *marksmith.PublishReport
	Error  string
	Marks  float64
}

func (w *Web) loadExam(c *fiber.Ctx) (*adminExamPage, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	ctx, u := c.UserContext(), actor(c)
	e, err := w.exams.FindExam(ctx, u, id)
	if err != nil {
		return nil, err
	}
	roster, err := w.exams.FindRoster(ctx, u, id)
	if err != nil {
		return nil, err
	}
	p := &adminExamPage{Exam: e, Roster: roster}
	for _, q := range e.Questions {
		p.Marks += q.Marks
	}
	return p, nil
}

func (w *Web) handleExam() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := w.loadExam(c)
		if err != nil {
			return err
		}
		return w.render(c, "exam-admin", p.Exam.Title, p)
	}
}

func (w *Web) handleEditExam() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := w.loadExam(c)
		if err != nil {
			return err
		}
		e := p.Exam
		f := &examForm{
			ID: e.ID, Title: e.Title, Seed: e.Seed.String(), OpensAt: e.OpensAt, ClosesAt: e.ClosesAt,
			TimeLimit: e.TimeLimitSeconds / 60, LateGrace: e.LateGraceSeconds / 60,
			ShuffleQ: e.ShuffleQuestions, ShuffleO: e.ShuffleOptions, Delivery: e.Delivery, Feedback: e.Feedback,
		}
		if err := w.fillBank(c, f, e.Questions); err != nil {
			return err
		}
		return w.render(c, "exam-form", "Edit "+e.Title, f)
	}
}

func (w *Web) handleUpdateExam() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		f := &examForm{ID: id}
		in := w.readExamForm(c, f)
		in.Roster = nil // the roster has its own form
		if len(f.Errors) == 0 {
			e, err := w.exams.UpdateExam(c.UserContext(), actor(c), id, in)
			if err == nil {
				w.flash(c, "Saved.")
				return w.redirect(c, examPath(e.ID))
			}
			if !w.formError(err, f) {
				return err
			}
		}
		return w.reshowExamForm(c, f, in, "Edit exam")
	}
}

func (w *Web) handleDeleteExam() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		if err := w.exams.DeleteExam(c.UserContext(), actor(c), id); err != nil {
			return err
		}
		w.flash(c, "The exam is deleted.")
		return w.redirect(c, "/instructor/exams")
	}
}

// refused shows the exam page with the message of a refused action (a
// conflict, a validation error); any other error is returned as it is.
func (w *Web) refused(c *fiber.Ctx, err error) error {
	switch marksmith.ErrorCode(err) {
	case marksmith.EUNPROCESSABLE, marksmith.EINVALID, marksmith.ECONFLICT, marksmith.EGONE:
	default:
		return err
	}
	p, lerr := w.loadExam(c)
	if lerr != nil {
		return lerr
	}
	p.Error = marksmith.ErrorMessage(err)
	for _, fe := range fieldErrors(err) {
		p.Error += " " + fe.Field + ": " + fe.Message + "."
	}
	c.Status(statusOf(marksmith.ErrorCode(err)))
	return w.render(c, "exam-admin", p.Exam.Title, p)
}

// handleSetRoster sets a draft exam's roster from a typed list of emails
// or student keys.
func (w *Web) handleSetRoster() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		res, err := w.exams.SetRoster(c.UserContext(), actor(c), id, splitList(c.FormValue("students")))
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

// maxRosterSize bounds an uploaded roster file.
const maxRosterSize = 2 << 20

// handleImportRoster creates the accounts of a CSV roster (row by row,
// each bad row reported with its line) and puts every student it names on
// the exam's roster: the draft's roster grows, a published exam's
// students are added.
func (w *Web) handleImportRoster() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		ctx, u := c.UserContext(), actor(c)
		fh, err := c.FormFile("file")
		if err != nil {
			return marksmith.Errorf(marksmith.EINVALID, "Choose a CSV file with a header row (email, name, student_key).")
		}
		f, err := fh.Open()
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(f, maxRosterSize+1))
		f.Close()
		if err != nil {
			return err
		}
		if len(body) > maxRosterSize {
			return marksmith.Errorf(marksmith.ETOOLARGE, "A roster file may be at most 2 MiB.")
		}
		rep, err := w.users.ImportUsers(ctx, u, marksmith.Roster{Format: "csv", Body: bufio.NewReader(bytes.NewReader(body))})
		if err != nil {
			return w.refused(c, err)
		}
		var emails []string
		for _, r := range rep.Rows {
			if r.Status != marksmith.ImportError && r.Email != "" {
				emails = append(emails, r.Email)
			}
		}
		e, err := w.exams.FindExam(ctx, u, id)
		if err != nil {
			return err
		}
		var res *marksmith.RosterResult
		if len(emails) > 0 {
			if e.Status == marksmith.ExamDraft {
				roster, err := w.exams.FindRoster(ctx, u, id)
				if err != nil {
					return err
				}
				all := make([]string, 0, len(roster)+len(emails))
				for _, r := range roster {
					all = append(all, r.Email)
				}
				res, err = w.exams.SetRoster(ctx, u, id, append(all, emails...))
			} else {
				res, err = w.exams.AddStudents(ctx, u, id, emails)
			}
			if err != nil {
				return w.refused(c, err)
			}
		}
		p, err := w.loadExam(c)
		if err != nil {
			return err
		}
		p.Import, p.Rost = rep, res
		return w.render(c, "exam-admin", p.Exam.Title, p)
	}
}

// handlePublish generates every student's paper and opens the exam.
func (w *Web) handlePublish() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		rep, err := w.exams.Publish(c.UserContext(), actor(c), id)
		if err != nil {
			return w.refused(c, err)
		}
		p, err := w.loadExam(c)
		if err != nil {
			return err
		}
		p.Report = rep
		return w.render(c, "exam-admin", p.Exam.Title, p)
	}
}

func (w *Web) handleUnpublish() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		if _, err := w.exams.Unpublish(c.UserContext(), actor(c), id); err != nil {
			return w.refused(c, err)
		}
		w.flash(c, "The exam is a draft again; its papers are deleted.")
		return w.redirect(c, examPath(id))
	}
}
