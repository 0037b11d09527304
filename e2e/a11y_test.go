package e2e

import (
	"fmt"
	"testing"

	"github.com/marksmith/marksmith"
)

// TestAccessibility runs axe-core on the pages the journeys do not reach
// (every visit checks its page), and checks that the check can fail: a
// page given an image without alternative text and an unlabelled input
// has violations axe-core calls critical.
func TestAccessibility(t *testing.T) {
	root := chrome(t)
	srv := startServer(t)
	adminUser, _ := srv.user(t, "root@e2e.test", "Ada Admin", marksmith.RoleAdmin, false)
	prof, _ := srv.user(t, "prof@e2e.test", "Prof Pat", marksmith.RoleInstructor, false)
	sam, _ := srv.user(t, "sam@e2e.test", "Sam", marksmith.RoleStudent, false)
	exam := srv.publishExam(t, prof, "Quiz", []string{"dasc7606/q5", "dasc7606/q3"}, sam.Email)

	b := open(t, root, srv, "instructor")
	b.signIn(prof.Email, testPassword, "")
	for _, path := range []string{
		"/instructor", "/instructor/bank", "/instructor/bank?q=q6", "/instructor/bank/template?id=dasc7606/q5",
		"/instructor/bank/template?id=dasc7606/q3&seed=7", "/instructor/bank/upload", "/instructor/exams",
		fmt.Sprintf("/instructor/exams/%d", exam.ID), fmt.Sprintf("/instructor/exams/%d/edit", exam.ID),
		fmt.Sprintf("/instructor/exams/%d/gradebook", exam.ID), fmt.Sprintf("/instructor/exams/%d/stats", exam.ID),
		fmt.Sprintf("/instructor/exams/%d/audit", exam.ID), fmt.Sprintf("/instructor/exams/%d/review", exam.ID),
		"/password", "/no/such/page",
	} {
		b.visit(path)
	}
	a := open(t, root, srv, "admin")
	a.signIn(adminUser.Email, testPassword, "")
	a.visit("/admin/users")

	// The check fails when it should.
	eval[bool](b, `(function () {
		var img = document.createElement("img");
		img.src = "/nothing.png";
		document.querySelector("main").appendChild(img);
		var inp = document.createElement("input");
		inp.type = "text";
		document.querySelector("main").appendChild(inp);
		return true;
	})()`)
	found := map[string]string{}
	for _, v := range b.axe() {
		found[v.ID] = v.Impact
	}
	if found["image-alt"] != "critical" || found["label"] != "critical" {
		t.Errorf("axe-core did not report the broken image and input as critical: %v", found)
	}
}
