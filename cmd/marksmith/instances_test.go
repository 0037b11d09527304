package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runAsMarksmith, set in the environment, makes the test binary run as the
// marksmith command itself: the two-instance test starts real server
// processes from it without building another binary.
const runAsMarksmith = "MARKSMITH_TEST_RUN_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsMarksmith) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serverProcess is `marksmith serve` running as a process of its own.
type serverProcess struct {
	url    string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
}

// startServerProcess starts `marksmith serve` as a separate process with
// environ added to the test's environment, and waits until it serves.
func startServerProcess(t *testing.T, environ map[string]string) *serverProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), runAsMarksmith+"=1")
	for k, v := range environ {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &serverProcess{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server process exited with %v; stderr:\n%s", err, p.stderr)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Errorf("server process did not stop within 20s of SIGTERM")
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			p.stdout.Write([]byte(line + "\n"))
			if m := servingLine.FindStringSubmatch(line); m != nil {
				found <- m[1]
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case p.url = <-found:
	case <-time.After(30 * time.Second):
		t.Fatalf("server process did not start within 30s\nstdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
	}
	return p
}

// TestTwoInstancesOnePostgres runs two server processes on one database
// and drives an exam through both, alternately: log in on one, start on
// the other, save on both, submit on the first, read the result on the
// second. Nothing any of this needs lives in one process alone, so the
// results are those of one server.
func TestTwoInstancesOnePostgres(t *testing.T) {
	dsn := testPostgresURL(t)
	environ := map[string]string{
		"MARKSMITH_DATABASE_URL": dsn, "MARKSMITH_JWT_SECRET": "0123456789abcdef0123456789abcdef",
		"MARKSMITH_AUTO_MIGRATE": "true", "MARKSMITH_LOG_LEVEL": "warn",
	}
	a := startServerProcess(t, environ)
	b := startServerProcess(t, environ)
	pw := regexp.MustCompile(`(?m)^\s+password:\s+(\S+)$`)
	var oneTime string
	for _, p := range []*serverProcess{a, b} {
		if m := pw.FindStringSubmatch(p.stdout.String()); m != nil {
			if oneTime != "" {
				t.Fatal("both instances created a first admin")
			}
			oneTime = m[1]
		}
	}
	if oneTime == "" {
		t.Fatalf("no first admin printed\nA:\n%s\nB:\n%s", a.stdout, b.stdout)
	}
	on := []*serverProcess{a, b}
	call := func(i int, method, path, token, body string, wantStatus int) map[string]any {
		t.Helper()
		code, out := getJSON(t, method, on[i%2].url+path, token, body)
		if code != wantStatus {
			t.Fatalf("instance %c: %s %s = %d %v; want %d", 'A'+i%2, method, path, code, out, wantStatus)
		}
		return out
	}
	login := func(i int, email, password string) string {
		out := call(i, "POST", "/api/v1/auth/login", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password), 200)
		return out["access_token"].(string)
	}
	// The admin's one-time password is changed on A and used on B.
	tok := login(0, "admin@localhost", oneTime)
	call(1, "PUT", "/api/v1/users/me/password", tok, fmt.Sprintf(`{"current_password":%q,"new_password":"the admin's own"}`, oneTime), 204)
	admin := login(1, "admin@localhost", "the admin's own")
	call(0, "POST", "/api/v1/users", admin, `{"email":"s1@uni.edu","name":"S1","password":"student password"}`, 201)
	now := time.Now().UTC()
	exam := call(1, "POST", "/api/v1/exams", admin, fmt.Sprintf(`{"title":"Two instances","questions":[{"template":"dasc7606/q6"}],
		"opens_at":%q,"closes_at":%q,"time_limit_seconds":3600,"roster":["s1@uni.edu"],"feedback":{"after_submit":"parts"}}`,
		now.Add(-time.Minute).Format(time.RFC3339), now.Add(2*time.Hour).Format(time.RFC3339)), 201)
	id := int64(exam["id"].(float64))
	call(0, "POST", fmt.Sprintf("/api/v1/exams/%d/publish", id), admin, "", 200)

	student := login(1, "s1@uni.edu", "student password")
	view := call(0, "POST", fmt.Sprintf("/api/v1/exams/%d/attempts", id), student, "", 200)
	attempt := int64(view["attempt"].(map[string]any)["id"].(float64))
	// The instructor reads the key of the student's paper on B.
	staff := call(1, "GET", fmt.Sprintf("/api/v1/attempts/%d", attempt), admin, "", 200)
	parts := staff["questions"].([]any)[0].(map[string]any)["parts"].([]any)
	keys := map[string]string{}
	for _, p := range parts {
		p := p.(map[string]any)
		if key, ok := p["key"].(map[string]any); ok && (p["type"] == "number" || p["type"] == "integer") {
			keys[p["id"].(string)] = key["answer"].(string)
		}
	}
	if len(keys) < 3 {
		t.Fatalf("numeric keys %v", keys)
	}
	// Saves alternate between the instances; seq order holds across them.
	i, seq := 0, 1
	for part, key := range keys {
		call(i, "PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/%s", attempt, part), student, fmt.Sprintf(`{"answer":"999","seq":%d}`, seq), 200)
		out := call(i+1, "PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/%s", attempt, part), student, fmt.Sprintf(`{"answer":%q,"seq":%d}`, key, seq+1), 200)
		if out["stored"] != true {
			t.Fatalf("save on the other instance not stored: %v", out)
		}
		stale := call(i, "PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/%s", attempt, part), student, fmt.Sprintf(`{"answer":"1","seq":%d}`, seq), 200)
		if stale["stored"] != false || stale["stale"] != true {
			t.Fatalf("a stale save on the first instance: %v", stale)
		}
		i++
		seq += 2
	}
	sub := call(0, "POST", fmt.Sprintf("/api/v1/attempts/%d/submit", attempt), student, "", 200)
	read := call(1, "GET", fmt.Sprintf("/api/v1/attempts/%d", attempt), student, "", 200)
	subGrades := sub["questions"].([]any)[0].(map[string]any)["grades"].([]any)
	readGrades := read["questions"].([]any)[0].(map[string]any)["grades"].([]any)
	if fmt.Sprint(subGrades) != fmt.Sprint(readGrades) {
		t.Fatalf("the grades differ between the instances:\nA %v\nB %v", subGrades, readGrades)
	}
	right := 0
	for _, g := range readGrades {
		g := g.(map[string]any)
		if _, ok := keys[g["part"].(string)]; ok && g["score"] == g["max"] {
			right++
		}
	}
	if right != len(keys) {
		t.Fatalf("%d of the %d keyed parts scored full marks: %v", right, len(keys), readGrades)
	}
	// A disabled account is refused on both at once.
	users := call(0, "GET", "/api/v1/users?q=s1@uni.edu", admin, "", 200)
	uid := int64(users["users"].([]any)[0].(map[string]any)["id"].(float64))
	call(0, "PATCH", fmt.Sprintf("/api/v1/users/%d", uid), admin, `{"disabled":true}`, 200)
	call(1, "GET", "/api/v1/me/exams", student, "", 403)
	call(1, "PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/a", attempt), student, `{"answer":"1","seq":99}`, 403)
	// Login limits: failures on A lock the account on B.
	for range 5 {
		call(0, "POST", "/api/v1/auth/login", "", `{"email":"admin@localhost","password":"wrong"}`, 401)
	}
	code, _ := getJSON(t, "POST", b.url+"/api/v1/auth/login", "", `{"email":"admin@localhost","password":"the admin's own"}`)
	if code != http.StatusTooManyRequests {
		t.Fatalf("login on B after five failures on A = %d; want 429", code)
	}
	// Only one instance sweeps at a time; both log nothing at error level.
	for _, p := range []*serverProcess{a, b} {
		if s := p.stderr.String(); strings.Contains(s, "level=ERROR") {
			t.Fatalf("an instance logged an error:\n%s", s)
		}
	}
}
