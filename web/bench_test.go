package web

import (
	"bytes"
	"compress/gzip"
	"regexp"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/marksmith/marksmith"
)

// BenchmarkExamPage renders the exam page of the full DASC7606 paper (eight
// questions, 34 parts, every widget) as the server does: the Fiber handler
// with the session cookies, on fake services, so the figure is the pages'
// own time. It reports the page's size, and gzipped.
func BenchmarkExamPage(b *testing.B) {
	benchPage(b, ann, "/attempts/10")
}

// BenchmarkResultsPage renders the results of the full paper with keys and
// the points charts.
func BenchmarkResultsPage(b *testing.B) {
	benchPage(b, ben, "/attempts/11")
}

// BenchmarkReviewPage renders the review queue.
func BenchmarkReviewPage(b *testing.B) {
	benchPage(b, instructor, "/instructor/exams/1/review")
}

func benchPage(b *testing.B, who *marksmith.User, path string) {
	h := newHarness(b, Config{})
	cookies := h.as(who).cookies
	handler := h.app.Handler()
	var ctx fasthttp.RequestCtx
	body := h.page(b, handler, cookies, path, &ctx)
	size, gz := len(body), gzipSize(body)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.page(b, handler, cookies, path, &ctx)
	}
	b.ReportMetric(float64(size), "page-bytes")
	b.ReportMetric(float64(gz), "gzip-bytes")
}

// TestPageWeight loads the exam page of the full paper and every file it
// links to, as a first visit would, and logs their sizes (docs/BENCHMARKS.md
// quotes them). Every linked file must be served.
func TestPageWeight(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(ann)
	res := b.get("/attempts/10")
	html := []byte(res.Body.String())
	total, totalGz := len(html), gzipSize(html)
	t.Logf("exam page HTML: %d bytes, %d gzipped", len(html), gzipSize(html))
	for _, m := range assetRef.FindAllStringSubmatch(string(html), -1) {
		r := b.do("GET", m[1], nil, map[string]string{"Accept-Encoding": "gzip"})
		if r.Code != 200 {
			t.Errorf("GET %s: %d", m[1], r.Code)
			continue
		}
		name := strings.TrimPrefix(m[1], "/static/"+h.web.static.version+"/")
		f := h.web.static.files[name]
		sent := len(r.Body.String())
		t.Logf("%s: %d bytes, %d sent", name, len(f.body), sent)
		total += len(f.body)
		totalGz += sent
	}
	t.Logf("first visit without fonts: %d bytes, %d sent compressed", total, totalGz)
	if total > 1<<20 {
		t.Errorf("the exam page and its files weigh %d bytes: more than 1 MiB", total)
	}
}

// page renders one page through the Fiber handler and returns its body.
func (h *harness) page(tb testing.TB, handler fasthttp.RequestHandler, cookies map[string]string, path string, ctx *fasthttp.RequestCtx) []byte {
	ctx.Request.Reset()
	ctx.Response.Reset()
	ctx.Request.SetRequestURI(path)
	ctx.Request.Header.SetMethod("GET")
	for k, v := range cookies {
		ctx.Request.Header.SetCookie(k, v)
	}
	handler(ctx)
	if ctx.Response.StatusCode() != 200 {
		tb.Fatalf("GET %s: %d %s", path, ctx.Response.StatusCode(), clip(string(ctx.Response.Body()), 300))
	}
	return ctx.Response.Body()
}

var assetRef = regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`)

func gzipSize(p []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	zw.Write(p)
	zw.Close()
	return buf.Len()
}
