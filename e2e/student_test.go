package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/marksmith/marksmith"
)

// essayText is what the student writes in every essay.
const essayText = "Swish interpolates between a linear function and ReLU."

// partSel is the CSS selector of a part on the exam page.
func partSel(q int, part string) string {
	return fmt.Sprintf(`.part[data-question="%d"][data-part="%s"]`, q, part)
}

// signIn signs in through the sign-in page; with a one-time password it
// then chooses newPassword on the password page.
func (b *browser) signIn(email, password, newPassword string) {
	b.t.Helper()
	b.visit("/login")
	b.do("fill the sign-in form",
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
	)
	if newPassword == "" {
		b.waitFor("signed in", `document.body.innerText.includes("Sign out")`)
		b.loaded("signed in")
		return
	}
	b.waitFor("the password page", `location.pathname === "/password" && document.querySelector("#new_password") !== null`)
	b.loaded("password")
	if h := b.text("h1"); h != "Choose your password" {
		b.t.Errorf("one-time password: the page says %q", h)
	}
	b.do("choose a password",
		chromedp.SendKeys(chromedp.CSS("#current_password"), password),
		chromedp.SendKeys(chromedp.CSS("#new_password"), newPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm_password"), newPassword),
		chromedp.Click(chromedp.CSS(`form[action="/password"] button[type="submit"]`)),
	)
	b.waitFor("the password to be saved", `location.pathname !== "/password"`)
	b.loaded("password chosen")
}

// answerPart types the key's answer to one part through its widget (an
// essay gets essayText).
func (b *browser) answerPart(q int, p marksmith.Part) {
	b.t.Helper()
	sel := partSel(q, p.ID)
	what := fmt.Sprintf("answer %d%s (%s)", q, p.ID, p.Type)
	key := p.Key.Answer
	b.do(what, chromedp.ScrollIntoView(chromedp.CSS(sel)))
	switch p.Type {
	case marksmith.TypeNumber, marksmith.TypeInteger, marksmith.TypeText:
		b.do(what, chromedp.SendKeys(chromedp.CSS(sel+" input.ans"), key))
	case marksmith.TypeEssay:
		b.do(what, chromedp.SendKeys(chromedp.CSS(sel+" textarea.essay"), essayText))
	case marksmith.TypeChoice:
		b.do(what, chromedp.Click(chromedp.CSS(sel+fmt.Sprintf(` input[type="radio"][value="%s"]`, key))))
	case marksmith.TypeMulti:
		for _, l := range strings.Split(key, ",") {
			b.do(what, chromedp.Click(chromedp.CSS(sel+fmt.Sprintf(` input.pick[value="%s"]`, strings.TrimSpace(l)))))
		}
	case marksmith.TypeSequence:
		for i, tok := range strings.Fields(key) {
			b.do(what, chromedp.SendKeys(chromedp.CSS(fmt.Sprintf("%s li:nth-child(%d) input.token", sel, i+1)), tok))
		}
	case marksmith.TypeTable:
		for i, row := range strings.Split(key, ";") {
			for j, cell := range strings.Split(row, ",") {
				b.do(what, chromedp.SendKeys(chromedp.CSS(fmt.Sprintf(`%s input.cell[data-row="%d"][data-col="%d"]`, sel, i, j)), strings.TrimSpace(cell)))
			}
		}
	case marksmith.TypePoints:
		for _, pt := range p.Key.Points {
			b.placePoint(sel, pt)
		}
	default:
		b.t.Fatalf("%s: no widget for type %q", what, p.Type)
	}
}

// placePoint places one point by choosing its label and clicking the
// chart where it goes.
func (b *browser) placePoint(sel string, pt marksmith.Point) {
	b.t.Helper()
	chart := fmt.Sprintf(`%s .chart-widget[data-chart="%s"] svg.points-chart`, sel, pt.Chart)
	b.do("show chart "+pt.Chart, chromedp.SetValue(chromedp.CSS(sel+" select.place-label"), pt.Label), chromedp.ScrollIntoView(chromedp.CSS(chart)))
	xy := eval[[]float64](b, fmt.Sprintf(`(function () {
		var svg = document.querySelector(%q), d = svg.dataset;
		var p = svg.createSVGPoint();
		p.x = +d.left + (%v - d.xmin) / (d.xmax - d.xmin) * d.size;
		p.y = +d.top + (d.ymax - %v) / (d.ymax - d.ymin) * d.size;
		p = p.matrixTransform(svg.getScreenCTM());
		return [p.x, p.y];
	})()`, chart, pt.X, pt.Y))
	b.do("click the chart", chromedp.MouseClickXY(xy[0], xy[1]))
}

// widgetValues returns every part's answer as the page's widgets read it.
func (b *browser) widgetValues() map[string]string {
	b.t.Helper()
	return eval[map[string]string](b, `(function () {
		var out = {};
		document.querySelectorAll("#exam .part").forEach(function (p) {
			out[p.dataset.question + "/" + p.dataset.part] = window.MarksmithWidgets.read(p);
		});
		return out;
	})()`)
}

// allSaved waits until the page says every answer is saved.
func (b *browser) allSaved() {
	b.t.Helper()
	b.waitFor("every answer saved", `document.getElementById("save-status").textContent.startsWith("All answers saved")`)
}

// setOffline cuts the page's network (requests fail, navigator.onLine
// is false) or restores it.
func (b *browser) setOffline(off bool) {
	b.t.Helper()
	b.do("set offline "+strconv.FormatBool(off), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		conds := []*network.Conditions{}
		if off {
			conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
		}
		if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: conds}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
}

// storedAnswers returns the attempt's stored answers, by "question/part".
func storedAnswers(t *testing.T, srv *server, prof *marksmith.User, attempt int64) (map[string]marksmith.Answer, *marksmith.AttemptView) {
	t.Helper()
	v, err := srv.app.Exams.GetAttempt(t.Context(), prof, attempt)
	if err != nil {
		t.Fatalf("the instructor reads attempt %d: %v", attempt, err)
	}
	out := map[string]marksmith.Answer{}
	for _, q := range v.Questions {
		for _, a := range q.Answers {
			out[fmt.Sprintf("%d/%s", q.Position, a.Part)] = a
		}
	}
	return out, v
}

// TestStudentJourney: a student with a one-time password signs in,
// chooses a password, sits the full DASC7606 paper typing the key into
// every widget, reloads mid-exam, works offline, submits, and reads the
// released results; the stored answers and grades are then checked
// through the exam service.
func TestStudentJourney(t *testing.T) {
	root := chrome(t)
	srv := startServer(t)
	prof, _ := srv.user(t, "prof@e2e.test", "Prof Pat", marksmith.RoleInstructor, false)
	sam, oneTime := srv.user(t, "sam@e2e.test", "Sam Student", marksmith.RoleStudent, true)
	exam := srv.publishExam(t, prof, "DASC7606 final", srv.bankIDs(t, prof), sam.Email)

	b := open(t, root, srv, "student")
	b.signIn(sam.Email, oneTime, "my own long passphrase")
	b.visit("/exams")
	b.do("start the exam", chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/exams/%d/start"] button`, exam.ID))))
	b.waitFor("the exam page", `document.getElementById("exam") !== null && !document.querySelector("fieldset.answer").disabled`)
	b.loaded("exam")
	path := eval[string](b, `location.pathname`)
	attempt, err := strconv.ParseInt(strings.TrimPrefix(path, "/attempts/"), 10, 64)
	if err != nil {
		t.Fatalf("the exam page is at %s", path)
	}

	// The paper with its keys, as the instructor sees it.
	_, paper := storedAnswers(t, srv, prof, attempt)
	types := map[string]int{}
	// Two parts are kept for the offline stretch.
	offline := []string{"4/a", "6/g"}
	held := map[string]marksmith.Part{}
	for _, q := range paper.Questions {
		for _, p := range q.Parts {
			types[p.Type]++
			k := fmt.Sprintf("%d/%s", q.Position, p.ID)
			if k == offline[0] || k == offline[1] {
				held[k] = p
				continue
			}
			b.answerPart(q.Position, p)
		}
	}
	for _, typ := range []string{marksmith.TypeNumber, marksmith.TypeInteger, marksmith.TypeChoice, marksmith.TypeMulti, marksmith.TypeText,
		marksmith.TypeEssay, marksmith.TypeSequence, marksmith.TypeTable, marksmith.TypePoints} {
		if types[typ] == 0 {
			t.Errorf("the paper has no %s part", typ)
		}
	}
	if len(held) != 2 {
		t.Fatalf("parts %v are not on the paper", offline)
	}
	b.allSaved()
	typed := b.widgetValues()
	b.screenshot("exam answered")
	for _, shot := range []struct {
		q           int
		part, label string
	}{{5, "b", "exam chart"}, {3, "c", "exam table"}} {
		b.do("show "+shot.label, chromedp.ScrollIntoView(chromedp.CSS(partSel(shot.q, shot.part))))
		b.screenshot(shot.label)
	}

	// A reload finds every answer where it was.
	eval[bool](b, `setTimeout(function () { location.reload(); }, 0), true`)
	b.waitFor("the exam page again", `document.getElementById("exam") !== null && !document.querySelector("fieldset.answer").disabled`)
	b.loaded("exam reloaded")
	again := b.widgetValues()
	for k, v := range typed {
		if again[k] != v {
			t.Errorf("after a reload %s reads %q, want %q", k, again[k], v)
		}
	}
	for _, q := range paper.Questions {
		for _, p := range q.Parts {
			if p.Type != marksmith.TypeNumber {
				continue
			}
			if v := eval[string](b, `document.querySelector('`+partSel(q.Position, p.ID)+` input.ans').value`); v != p.Key.Answer {
				t.Errorf("after a reload the box of %d%s holds %q, typed %q", q.Position, p.ID, v, p.Key.Answer)
			}
		}
	}

	// While an edit waits out its pause before saving, the bar does not
	// say that everything is saved.
	b.do("edit an essay", chromedp.SendKeys(chromedp.CSS(partSel(1, "e")+" textarea.essay"), " Indeed."))
	if s := b.text("#save-status"); s != "Saving…" {
		t.Errorf("while an edit is pending the bar says %q", s)
	}
	b.allSaved()

	// Offline: the answers wait in the browser, then go in order.
	eval[bool](b, `(function () {
		window.savedPuts = [];
		var f = window.fetch;
		window.fetch = function (u, o) {
			return f.apply(this, arguments).then(function (r) {
				if (o && o.method === "PUT" && r.ok) window.savedPuts.push(String(u).replace(/^.*\/answers\//, ""));
				return r;
			});
		};
		return true;
	})()`)
	b.setOffline(true)
	b.waitFor("the page to know it is offline", `navigator.onLine === false`)
	for _, k := range offline {
		q, _ := strconv.Atoi(strings.Split(k, "/")[0])
		b.answerPart(q, held[k])
	}
	b.waitFor("the offline notice", `document.getElementById("save-status").textContent.startsWith("Offline — 2 answers waiting")`)
	b.screenshot("exam offline")
	stored, _ := storedAnswers(t, srv, prof, attempt)
	for _, k := range offline {
		if a, ok := stored[k]; ok {
			t.Errorf("offline, the server has %s = %q", k, a.Raw)
		}
	}
	b.setOffline(false)
	b.allSaved()
	if got := eval[[]string](b, `window.savedPuts`); strings.Join(got, " ") != "4/a 6/g" {
		t.Errorf("back online the page saved %v, want 4/a then 6/g", got)
	}
	typed = b.widgetValues()

	// Submit, through the dialog.
	b.do("submit", chromedp.ScrollIntoView(chromedp.CSS(`#submit-form button`)), chromedp.Click(chromedp.CSS(`#submit-form button`)))
	b.waitFor("the submit dialog", `document.getElementById("submit-dialog").open`)
	if s := b.text("#submit-unanswered"); s != "Every part has an answer." {
		t.Errorf("the submit dialog says %q", s)
	}
	b.screenshot("submit dialog")
	b.do("confirm", chromedp.Click(chromedp.CSS("#submit-ok")))
	b.waitFor("the submitted attempt", `document.getElementById("exam") === null && document.body.innerText.includes("Submitted")`)
	b.loaded("submitted")

	// What the server stored is what was typed, and the keys got full marks.
	stored, v := storedAnswers(t, srv, prof, attempt)
	if v.Attempt.Status != marksmith.AttemptSubmitted {
		t.Fatalf("attempt status %s", v.Attempt.Status)
	}
	if len(stored) != len(typed) {
		t.Errorf("%d answers stored, %d typed", len(stored), len(typed))
	}
	for k, want := range typed {
		if stored[k].Raw != want {
			t.Errorf("stored %s = %q, typed %q", k, stored[k].Raw, want)
		}
	}
	for _, q := range v.Questions {
		grades := map[string]marksmith.Grade{}
		for _, g := range q.Grades {
			grades[g.Part] = g
		}
		for _, p := range q.Parts {
			k := fmt.Sprintf("%d/%s", q.Position, p.ID)
			g, ok := grades[p.ID]
			switch {
			case !ok:
				t.Errorf("%s: no grade", k)
			case p.Type == marksmith.TypeEssay:
				if !g.NeedsReview {
					t.Errorf("%s: an essay graded %v without review", k, g.Score)
				}
			case g.Score != p.Marks || g.Max != p.Marks:
				t.Errorf("%s (%s): the key %q typed as %q scored %v of %v (%s)", k, p.Type, p.Key.Answer, stored[k].Raw, g.Score, g.Max, g.Feedback)
			}
		}
	}

	// The instructor accepts the essays' suggestions and releases; the
	// student reads the results with the key.
	if _, err := srv.app.Exams.AcceptSuggested(t.Context(), prof, exam.ID, marksmith.AcceptInput{Reason: "Rubric suggestions accepted."}); err != nil {
		t.Fatalf("accept suggestions: %v", err)
	}
	if _, err := srv.app.Exams.Release(t.Context(), prof, exam.ID, marksmith.ReleaseInput{}); err != nil {
		t.Fatalf("release: %v", err)
	}
	_, v = storedAnswers(t, srv, prof, attempt)
	if v.Attempt.Score == nil || !v.Released {
		t.Fatalf("after release: score %v, released %v", v.Attempt.Score, v.Released)
	}
	b.visit("/exams")
	if s := b.text("#released-h"); s == "" {
		t.Errorf("no Results section on My exams")
	}
	b.visit(path)
	body := b.text("body")
	total := strconv.FormatFloat(*v.Attempt.Score, 'f', -1, 64) + " of 100"
	if facts := b.text(".facts"); !strings.Contains(facts, total) {
		t.Errorf("the released results' facts do not say %q: %s", total, facts)
	}
	for _, want := range []string{"Key", "Score: 3 of 3", "Model answer"} {
		if !strings.Contains(body, want) {
			t.Errorf("the released results do not say %q: %.600s", want, body)
		}
	}
	if strings.Contains(body, "awaiting review") {
		t.Error("the released results still have parts awaiting review")
	}
}
