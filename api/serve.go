package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
)

// DefaultShutdownGrace is how long Serve lets requests in flight finish.
const DefaultShutdownGrace = 20 * time.Second

// Serve serves app on ln until ctx is done, then shuts down gracefully:
// it stops accepting connections and waits up to grace (a fresh deadline,
// not what is left of ctx) for requests in flight. It returns nil after a
// clean shutdown.
func Serve(ctx context.Context, app *fiber.App, ln net.Listener, grace time.Duration) error {
	if grace <= 0 {
		grace = DefaultShutdownGrace
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := app.ShutdownWithContext(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	return nil
}

// ListenAndServe listens on addr (host:port) and calls Serve.
func ListenAndServe(ctx context.Context, app *fiber.App, addr string, grace time.Duration) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return Serve(ctx, app, ln, grace)
}
