package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// report is the outcome of a run.
type report struct {
	Students  int
	Elapsed   time.Duration
	Requests  int
	Stored    int            // saves the server stored (each carries a new, higher seq)
	NotStored int            // 200 answers that stored nothing: a defect for this load
	Errors    map[string]int // by kind: status and code ("503 unavailable"), or how the connection failed
	Latencies []time.Duration
	Acked     []ack // the saves stored, when the run records them (-acked)
}

// ack is one save the server acknowledged as stored: 200 with stored true.
type ack struct {
	Attempt  int64
	Question int
	Part     string
	Seq      int64
}

// writeAcked writes acks to path, one "attempt question part seq" a line.
func writeAcked(path string, acks []ack) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("acked saves: %w", err)
	}
	w := bufio.NewWriter(f)
	for _, a := range acks {
		fmt.Fprintf(w, "%d %d %s %d\n", a.Attempt, a.Question, a.Part, a.Seq)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("acked saves: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("acked saves: %w", err)
	}
	return nil
}

// errorKind names a failed save for the report: the status and the API's
// error code ("503 unavailable", "500 internal"), or how the connection
// failed ("refused", "reset", "eof", "timeout", "transport").
func errorKind(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		var body struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if json.Unmarshal([]byte(ae.Body), &body) == nil && body.Error.Code != "" {
			return fmt.Sprintf("%d %s", ae.Status, body.Error.Code)
		}
		return fmt.Sprint(ae.Status)
	}
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "transport"
}

// rate is requests per second.
func (r *report) rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// percentile returns the q-quantile (0..1) of sorted latencies by the
// nearest-rank method, or 0 for none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted)) + 0.999999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func (r *report) write(w io.Writer) {
	lat := slices.Clone(r.Latencies)
	slices.Sort(lat)
	errs := 0
	for _, n := range r.Errors {
		errs += n
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	fmt.Fprintf(w, "students      %d (one connection each)\n", r.Students)
	fmt.Fprintf(w, "saves         %d in %s\n", r.Requests, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "throughput    %.0f saves/s\n", r.rate())
	if len(lat) > 0 {
		fmt.Fprintf(w, "latency       p50 %s  p90 %s  p99 %s  max %s\n",
			ms(percentile(lat, 0.50)), ms(percentile(lat, 0.90)), ms(percentile(lat, 0.99)), ms(lat[len(lat)-1]))
	}
	fmt.Fprintf(w, "stored        %d (not stored: %d)\n", r.Stored, r.NotStored)
	fmt.Fprintf(w, "errors        %d", errs)
	if errs > 0 {
		keys := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s: %d", k, r.Errors[k])
		}
	}
	fmt.Fprintln(w)
}

// answerFor is a well-formed answer of a part's type, varied by seq so
// that every save changes the stored answer.
func answerFor(p part, seq int64) string {
	switch p.Type {
	case "number", "integer":
		return fmt.Sprint(1000 + seq)
	case "choice":
		return "A"
	case "multi":
		return "A,B"
	case "sequence":
		return "1 0 1"
	case "table":
		return "1 2\n3 4"
	default:
		return fmt.Sprintf("draft %d of my answer", seq)
	}
}

// load has every student save answers, one request at a time each, until
// the duration passes or cfg.Requests saves have been sent in all.
func load(ctx context.Context, c *client, cfg *config, students []*student) *report {
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var (
		sent atomic.Int64
		mu   sync.Mutex
		rep  = &report{Students: len(students), Errors: map[string]int{}}
		wg   sync.WaitGroup
	)
	budget := int64(cfg.Requests)
	start := time.Now()
	for _, st := range students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var (
				lat               []time.Duration
				stored, notStored int
				errs                    = map[string]int{}
				seq               int64 = 0
				acked             []ack
			)
			for ctx.Err() == nil {
				if budget > 0 && sent.Add(1) > budget {
					break
				}
				seq++
				p := st.Parts[int(seq)%len(st.Parts)]
				path := fmt.Sprintf("/api/v1/attempts/%d/answers/%d/%s", st.Attempt, p.Question, url.PathEscape(p.ID))
				var res struct {
					Stored bool `json:"stored"`
				}
				t0 := time.Now()
				_, err := c.call(ctx, http.MethodPut, path, st.Token, map[string]any{"answer": answerFor(p, seq), "seq": seq}, &res)
				d := time.Since(t0)
				if ctx.Err() != nil && err != nil {
					break // the run ended mid-request: not the server's error
				}
				lat = append(lat, d)
				switch {
				case err != nil:
					errs[errorKind(err)]++
					if cfg.ErrorPause > 0 {
						select {
						case <-ctx.Done():
						case <-time.After(cfg.ErrorPause):
						}
					}
				case res.Stored:
					stored++
					if cfg.Acked != "" {
						acked = append(acked, ack{Attempt: st.Attempt, Question: p.Question, Part: p.ID, Seq: seq})
					}
				default:
					notStored++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			rep.Latencies = append(rep.Latencies, lat...)
			rep.Stored += stored
			rep.NotStored += notStored
			rep.Acked = append(rep.Acked, acked...)
			for k, n := range errs {
				rep.Errors[k] += n
			}
		}()
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	rep.Requests = len(rep.Latencies)
	return rep
}
