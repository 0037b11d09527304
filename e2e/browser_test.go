package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chrome starts one headless Chromium for the test and returns a context
// of its first tab; browsers of the test open their own contexts (own
// cookies and storage) in it.
func chrome(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelRoot(); cancelAlloc() })
	if err := chromedp.Do(root); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("start Chromium %s: %v", path, err)
		}
		t.Skipf("Chromium %s does not start: %v", path, err)
	}
	return root
}

// browser is one person's browser: a browser context of its own, so its
// cookies and localStorage are its own.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	name string
	// shots counts the screenshots of each name.
	shots map[string]int
	mu    sync.Mutex
	// dialogs are the messages of the dialogs the pages opened.
	dialogs []string
}

// open opens a browser for name on the server.
func open(t *testing.T, root context.Context, srv *server, name string) *browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a browser for %s: %v", name, err)
	}
	b := &browser{t: t, ctx: ctx, base: srv.url, name: name, shots: map[string]int{}}
	// Confirm dialogs are accepted, as a person who means it would; their
	// messages are kept.
	if err := chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			b.mu.Lock()
			b.dialogs = append(b.dialogs, d.Message)
			b.mu.Unlock()
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// lastDialog is the message of the last dialog the page opened.
func (b *browser) lastDialog() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) == 0 {
		return ""
	}
	return b.dialogs[len(b.dialogs)-1]
}

// step runs actions with a deadline, failing the test with what was
// being done.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
}

// eval evaluates a script in the page and decodes its value into T.
func eval[T any](b *browser, script string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: eval %.80q: %v", b.name, script, err)
	}
	return v
}

// waitFor evaluates a script until it is true, through navigations.
func (b *browser) waitFor(what, script string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](script))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("%s: waiting for %s (%s): %v; the page says: %.500s", b.name, what, script, last, b.text("body"))
}

// text is the text of the first element sel matches.
func (b *browser) text(sel string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e?e.innerText:"";})()`, sel)))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

// visit opens path and checks the page.
func (b *browser) visit(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
	b.loaded(path)
}

// loaded waits for the page that is loading, checks it with axe-core
// and takes its screenshot.
func (b *browser) loaded(label string) {
	b.t.Helper()
	b.do("load "+label, chromedp.WaitReady(chromedp.CSS("body")))
	b.checkA11y()
	b.screenshot(label)
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// screenshot saves a PNG of the page into MARKSMITH_SCREENSHOTS, when set.
func (b *browser) screenshot(label string) {
	b.t.Helper()
	dir := os.Getenv("MARKSMITH_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("%s: screenshot %s: %v", b.name, label, err)
	}
	// test-browser-page.png; a page shot again gets -2, -3, ….
	name := strings.ToLower(b.t.Name() + "-" + b.name + "-" + label)
	b.mu.Lock()
	b.shots[name]++
	if n := b.shots[name]; n > 1 {
		name += "-" + strconv.Itoa(n)
	}
	b.mu.Unlock()
	name = strings.Trim(unsafeName.ReplaceAllString(name, "-"), "-") + ".png"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// axeScript is the vendored axe-core.
var axeScript = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("../web/static/vendor/axe-core/axe.min.js")
	return string(b), err
})

// axeViolation is one violation axe-core reports.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// axe runs axe-core on the page and returns its violations.
func (b *browser) axe() []axeViolation {
	b.t.Helper()
	src, err := axeScript()
	if err != nil {
		b.t.Fatalf("axe-core: %v", err)
	}
	if !eval[bool](b, `typeof window.axe === "object"`) {
		eval[bool](b, src+"\n;true")
	}
	raw := eval[string](b, `axe.run(document, {resultTypes: ["violations"]}).then(function (r) { return JSON.stringify(r.violations); })`)
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		b.t.Fatalf("axe-core result: %v", err)
	}
	return vs
}

// checkA11y runs axe-core on the page and fails on serious or critical
// violations.
func (b *browser) checkA11y() {
	b.t.Helper()
	loc := eval[string](b, `location.pathname + location.search`)
	for _, v := range b.axe() {
		if v.Impact != "serious" && v.Impact != "critical" {
			continue
		}
		var where []string
		for i, n := range v.Nodes {
			if i == 3 {
				where = append(where, "…")
				break
			}
			where = append(where, fmt.Sprintf("%v %.160s", n.Target, n.HTML))
		}
		b.t.Errorf("%s: axe-core on %s: %s (%s): %s\n\t%s", b.name, loc, v.ID, v.Impact, v.Help, strings.Join(where, "\n\t"))
	}
}

// press presses keys as a keyboard does: a keydown carrying the key's
// text (so a handler that prevents the keydown also prevents the text),
// then a keyup. A key is a printable character, Enter or Escape.
func (b *browser) press(keys ...string) {
	b.t.Helper()
	for _, key := range keys {
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: key, Text: key, UnmodifiedText: key}
		switch key {
		case "Enter":
			down.Code, down.Text, down.UnmodifiedText, down.WindowsVirtualKeyCode = "Enter", "\r", "\r", 13
		case "Escape":
			down.Code, down.Text, down.UnmodifiedText, down.WindowsVirtualKeyCode = "Escape", "", "", 27
		default:
			r := []rune(key)[0]
			switch {
			case r >= '0' && r <= '9':
				down.Code, down.WindowsVirtualKeyCode = "Digit"+key, int64(r)
			case r >= 'a' && r <= 'z':
				down.Code, down.WindowsVirtualKeyCode = "Key"+strings.ToUpper(key), int64(r-'a'+'A')
			case r == '.':
				down.Code, down.WindowsVirtualKeyCode = "Period", 190
			}
		}
		up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: down.Key, Code: down.Code, WindowsVirtualKeyCode: down.WindowsVirtualKeyCode}
		b.do("press "+key, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, down); err != nil {
				return err
			}
			_, err := chromedp.Call(ctx, input.DispatchKeyEvent, up)
			return err
		}))
	}
}
