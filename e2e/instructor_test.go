package e2e

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/marksmith/marksmith"
)

// TestInstructorJourney: an instructor creates an exam of two bank
// questions in the pages, publishes it, watches a student's save reach
// the live monitor, ends the exam, scores the essay group with the
// keyboard, releases the results and downloads the gradebook.
func TestInstructorJourney(t *testing.T) {
	root := chrome(t)
	srv := startServer(t)
	prof, _ := srv.user(t, "prof@e2e.test", "Prof Pat", marksmith.RoleInstructor, false)
	ann, _ := srv.user(t, "ann@e2e.test", "Ann Archer", marksmith.RoleStudent, false)
	ben, _ := srv.user(t, "ben@e2e.test", "Ben Baker", marksmith.RoleStudent, false)

	b := open(t, root, srv, "instructor")
	b.signIn(prof.Email, testPassword, "")

	// Create the draft.
	b.visit("/instructor/exams/new")
	b.do("fill the exam form",
		chromedp.SendKeys(chromedp.CSS("#title"), "Midterm"),
		chromedp.Click(chromedp.CSS(`input[name="q"][value="dasc7606/q1"]`)),
		chromedp.Click(chromedp.CSS(`input[name="q"][value="dasc7606/q6"]`)),
		chromedp.SendKeys(chromedp.CSS("#roster"), ann.Email+"\n"+ben.Email),
	)
	// Opens a minute ago, closes in two hours, in the browser's zone.
	eval[bool](b, `(function () {
		var pad = function (n) { return (n < 10 ? "0" : "") + n; };
		var local = function (d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes()); };
		[["opens_at_local", -60e3], ["closes_at_local", 2 * 3600e3]].forEach(function (f) {
			var el = document.getElementById(f[0]);
			el.value = local(new Date(Date.now() + f[1]));
			el.dispatchEvent(new Event("change"));
		});
		document.getElementById("after_release").value = "parts";
		return true;
	})()`)
	b.do("create the draft", chromedp.Click(chromedp.CSS(`form.exam-form button[type="submit"]`)))
	b.waitFor("the draft's page", `/^\/instructor\/exams\/\d+$/.test(location.pathname) && document.body.innerText.includes("Publish")`)
	b.loaded("draft")
	path := eval[string](b, `location.pathname`)
	examID, _ := strconv.ParseInt(strings.TrimPrefix(path, "/instructor/exams/"), 10, 64)
	e, err := srv.app.Exams.FindExam(t.Context(), prof, examID)
	if err != nil {
		t.Fatalf("the exam the page made: %v", err)
	}
	if e.Title != "Midterm" || len(e.Questions) != 2 || e.Questions[0].TemplateID != "dasc7606/q1" || e.Questions[1].TemplateID != "dasc7606/q6" ||
		e.Status != marksmith.ExamDraft || e.Feedback.AfterRelease != marksmith.FeedbackParts {
		t.Fatalf("the page made %+v", e)
	}

	// Publish.
	b.do("publish", chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/instructor/exams/%d/publish"] button`, examID))))
	b.waitFor("the published exam", `document.body.innerText.includes("Exam-day controls")`)
	b.loaded("published")
	if e, _ = srv.app.Exams.FindExam(t.Context(), prof, examID); e.Status != marksmith.ExamPublished {
		t.Fatalf("after Publish the exam is %s", e.Status)
	}

	// The live monitor picks up a student's save by itself.
	b.visit(fmt.Sprintf("/instructor/exams/%d/monitor", examID))
	row := func(email string) string {
		return eval[string](b, fmt.Sprintf(`(function () {
			var r = Array.prototype.find.call(document.querySelectorAll("#monitor tbody tr"), function (tr) { return tr.textContent.includes(%q); });
			return r ? Array.prototype.map.call(r.children, function (c) { return c.textContent.trim(); }).slice(1, 5).join("|") : "";
		})()`, email))
	}
	if r := row(ann.Email); !strings.HasPrefix(r, "not started|") {
		t.Errorf("before the exam Ann's row is %q", r)
	}
	const essay = "With beta 0 swish is linear; as beta grows it approaches ReLU."
	attempts := map[string]int64{}
	for _, s := range []*marksmith.User{ann, ben} {
		v, err := srv.app.Exams.StartAttempt(t.Context(), s, examID)
		if err != nil {
			t.Fatal(err)
		}
		attempts[s.Email] = v.Attempt.ID
		if _, err := srv.app.Exams.SaveAnswer(t.Context(), s, marksmith.SaveInput{AttemptID: v.Attempt.ID, Question: 1, Part: "e", Answer: essay, Seq: 1}); err != nil {
			t.Fatal(err)
		}
	}
	b.waitFor("Ann's save on the monitor", fmt.Sprintf(`(function () {
		var r = Array.prototype.find.call(document.querySelectorAll("#monitor tbody tr"), function (tr) { return tr.textContent.includes(%q); });
		return !!r && r.children[1].textContent.trim().startsWith("open") && r.children[4].textContent.trim() === "1" && r.children[3].textContent.trim() !== "–";
	})()`, ann.Email))
	b.screenshot("monitor")

	// End the exam (the page asks first).
	b.visit(path)
	b.do("end the exam",
		chromedp.SendKeys(chromedp.CSS("#end-reason"), "Time is up in the hall."),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/instructor/exams/%d/close"] button`, examID))),
	)
	b.waitFor("the attempts to close", fmt.Sprintf(`document.body.innerText.includes("Closed 2 attempt(s)") && location.pathname === %q`, path))
	b.loaded("ended")
	if d := b.lastDialog(); !strings.HasPrefix(d, "End the exam now") {
		t.Errorf("ending the exam asked %q", d)
	}
	for email, id := range attempts {
		v, err := srv.app.Exams.GetAttempt(t.Context(), prof, id)
		if err != nil || v.Attempt.Status != marksmith.AttemptClosed {
			t.Fatalf("%s's attempt after End the exam: %v %v", email, v, err)
		}
	}

	// Review: the two identical essays are one group, scored with the keys.
	b.visit(fmt.Sprintf("/instructor/exams/%d/review", examID))
	if s := b.text(".review-count"); s != "1 group(s), 2 answer(s) awaiting review." {
		t.Fatalf("the review queue says %q", s)
	}
	b.do("focus the group", chromedp.Focus(chromedp.CSS(".review-card")))
	b.press("3", ".", "5", "r")
	if cls := eval[string](b, `document.activeElement.className`); cls != "reason" {
		t.Fatalf("R focused %q, not the reason", cls)
	}
	// The reason comes filled with the grader's feedback: replace it.
	eval[bool](b, `document.activeElement.value = "", true`)
	b.do("type the reason", chromedp.KeyEvent("Names the linear and ReLU limits."))
	b.press("Escape")
	if !eval[bool](b, `document.activeElement.classList.contains("review-card")`) {
		t.Fatal("Esc did not come back to the group")
	}
	if v := eval[string](b, `document.querySelector(".review-card input.score").value`); v != "3.5" {
		t.Errorf("typing 3 . 5 on the group gave the score %q", v)
	}
	b.press("Enter")
	b.waitFor("the group scored", `document.querySelector(".review-card.done") !== null`)
	b.screenshot("review scored")
	if s := b.text(".review-card.done"); !strings.Contains(s, "3.5 marks given to 2 answer(s)") {
		t.Errorf("the scored group says %q", s)
	}
	for email, id := range attempts {
		v, err := srv.app.Exams.GetAttempt(t.Context(), prof, id)
		if err != nil {
			t.Fatal(err)
		}
		var g *marksmith.Grade
		for i := range v.Questions[0].Grades {
			if v.Questions[0].Grades[i].Part == "e" {
				g = &v.Questions[0].Grades[i]
			}
		}
		if g == nil || g.Score != 3.5 || g.NeedsReview || g.ReviewReason != "Names the linear and ReLU limits." || g.ReviewedBy == nil || *g.ReviewedBy != prof.ID {
			t.Errorf("%s's essay grade after review: %+v", email, g)
		}
	}

	// Release.
	b.visit(path)
	b.do("release", chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/instructor/exams/%d/release"] button`, examID))))
	b.waitFor("the release", `document.body.innerText.includes("eleased")`)
	b.loaded("released")
	if e, _ = srv.app.Exams.FindExam(t.Context(), prof, examID); !e.Released {
		t.Fatal("Release the results did not release them")
	}

	// The gradebook, and its CSV as the page downloads it.
	b.visit(fmt.Sprintf("/instructor/exams/%d/gradebook", examID))
	href := eval[string](b, `(function () { var a = Array.prototype.find.call(document.querySelectorAll("a"), function (a) { return a.textContent.includes("Download CSV"); }); return a ? a.getAttribute("href") : ""; })()`)
	if href != fmt.Sprintf("/instructor/exams/%d/gradebook.csv", examID) {
		t.Fatalf("Download CSV links to %q", href)
	}
	text := eval[string](b, `fetch(`+strconv.Quote(href)+`, {credentials: "same-origin"}).then(function (r) { return r.text(); })`)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("the gradebook CSV: %v\n%s", err, text)
	}
	gb, err := srv.app.Exams.Gradebook(t.Context(), prof, examID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("the gradebook CSV has %d rows, want a header and 2 students:\n%s", len(rows), text)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	emailCol, ok := col["email"]
	totalCol, ok2 := col["total"]
	if !ok || !ok2 {
		t.Fatalf("the gradebook CSV's header is %v", rows[0])
	}
	for _, r := range rows[1:] {
		var want *marksmith.GradebookRow
		for i := range gb.Rows {
			if gb.Rows[i].Email == r[emailCol] {
				want = &gb.Rows[i]
			}
		}
		if want == nil || want.Total == nil {
			t.Errorf("CSV row %v is no student of the gradebook", r)
			continue
		}
		if got, _ := strconv.ParseFloat(r[totalCol], 64); got != *want.Total || got != 3.5 {
			t.Errorf("%s: CSV total %q, gradebook %v, want 3.5", r[emailCol], r[totalCol], *want.Total)
		}
	}
}
