package exams

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/grader"
	"github.com/marksmith/marksmith/variants"
)

// Publish tuning.
const (
	// selfTestCount bounds the variants each template's self-test draws.
	selfTestCount = 200
	// cohortRetries is how many alternative seeds a student's variant may
	// try to be distinct from the others' (as variants.DrawCohort).
	cohortRetries = 8
)

// questionSalt salts the permutation of a student's question order.
const questionSalt = "questions"

// Publish generates and stores every rostered student's paper of a draft
// exam and marks it published, in one transaction: a failure anywhere
// leaves the exam a draft with no papers. It first loads each question's
// pinned template version and runs its self-test over min(roster, 200)
// variants drawn with the exam seed: a failing template stops the publish
// with EUNPROCESSABLE naming it and its failures. Variants are distinct
// across the roster wherever the parameter space allows, deterministic in
// (exam seed, student key, template), and generated and stored batch by
// batch, so memory is bounded by a batch.
func (s *Service) Publish(ctx context.Context, actor *marksmith.User, id int64) (*marksmith.PublishReport, error) {
	start := time.Now()
	e, err := s.managedExam(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if e.Status != marksmith.ExamDraft {
		return nil, marksmith.Errorf(marksmith.ECONFLICT, "Exam %d is already published.", id)
	}
	roster, err := s.store.FindRoster(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("publish exam %d: roster: %w", id, err)
	}
	if len(roster) == 0 {
		return nil, marksmith.Errorf(marksmith.EUNPROCESSABLE, "Exam %d has no students on its roster.", id)
	}
	qs, err := s.loadQuestions(ctx, e)
	if err != nil {
		return nil, err
	}
	if err := s.selfTest(ctx, e, qs, min(len(roster), selfTestCount)); err != nil {
		return nil, err
	}
	rep := &marksmith.PublishReport{ExamID: id, Students: len(roster), Questions: len(qs)}
	now := s.clock()
	err = s.store.WithTx(ctx, func(tx marksmith.Store) error {
		// Papers a failed publish left behind (a crash mid-way) would
		// collide with this one's: a draft has none of its own.
		if err := tx.DeletePapers(ctx, id, 0); err != nil {
			return err
		}
		n, err := s.generate(ctx, tx, e, qs, users(roster))
		if err != nil {
			return err
		}
		rep.Papers = n
		if err := tx.MarkPublished(ctx, id, now); err != nil {
			if isCode(err, marksmith.ECONFLICT) {
				return marksmith.Errorf(marksmith.ECONFLICT, "Exam %d is already published.", id)
			}
			return err
		}
		for _, q := range qs {
			rep.Distinct = append(rep.Distinct, marksmith.QuestionDistinct{
				Position: q.q.Position, Template: q.q.TemplateID, Version: q.q.Version,
				Distinct: q.cohort.Distinct(), Exhausted: q.cohort.Exhausted(),
			})
		}
		rep.Duration = time.Since(start)
		rep.DurationMS = rep.Duration.Milliseconds()
		after, _ := json.Marshal(rep)
		return tx.AddAudit(ctx, &marksmith.AuditEntry{ExamID: id, Actor: actor.ID, Action: "publish",
			Target: fmt.Sprintf("exam %d", id), After: after, At: now})
	})
	if err != nil {
		return nil, fmt.Errorf("publish exam %d: %w", id, err)
	}
	s.logger.Info("exam published", "exam", id, "students", rep.Students, "papers", rep.Papers, "duration", rep.Duration)
	return rep, nil
}

// users returns the users of roster entries.
func users(entries []*marksmith.RosterEntry) []*marksmith.User {
	out := make([]*marksmith.User, len(entries))
	for i, r := range entries {
		out[i] = r.User
	}
	return out
}

// pubQuestion is one question being published: its template, and the
// cohort's state (the fingerprints drawn so far).
type pubQuestion struct {
	q marksmith.ExamQuestion
	t *bank.Template
	// canonical holds, per part, the option IDs in the template's
	// canonical order (for exams that do not shuffle options).
	canonical map[string][]string
	cohort    *variants.CohortDraw
}

// loadTemplate loads one stored template version.
func (s *Service) loadTemplate(ctx context.Context, id string, version int) (*bank.Template, error) {
	tv, err := s.store.FindTemplateVersion(ctx, id, version)
	if isCode(err, marksmith.ENOTFOUND) {
		return nil, marksmith.Errorf(marksmith.EUNPROCESSABLE, "Template %s has no version %d.", id, version)
	} else if err != nil {
		return nil, fmt.Errorf("find template %s version %d: %w", id, version, err)
	}
	t, err := bank.LoadContext(ctx, tv.TemplateID+"."+tv.Format, []byte(tv.Source), bank.LoadOptions{Limits: s.Limits})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &marksmith.Error{Code: marksmith.EUNPROCESSABLE,
			Message: fmt.Sprintf("Template %s version %d does not load.", id, tv.Version), Details: err.Error()}
	}
	// The stored version number is the one papers and grades record.
	t.Version = tv.Version
	return t, nil
}

// loadQuestions loads each question's pinned template version, once per
// version.
func (s *Service) loadQuestions(ctx context.Context, e *marksmith.Exam) ([]*pubQuestion, error) {
	loaded := map[string]*bank.Template{}
	out := make([]*pubQuestion, len(e.Questions))
	for i, q := range e.Questions {
		key := fmt.Sprintf("%s@%d", q.TemplateID, q.Version)
		t := loaded[key]
		if t == nil {
			var err error
			if t, err = s.loadTemplate(ctx, q.TemplateID, q.Version); err != nil {
				return nil, fmt.Errorf("question %d: %w", q.Position, err)
			}
			loaded[key] = t
		}
		pq := &pubQuestion{q: q, t: t, cohort: t.Generator().NewCohortDraw(uint64(e.Seed), t.ID, cohortRetries)}
		if !e.ShuffleOptions {
			c, err := t.Canonical()
			if err != nil {
				return nil, marksmith.Errorf(marksmith.EUNPROCESSABLE, "Question %d: template %s version %d has no canonical variant: %v.", q.Position, q.TemplateID, q.Version, err)
			}
			pq.canonical = map[string][]string{}
			for _, p := range c.Parts {
				for _, o := range p.Answer.Options {
					pq.canonical[p.ID] = append(pq.canonical[p.ID], o.ID)
				}
			}
		}
		out[i] = pq
	}
	return out, nil
}

// selfTest runs every distinct template's self-test in parallel and
// returns EUNPROCESSABLE naming each failing template.
func (s *Service) selfTest(ctx context.Context, e *marksmith.Exam, qs []*pubQuestion, count int) error {
	type job struct {
		t         *bank.Template
		positions []int
		failures  []string
	}
	var jobs []*job
	byTemplate := map[*bank.Template]*job{}
	for _, q := range qs {
		j := byTemplate[q.t]
		if j == nil {
			j = &job{t: q.t}
			byTemplate[q.t] = j
			jobs = append(jobs, j)
		}
		j.positions = append(j.positions, q.q.Position)
	}
	parallel(len(jobs), s.workers(), func(i int) {
		j := jobs[i]
		defer func() {
			if r := recover(); r != nil {
				j.failures = []string{fmt.Sprintf("the self-test failed: %v", r)}
			}
		}()
		rep, err := j.t.SelfTestContext(ctx, uint64(e.Seed), count)
		switch {
		case err != nil:
			j.failures = []string{err.Error()}
		case !rep.OK():
			j.failures = rep.Failures
		}
	})
	var failed []marksmith.SelfTestFailure
	var names []string
	for _, j := range jobs {
		if len(j.failures) == 0 {
			continue
		}
		failed = append(failed, marksmith.SelfTestFailure{Positions: j.positions, Template: j.t.ID, Version: j.t.Version, Failures: j.failures})
		names = append(names, fmt.Sprintf("%s version %d (question %s): %s", j.t.ID, j.t.Version, joinInts(j.positions), j.failures[0]))
	}
	if len(failed) == 0 {
		return nil
	}
	return &marksmith.Error{Code: marksmith.EUNPROCESSABLE,
		Message: fmt.Sprintf("Publish stopped: %d template(s) failed the self-test: %s.", len(failed), strings.Join(names, "; ")),
		Details: failed}
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// parallel calls f(0..n-1) on up to workers goroutines.
func parallel(n, workers int, f func(i int)) {
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// studentKey is the key a student's variants are seeded from.
func studentKey(u *marksmith.User) string {
	if u.StudentKey != "" {
		return u.StudentKey
	}
	return u.Email
}

// generate builds and stores every student's papers, batch by batch: one
// goroutine generates the next batch (on s.workers() goroutines) while the
// current one is stored. It returns how many papers it stored.
func (s *Service) generate(ctx context.Context, store marksmith.Store, e *marksmith.Exam, qs []*pubQuestion, roster []*marksmith.User) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	size := s.batchSize()
	type batch struct {
		papers []*marksmith.Paper
		err    error
	}
	out := make(chan batch, 1)
	go func() {
		defer close(out)
		for lo := 0; lo < len(roster); lo += size {
			students := roster[lo:min(lo+size, len(roster))]
			papers, err := s.generateBatch(e, qs, students)
			select {
			case out <- batch{papers, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	n := 0
	for b := range out {
		if b.err != nil {
			return n, b.err
		}
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("publish exam %d: %w", e.ID, err)
		}
		if err := store.SavePapers(ctx, b.papers); err != nil {
			if isCode(err, marksmith.ECONFLICT) {
				return n, marksmith.Errorf(marksmith.ECONFLICT, "Exam %d is being published by another request.", e.ID)
			}
			return n, fmt.Errorf("publish exam %d: store papers: %w", e.ID, err)
		}
		n += len(b.papers)
	}
	return n, nil
}

// drawn is one generated variant: its seed, fingerprint and JSON (the
// variant itself is dropped once encoded, to keep batches small).
type drawn struct {
	seed uint64
	fp   string
	json []byte
	err  error
}

// generateBatch builds the papers of a batch of students, choosing each
// variant with the question's CohortDraw, in roster order, so the result
// does not depend on batching or scheduling. The work is spread over
// s.workers() goroutines: base variants are built in parallel; the
// students whose base variant repeats an earlier one have their
// alternatives' fingerprints drawn in parallel up front (only the
// parameters, not the variant); the choice is then made in roster order;
// and a variant is built again only for a student who got an alternative.
func (s *Service) generateBatch(e *marksmith.Exam, qs []*pubQuestion, students []*marksmith.User) ([]*marksmith.Paper, error) {
	nq, ns := len(qs), len(students)
	keys := make([]string, ns)
	for i, u := range students {
		keys[i] = studentKey(u)
	}
	// Index i = qi*ns + si throughout.
	base := make([]drawn, nq*ns)
	s.each(len(base), func(i int) {
		q := qs[i/ns]
		base[i] = q.draw(q.cohort.Base(keys[i%ns]))
	})

	// Students whose base variant repeats one drawn before it, in the
	// cohort or in this batch, certainly need alternatives.
	var need []int
	for qi, q := range qs {
		if !q.cohort.Searching() {
			continue // repeats are unavoidable: no alternatives are tried
		}
		local := make(map[string]struct{}, ns)
		for si := range ns {
			d := &base[qi*ns+si]
			if d.err != nil {
				continue
			}
			_, earlier := local[d.fp]
			if q.cohort.Seen(d.fp) || earlier {
				need = append(need, qi*ns+si)
			} else {
				local[d.fp] = struct{}{}
			}
		}
	}
	alts := make([][cohortRetries]sampled, len(need))
	altOf := make(map[int]int, len(need))
	for j, i := range need {
		altOf[i] = j
	}
	s.each(len(need)*cohortRetries, func(x int) {
		j, k := x/cohortRetries, x%cohortRetries
		i := need[j]
		alts[j][k] = qs[i/ns].sample(variants.Reseed(base[i].seed, k+1))
	})

	// Choose in roster order.
	chosen := make([]uint64, len(base))
	var rebuild []int
	for qi, q := range qs {
		for si := range ns {
			i := qi*ns + si
			d := &base[i]
			if d.err != nil {
				return nil, q.drawError(keys[si], d.err)
			}
			seed, err := q.cohort.Next(d.seed, d.fp, func(k int) (string, error) {
				alt := q.sample(variants.Reseed(d.seed, k))
				if j, ok := altOf[i]; ok {
					alt = alts[j][k-1]
				}
				return alt.fp, alt.err
			})
			if err != nil {
				return nil, q.drawError(keys[si], err)
			}
			chosen[i] = seed
			if seed != d.seed {
				rebuild = append(rebuild, i)
			}
		}
	}
	s.each(len(rebuild), func(j int) {
		i := rebuild[j]
		base[i] = qs[i/ns].draw(chosen[i])
	})

	orders := make([][]int, ns)
	for si := range ns {
		orders[si] = questionOrder(e, keys[si], nq)
	}
	papers := make([]*marksmith.Paper, 0, len(base))
	for qi, q := range qs {
		for si, u := range students {
			d := &base[qi*ns+si]
			if d.err != nil {
				return nil, q.drawError(keys[si], d.err)
			}
			papers = append(papers, &marksmith.Paper{
				ExamID: e.ID, UserID: u.ID, Position: q.q.Position, Order: orders[si][qi],
				TemplateID: q.q.TemplateID, Version: q.q.Version, Seed: marksmith.Seed(d.seed), Variant: d.json,
			})
		}
	}
	return papers, nil
}

// each calls f(0..n-1) on s.workers() goroutines, in chunks so that they
// do not contend for every item.
func (s *Service) each(n int, f func(i int)) {
	const chunk = 16
	parallel((n+chunk-1)/chunk, s.workers(), func(c int) {
		for i := c * chunk; i < min((c+1)*chunk, n); i++ {
			f(i)
		}
	})
}

// sampled is the fingerprint of a seed's drawn values.
type sampled struct {
	seed uint64
	fp   string
	err  error
}

// sample draws the parameter values of seed (without building the
// variant) and returns their fingerprint.
func (q *pubQuestion) sample(seed uint64) (p sampled) {
	defer func() {
		if r := recover(); r != nil {
			p = sampled{seed: seed, err: fmt.Errorf("variant %d: %v", seed, r)}
		}
	}()
	g := q.t.Generator()
	env, err := g.Draw(seed)
	if err != nil {
		return sampled{seed: seed, err: err}
	}
	return sampled{seed: seed, fp: g.Fingerprint(env)}
}

func (q *pubQuestion) drawError(student string, err error) error {
	return marksmith.Errorf(marksmith.EUNPROCESSABLE, "Publish stopped: question %d (template %s version %d) has no fair variant for student %s: %v.",
		q.q.Position, q.q.TemplateID, q.q.Version, student, err)
}

// draw builds the variant of seed as it is stored: the exam's version
// number, options in canonical order when the exam does not shuffle them.
func (q *pubQuestion) draw(seed uint64) (d drawn) {
	defer func() {
		// A template that panics fails the publish, not the server.
		if r := recover(); r != nil {
			d = drawn{err: fmt.Errorf("variant %d: %v", seed, r)}
		}
	}()
	v, err := q.t.Variant(seed)
	if err != nil {
		return drawn{err: err}
	}
	v.Version = q.q.Version
	if q.canonical != nil {
		canonicalOptions(v, q.canonical)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return drawn{err: fmt.Errorf("encode variant %d: %w", seed, err)}
	}
	return drawn{seed: seed, fp: q.t.Generator().Fingerprint(v.Params), json: b}
}

// canonicalOptions puts the options of each part whose option set is the
// canonical variant's back in the canonical order, relabelled A, B, …;
// options computed from the parameters (a different set per variant) keep
// the variant's order. Grading is by option identity, so keys are
// unchanged.
func canonicalOptions(v *bank.Variant, canonical map[string][]string) {
	for i := range v.Parts {
		spec := &v.Parts[i].Answer
		order := canonical[v.Parts[i].ID]
		if len(spec.Options) == 0 || len(order) != len(spec.Options) {
			continue
		}
		byID := make(map[string]grader.Option, len(spec.Options))
		for _, o := range spec.Options {
			byID[o.ID] = o
		}
		opts := make([]grader.Option, 0, len(order))
		for _, id := range order {
			o, ok := byID[id]
			if !ok {
				break
			}
			opts = append(opts, o)
		}
		if len(opts) != len(order) {
			continue
		}
		for j := range opts {
			opts[j].Label = string(rune('A' + j))
		}
		spec.Options = opts
	}
}

// questionOrder returns, for each question index, the 1-based place the
// student sees it at.
func questionOrder(e *marksmith.Exam, key string, n int) []int {
	order := make([]int, n)
	if !e.ShuffleQuestions {
		for i := range order {
			order[i] = i + 1
		}
		return order
	}
	for place, qi := range variants.Permutation(uint64(e.Seed), questionSalt+key, n) {
		order[qi] = place + 1
	}
	return order
}
