package api

import (
	"context"
	_ "embed"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/marksmith/marksmith"
)

// openAPIDocument is the OpenAPI 3 description of the whole API, served at
// /openapi.json and checked against real responses by the tests.
//
//go:embed openapi.json
var openAPIDocument []byte

// readyTimeout bounds a readiness probe.
const readyTimeout = 3 * time.Second

type statusResponse struct {
	Status string `json:"status"`
}

// handleHealthz reports that the process is alive. It checks nothing else,
// so a slow database never gets a healthy instance restarted.
func (s *server) handleHealthz() handlerFunc {
	return func(c *fiber.Ctx, _ *marksmith.User) error {
		return encode(c, fiber.StatusOK, statusResponse{Status: "ok"})
	}
}

// handleReadyz reports whether the instance can serve: the database is
// reachable and its schema current (Deps.Ready).
func (s *server) handleReadyz() handlerFunc {
	return func(c *fiber.Ctx, _ *marksmith.User) error {
		ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "not ready",
				slog.String("request_id", requestIDOf(c)), slog.String("error", err.Error()))
			return marksmith.Errorf(marksmith.EUNAVAILABLE, "Not ready.")
		}
		return encode(c, fiber.StatusOK, statusResponse{Status: "ready"})
	}
}

// handleMetrics serves the Prometheus metrics of Deps.Metrics.
func (s *server) handleMetrics() handlerFunc {
	h := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	return func(c *fiber.Ctx, _ *marksmith.User) error {
		h(c.Context())
		return nil
	}
}

// handleOpenAPI serves the OpenAPI document.
func (s *server) handleOpenAPI() handlerFunc {
	return func(c *fiber.Ctx, _ *marksmith.User) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Status(fiber.StatusOK).Send(openAPIDocument)
	}
}
