package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/marksmith/marksmith"
)

// navigate opens path and returns the response of the page.
func (b *browser) navigate(path string) *network.Response {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("%s: open %s: %v", b.name, path, err)
	}
	b.loaded(path)
	return res
}

// submitResponse clicks a form's submit button and returns the response
// of the page it leads to.
func (b *browser) submitResponse(what, button string) *network.Response {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button)))
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
	b.loaded(what)
	return res
}

func header(res *network.Response, name string) string {
	for k, v := range res.Headers {
		if strings.EqualFold(k, name) {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// TestSecurity: another student's attempt is a 404, a form posted without
// its CSRF token is refused and changes nothing, and no inline script
// runs, whether injected into the page or reflected from a form.
func TestSecurity(t *testing.T) {
	root := chrome(t)
	srv := startServer(t)
	prof, _ := srv.user(t, "prof@e2e.test", "Prof Pat", marksmith.RoleInstructor, false)
	ann, _ := srv.user(t, "ann@e2e.test", "Ann", marksmith.RoleStudent, false)
	ben, _ := srv.user(t, "ben@e2e.test", "Ben", marksmith.RoleStudent, false)
	exam := srv.publishExam(t, prof, "Quiz", []string{"dasc7606/q4", "dasc7606/q7"}, ann.Email, ben.Email)
	annOnly := srv.publishExam(t, prof, "Ann's retake", []string{"dasc7606/q1"}, ann.Email)
	annAttempt, err := srv.app.Exams.StartAttempt(t.Context(), ann, exam.ID)
	if err != nil {
		t.Fatal(err)
	}

	b := open(t, root, srv, "ben")
	b.signIn(ben.Email, testPassword, "")

	t.Run("another student's attempt", func(t *testing.T) {
		b.t = t
		for _, path := range []string{fmt.Sprintf("/attempts/%d", annAttempt.Attempt.ID), "/attempts/999999", fmt.Sprintf("/exams/%d", annOnly.ID)} {
			res := b.navigate(path)
			if res.Status != 404 {
				t.Errorf("%s: status %d, want 404", path, res.Status)
			}
			if body := b.text("main"); strings.Contains(body, "Ann") || strings.Contains(body, "Quiz") {
				t.Errorf("%s shows another student's attempt: %.300s", path, body)
			}
		}
	})

	t.Run("CSRF", func(t *testing.T) {
		b.t = t
		b.navigate("/exams")
		start := fmt.Sprintf(`form[action="/exams/%d/start"]`, exam.ID)
		if n := eval[int](b, `document.querySelectorAll('`+start+` input[name="_csrf"]').length`); n != 1 {
			t.Fatalf("the start form has %d CSRF fields", n)
		}
		eval[bool](b, `document.querySelector('`+start+` input[name="_csrf"]').remove(), true`)
		res := b.submitResponse("start without the CSRF token", start+" button")
		if res.Status != 403 {
			t.Errorf("a start without the CSRF token: status %d, want 403", res.Status)
		}
		mine, err := srv.app.Exams.MyExams(t.Context(), ben)
		if err != nil {
			t.Fatal(err)
		}
		if len(mine) != 1 || mine[0].Attempt != nil {
			t.Errorf("after the refused start Ben's exams are %+v, want one without an attempt", mine[0])
		}
		// A forged token is refused too.
		b.navigate("/exams")
		eval[bool](b, `document.querySelector('`+start+` input[name="_csrf"]').value = "forged", true`)
		if res := b.submitResponse("start with a forged token", start+" button"); res.Status != 403 {
			t.Errorf("a start with a forged CSRF token: status %d, want 403", res.Status)
		}
		// The same form with its token works.
		b.navigate("/exams")
		if res := b.submitResponse("start with the token", start+" button"); res.Status != 200 || !strings.HasPrefix(res.URL, srv.url+"/attempts/") {
			t.Errorf("a start with the token: status %d at %s", res.Status, res.URL)
		}
		// The exam page's save without its header is refused and stores
		// nothing; with it, it is stored.
		attempt := eval[string](b, `document.getElementById("exam").dataset.attempt`)
		put := func(withToken bool) int {
			return eval[int](b, fmt.Sprintf(`fetch("/attempts/%s/answers/1/a", {method: "PUT", credentials: "same-origin",
				headers: Object.assign({"Content-Type": "application/json"}, %v ? {"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content} : {}),
				body: JSON.stringify({answer: "17", seq: 1})}).then(function (r) { return r.status; })`, attempt, withToken))
		}
		if code := put(false); code != 403 {
			t.Errorf("a save without the CSRF header: status %d, want 403", code)
		}
		id, _ := strconv.ParseInt(attempt, 10, 64)
		v, err := srv.app.Exams.GetAttempt(t.Context(), ben, id)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(v.Questions[0].Answers); n != 0 {
			t.Errorf("the refused save stored %d answer(s): %+v", n, v.Questions[0].Answers)
		}
		if code := put(true); code != 200 {
			t.Errorf("a save with the CSRF header: status %d, want 200", code)
		}
	})

	t.Run("CSP", func(t *testing.T) {
		b.t = t
		res := b.navigate("/exams")
		csp := header(res, "Content-Security-Policy")
		var scriptSrc string
		for _, d := range strings.Split(csp, ";") {
			d = strings.TrimSpace(d)
			if strings.HasPrefix(d, "script-src ") {
				scriptSrc = d
			}
		}
		if scriptSrc != "script-src 'self'" {
			t.Errorf("script-src is %q (policy %q), want 'self' only", scriptSrc, csp)
		}
		for _, bad := range []string{"'unsafe-inline'", "'unsafe-eval'"} {
			if strings.Contains(csp, bad) {
				t.Errorf("the policy allows %s: %q", bad, csp)
			}
		}
		// An inline script put into the page does not run; a script from
		// the server's own origin would.
		ran := eval[bool](b, `new Promise(function (done) {
			var s = document.createElement("script");
			s.textContent = "window.inlineRan = true;";
			document.body.appendChild(s);
			var img = document.createElement("img");
			img.setAttribute("onerror", "window.handlerRan = true");
			img.src = "/no-such-image.png";
			document.body.appendChild(img);
			setTimeout(function () { done(window.inlineRan === true || window.handlerRan === true); }, 300);
		})`)
		if ran {
			t.Error("an inline script or event handler injected into the page ran")
		}
		if !eval[bool](b, `typeof window.htmx === "object"`) {
			t.Error("the page's own scripts did not run")
		}
	})

	t.Run("reflected", func(t *testing.T) {
		b.t = t
		c := open(t, root, srv, "visitor")
		c.navigate("/login")
		payload := `"><script>window.reflectedRan=true</script><img src=x onerror="window.reflectedRan=true">`
		eval[bool](c, `document.getElementById("email").type = "text", true`)
		c.do("type the payload", chromedp.SendKeys(chromedp.CSS("#email"), payload), chromedp.SendKeys(chromedp.CSS("#password"), "wrong password"))
		res := c.submitResponse("sign in with the payload", `form[action="/login"] button[type="submit"]`)
		if res.Status == 200 && strings.Contains(c.text("body"), "Sign out") {
			t.Fatal("signed in with a wrong password")
		}
		time.Sleep(300 * time.Millisecond)
		if eval[bool](c, `window.reflectedRan === true`) {
			t.Error("the reflected script ran")
		}
		if v := eval[string](c, `document.getElementById("email").value`); v != payload {
			t.Errorf("the form gives back %q, want the payload as text", v)
		}
		if n := eval[int](c, `document.querySelectorAll("script:not([src]), [onerror]").length`); n != 0 {
			t.Errorf("the payload became %d elements", n)
		}
	})
}
