package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// staticFS holds the assets the pages load. axe-core, vendored for the
// browser tests, is left out: the server never serves it.
//
//go:embed static/css static/js static/img static/vendor/htmx static/vendor/katex static/vendor/VERSIONS
var staticFS embed.FS

// asset is one static file, loaded once.
type asset struct {
	body     []byte
	gzipped  []byte // nil when compressing does not pay
	mimeType string
}

// assets are the static files under one version: every URL is
// /static/<version>/<path>, where the version is a hash of every file, so
// a page always loads the files it was made with and the files can be
// cached for a year. Relative URLs inside a file (KaTeX's fonts) resolve
// under the same version.
type assets struct {
	version string
	files   map[string]*asset
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]*asset{}}
	var names []string
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static assets: %w", err)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		body, err := staticFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("static assets: %w", err)
		}
		rel := strings.TrimPrefix(name, "static/")
		fmt.Fprintf(h, "%s\x00%d\x00", rel, len(body))
		h.Write(body)
		f := &asset{body: body, mimeType: mimeOf(rel)}
		if compressible(f.mimeType) && len(body) > 512 {
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			zw.Write(body)
			zw.Close()
			if b.Len() < len(body)*9/10 {
				f.gzipped = b.Bytes()
			}
		}
		a.files[rel] = f
	}
	a.version = hex.EncodeToString(h.Sum(nil))[:12]
	return a, nil
}

func mimeOf(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".woff2":
		return "font/woff2"
	case "":
		return "text/plain; charset=utf-8" // LICENSE, VERSIONS
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(mimeType string) bool {
	return strings.HasPrefix(mimeType, "text/") || mimeType == "image/svg+xml"
}

// url returns the versioned URL of a static file; it panics on a file
// that is not there, which the template test catches.
func (a *assets) url(name string) string {
	if _, ok := a.files[name]; !ok {
		panic(fmt.Sprintf("web: no static file %q", name))
	}
	return "/static/" + a.version + "/" + name
}

// handleStatic serves a static file. Under the current version it may be
// cached for a year; under another (a page from before a deploy) it is
// served all the same but not cached, so no cache keeps a file under a
// version it does not belong to.
func (w *Web) handleStatic() fiber.Handler {
	return func(c *fiber.Ctx) error {
		f, ok := w.static.files[c.Params("*")]
		if !ok {
			return c.Status(fiber.StatusNotFound).SendString("Not found.")
		}
		if c.Params("version") == w.static.version {
			c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			c.Set(fiber.HeaderCacheControl, "no-cache")
		}
		c.Set(fiber.HeaderContentType, f.mimeType)
		c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
		if f.gzipped != nil && acceptsGzip(c.Get(fiber.HeaderAcceptEncoding)) {
			c.Set(fiber.HeaderContentEncoding, "gzip")
			return c.Send(f.gzipped)
		}
		return c.Send(f.body)
	}
}

func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			return strings.ReplaceAll(q, " ", "") != "q=0"
		}
	}
	return false
}

// KaTeX returns KaTeX's distribution (katex.min.js, katex.min.css and
// fonts/), as the pages serve it, for a printer to typeset math with.
func KaTeX() fs.FS {
	sub, err := fs.Sub(staticFS, "static/vendor/katex")
	if err != nil {
		panic(err) // a constant, valid path into an embedded folder
	}
	return sub
}
