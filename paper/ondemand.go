package paper

import (
	"context"
	"io"
	"sync"
)

// OnDemand is a Printer started when it is first needed, so that a server
// that never prints never starts a browser. A start that fails is tried
// again at the next print. It is safe for concurrent use.
type OnDemand struct {
	opt PrinterOptions

	mu sync.Mutex
	p  *Printer
}

// NewOnDemand returns a printer with opt that starts on its first print.
func NewOnDemand(opt PrinterOptions) *OnDemand { return &OnDemand{opt: opt} }

// Available reports whether the printer has a browser to start: nil, or
// an error wrapping ErrNoChromium. It starts nothing.
func (o *OnDemand) Available() error {
	_, err := findChromium(o.opt.Chromium)
	return err
}

func (o *OnDemand) printer(ctx context.Context) (*Printer, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.p != nil {
		return o.p, nil
	}
	p, err := NewPrinter(ctx, o.opt)
	if err != nil {
		return nil, err
	}
	o.p = p
	return p, nil
}

// PDF is Printer.PDF, starting the printer first if need be.
func (o *OnDemand) PDF(ctx context.Context, w io.Writer, doc Document, progress func(done, total int)) (*Report, error) {
	p, err := o.printer(ctx)
	if err != nil {
		return nil, err
	}
	return p.PDF(ctx, w, doc, progress)
}

// Zip is Printer.Zip, starting the printer first if need be.
func (o *OnDemand) Zip(ctx context.Context, w io.Writer, doc Document, progress func(done, total int)) (*Report, error) {
	p, err := o.printer(ctx)
	if err != nil {
		return nil, err
	}
	return p.Zip(ctx, w, doc, progress)
}

// Close ends the browser, if it was started.
func (o *OnDemand) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.p == nil {
		return nil
	}
	err := o.p.Close()
	o.p = nil
	return err
}
