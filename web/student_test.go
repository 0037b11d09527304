package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/marksmith/marksmith"
)

// TestAutosave is the exam page's save route: the service's SaveResult
// comes back as JSON, a stale save changes nothing, a format error is
// stored and said, and the page shows what is stored.
func TestAutosave(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(ann)
	save := func(part, body string) (int, marksmith.SaveResult) {
		t.Helper()
		res := b.putJSON("/attempts/10/answers/6/"+part, body)
		var out marksmith.SaveResult
		if res.Code == http.StatusOK {
			if err := json.Unmarshal([]byte(res.Body.String()), &out); err != nil {
				t.Fatalf("save: %v in %s", err, res)
			}
		}
		return res.Code, out
	}
	code, r := save("d", `{"answer":"1.2B","seq":5}`)
	if code != 200 || !r.Stored || r.Answer.Raw != "1.2B" || r.Answer.Seq != 5 {
		t.Errorf("save: %d %+v", code, r)
	}
	if code, r = save("d", `{"answer":"older","seq":4}`); code != 200 || r.Stored || !r.Stale || r.Answer.Raw != "1.2B" {
		t.Errorf("stale save: %d %+v", code, r)
	}
	if code, r = save("d", `{"answer":"twelve","seq":6}`); code != 200 || !r.Stored || r.FormatError == "" {
		t.Errorf("format error: %d %+v", code, r)
	}
	if code, _ = save("d", `{"answer":"1","seq":0}`); code != http.StatusUnprocessableEntity {
		t.Errorf("no seq: %d", code)
	}
	if code, _ = save("d", `not json`); code != http.StatusBadRequest {
		t.Errorf("not JSON: %d", code)
	}
	if res := b.putJSON("/attempts/10/answers/x/d", `{"answer":"1","seq":9}`); res.Code != http.StatusBadRequest {
		t.Errorf("question x: %d", res.Code)
	}
	want := marksmith.SaveInput{AttemptID: 10, Question: 6, Part: "d", Answer: "1.2B", Seq: 5}
	if len(h.exams.saves) == 0 || h.exams.saves[0] != want {
		t.Errorf("the service got %+v, want first %+v", h.exams.saves, want)
	}
	// The page shows the stored answer, its seq (the script goes on above
	// it) and its format error.
	page := b.get("/attempts/10").Body.String()
	for _, w := range []string{`id="p-6-d" data-question="6" data-part="d" data-type="number" data-seq="6" data-answer="twelve"`, "“twelve” is not a number."} {
		if !strings.Contains(page, w) {
			t.Errorf("the exam page lacks %q", w)
		}
	}
	// The clock for the countdown comes from the service's view.
	res := b.get("/attempts/10/clock")
	var c clock
	if err := json.Unmarshal([]byte(res.Body.String()), &c); err != nil || c.RemainingSeconds != 5400 || c.Status != marksmith.AttemptOpen || c.GraceSeconds != 92*60 {
		t.Errorf("clock: %s (%+v, %v)", res, c, err)
	}
	// A submitted attempt refuses saves (409), which the script takes as the end.
	if res := h.as(ben).putJSON("/attempts/11/answers/1/a", `{"answer":"1","seq":9}`); res.Code != http.StatusConflict {
		t.Errorf("save into a submitted attempt: %s", res)
	}
}

// TestStartAndSubmit starts an attempt from the list, asks before
// submitting (listing the unanswered parts) and submits once confirmed.
func TestStartAndSubmit(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(ann)
	res := b.post("/exams/1/start", nil)
	if res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/attempts/10" {
		t.Errorf("start: %d to %q", res.Code, res.Header.Get("Location"))
	}
	if res := b.post("/exams/99/start", nil); res.Code != http.StatusNotFound {
		t.Errorf("start an exam not on the roster: %d", res.Code)
	}
	if res := b.get("/exams/1"); res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/attempts/10" {
		t.Errorf("an exam with an attempt sends to it: %d %q", res.Code, res.Header.Get("Location"))
	}
	res = b.post("/attempts/10/submit", nil)
	body := res.Body.String()
	if res.Code != 200 || !strings.Contains(body, "35 part(s) have no saved answer") || !strings.Contains(body, "Question 1 (b)") || len(h.exams.submits) != 0 {
		t.Errorf("submit without confirming: %s", body[strings.Index(body, "<main"):])
	}
	res = b.post("/attempts/10/submit", url.Values{"confirm": {"1"}})
	if res.Code != http.StatusSeeOther || len(h.exams.submits) != 1 || h.exams.submits[0] != 10 {
		t.Errorf("submit: %d, submits %v", res.Code, h.exams.submits)
	}
	if res := h.as(ben).post("/attempts/10/submit", url.Values{"confirm": {"1"}}); res.Code != http.StatusNotFound {
		t.Errorf("Ben submits Ann's attempt: %d", res.Code)
	}
}

// TestResultsFollowTheView shows a student what the service's view holds
// and nothing more: no key while the view has none.
func TestResultsFollowTheView(t *testing.T) {
	h := newHarness(t, Config{})
	h.exams.attempts[11].Released = false
	body := h.as(ben).get("/attempts/11").Body.String()
	if strings.Contains(body, `class="key"`) || !strings.Contains(body, "when your instructor releases them") {
		t.Errorf("unreleased results show a key or lack the notice")
	}
	h.exams.attempts[11].Released = true
	body = h.as(ben).get("/attempts/11").Body.String()
	if !strings.Contains(body, `class="key"`) || !strings.Contains(body, `data-forget-attempt="11"`) {
		t.Errorf("released results lack the key or the forget marker")
	}
}
