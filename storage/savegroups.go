package storage

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marksmith/marksmith"
)

// Saves on PostgreSQL are committed in groups. A save joins a queue; while
// fewer than saveRunners groups are being written, a runner takes every
// save waiting (up to saveGroupMax, first come first served) and writes
// them in one statement and one commit, then answers each. With one student
// saving, a group is that one save, sent at once; with hundreds saving at
// the same moment, one round trip, one statement and one commit serve
// dozens of them, which is what a database on a few cores can afford. Each
// save is acknowledged only after the commit that holds it, and is checked
// in the statement exactly as a single save is (ownership, the account,
// the window, the deadline and seq, under a share lock on the attempt).
//
// Two saves of the same part never travel in one group, nor in two groups
// at once: the second waits for the first's group to finish, so a
// statement never updates a row twice, and two groups never wait for each
// other's rows.

// saveGroupMax is the most saves written in one statement.
const saveGroupMax = 128

// saveRunners is how many groups are written at once: one per core, and
// at least two, so that a group waiting for a lock (an attempt being
// closed) does not hold up every other save.
func saveRunners() int { return max(2, runtime.GOMAXPROCS(0)) }

// saveGroupTimeout bounds one group's statement. A save whose request
// ends first stops waiting for it (and is not acknowledged).
const saveGroupTimeout = time.Minute

// The statement of a group, and of a single save on PostgreSQL: insert
// each answer of the input arrays (attempt, user, time, question, part,
// answer, seq, format error), or overwrite the stored one when its seq is
// lower, only while the attempt belongs to the saver (an enabled account),
// is open and is within its grace at that time; return the rows stored,
// when, and whether after the deadline. The attempts are share-locked (FOR
// SHARE, in ID order), so a save waits for a close that holds one
// (LockAttempt) and is then evaluated again on the closed row: a save
// either lands before the close, and is graded, or is refused.
const saveAnswersPostgres = `WITH i AS (
	SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::int[], $5::text[], $6::text[], $7::bigint[], $8::text[])
		AS i(attempt_id, user_id, saved_at, question, part, raw, seq, format_error)
), a AS (
	SELECT attempts.id, attempts.user_id, attempts.grace_until, attempts.deadline_at
	FROM attempts JOIN users u ON u.id = attempts.user_id
	WHERE attempts.id = ANY($1::bigint[]) AND attempts.status = 'open' AND NOT u.disabled AND NOT u.must_change_password
	ORDER BY attempts.id
	FOR SHARE OF attempts
)
INSERT INTO answers (attempt_id, question, part, raw, seq, format_error, saved_at)
SELECT i.attempt_id, i.question, i.part, i.raw, i.seq, i.format_error, i.saved_at
FROM i JOIN a ON a.id = i.attempt_id AND a.user_id = i.user_id AND a.grace_until >= i.saved_at
ON CONFLICT (attempt_id, question, part) DO UPDATE
SET raw = excluded.raw, seq = excluded.seq, format_error = excluded.format_error, saved_at = excluded.saved_at
WHERE answers.seq < excluded.seq
RETURNING attempt_id, question, part, saved_at, saved_at > (SELECT deadline_at FROM a WHERE a.id = answers.attempt_id)`

// answerKey names one part of one question of one attempt.
type answerKey struct {
	attempt  int64
	question int
	part     string
}

// pendingSave is one save waiting for its group.
type pendingSave struct {
	a      *marksmith.Answer
	userID int64
	at     time.Time
	done   chan groupResult // buffered: the runner never waits for the saver
	gone   bool             // the saver stopped waiting while it was queued (under saveGroups.mu)
}

// groupResult is what a group's statement said of one save.
type groupResult struct {
	stored  bool
	savedAt time.Time
	late    bool
	refused *marksmith.SaveOutcome // when not stored: why (nil: not asked)
	err     error
}

// saveGroups is the queue of saves and its runners.
type saveGroups struct {
	db      *DB
	runners int // the most groups written at once

	mu       sync.Mutex
	queue    []*pendingSave
	inflight map[answerKey]bool
	running  int

	groups, saves atomic.Int64 // statements run, and the saves they carried
}

func newSaveGroups(db *DB) *saveGroups {
	return &saveGroups{db: db, runners: saveRunners(), inflight: map[answerKey]bool{}}
}

// save queues one save and waits for its group's commit (or ctx).
func (g *saveGroups) save(ctx context.Context, a *marksmith.Answer, userID int64, at time.Time) (groupResult, error) {
	p := &pendingSave{a: a, userID: userID, at: at, done: make(chan groupResult, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, p)
	if g.running < g.runners {
		g.running++
		go g.run()
	}
	g.mu.Unlock()
	select {
	case r := <-p.done:
		return r, nil
	case <-ctx.Done():
		g.mu.Lock()
		p.gone = true
		g.mu.Unlock()
		return groupResult{}, ctx.Err()
	}
}

// run writes groups until no save is waiting that it may take. (A save
// left waiting because its part is in flight is taken by the runner of
// that part's group when it comes back for more.)
func (g *saveGroups) run() {
	for {
		g.mu.Lock()
		group := g.take()
		if len(group) == 0 {
			g.running--
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.write(group)
		g.mu.Lock()
		for _, p := range group {
			delete(g.inflight, keyOf(p.a))
		}
		g.mu.Unlock()
	}
}

// take removes from the queue, in order, the saves of the next group: up
// to saveGroupMax, none of a part already in flight or in the group. Saves
// whose saver has gone are dropped. Called with g.mu held.
func (g *saveGroups) take() []*pendingSave {
	var group []*pendingSave
	rest := g.queue[:0]
	for _, p := range g.queue {
		switch k := keyOf(p.a); {
		case p.gone:
		case len(group) < saveGroupMax && !g.inflight[k]:
			g.inflight[k] = true
			group = append(group, p)
		default:
			rest = append(rest, p)
		}
	}
	clear(g.queue[len(rest):])
	g.queue = rest
	return group
}

func keyOf(a *marksmith.Answer) answerKey { return answerKey{a.AttemptID, a.Position, a.Part} }

// write runs one group's statement and answers each of its saves. A
// group that fails for any reason but an unavailable database (a deadlock
// with another instance saving the same parts in the other order, say) is
// written again one save at a time, so that no save fails for another's
// sake.
func (g *saveGroups) write(group []*pendingSave) {
	ctx, cancel := context.WithTimeout(context.Background(), saveGroupTimeout)
	defer cancel()
	res, err := writeGroup(ctx, g.db.sql, group)
	g.groups.Add(1)
	g.saves.Add(int64(len(group)))
	if err != nil && len(group) > 1 && !unavailable(err) {
		for _, p := range group {
			g.write([]*pendingSave{p})
		}
		return
	}
	if err == nil {
		err = refusals(ctx, g.db.sql, group, res)
	}
	for i, p := range group {
		if err != nil {
			p.done <- groupResult{err: err}
			continue
		}
		p.done <- res[i]
	}
}

// refusals says, in one more statement for the whole group, why each save
// of the group that stored nothing was refused (or found stale), so that
// a storm of refusals (everyone's last save after the grace) costs a round
// trip per group, not per save.
func refusals(ctx context.Context, q querier, group []*pendingSave, res []groupResult) error {
	var idx []int
	for i := range res {
		if !res[i].stored {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	ids, users := make([]int64, len(idx)), make([]int64, len(idx))
	questions, parts := make([]int64, len(idx)), make([]string, len(idx))
	for j, i := range idx {
		p := group[i].a
		ids[j], users[j], questions[j], parts[j] = p.AttemptID, group[i].userID, int64(p.Position), p.Part
		res[i].refused = &marksmith.SaveOutcome{Refused: marksmith.SaveNoAttempt} // unless a row says otherwise
	}
	rows, err := q.QueryContext(ctx, `SELECT i.n, `+saveDiagColumns+`
	FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::text[]) WITH ORDINALITY AS i(attempt_id, user_id, question, part, n)
	JOIN attempts a ON a.id = i.attempt_id AND a.user_id = i.user_id
	JOIN users u ON u.id = a.user_id
	LEFT JOIN answers ans ON ans.attempt_id = a.id AND ans.question = i.question AND ans.part = i.part`,
		ids, users, questions, parts)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var n int64
		w, err := scanRefusal(rows, &n)
		if err != nil {
			return err
		}
		if n < 1 || int(n) > len(idx) {
			return fmt.Errorf("refusals of a group: row %d of %d", n, len(idx))
		}
		i := idx[n-1]
		res[i].refused = w.outcome(group[i].a, group[i].at)
	}
	return rows.Err()
}

// writeGroup runs the statement of a group on q: res[i] says whether
// group[i] was stored.
func writeGroup(ctx context.Context, q querier, group []*pendingSave) ([]groupResult, error) {
	n := len(group)
	ids, users, seqs := make([]int64, n), make([]int64, n), make([]int64, n)
	ats := make([]time.Time, n)
	questions := make([]int64, n)
	parts, raws, formatErrors := make([]string, n), make([]string, n), make([]string, n)
	index := make(map[answerKey]int, n)
	for i, p := range group {
		ids[i], users[i], ats[i] = p.a.AttemptID, p.userID, p.at
		questions[i], parts[i], raws[i], seqs[i], formatErrors[i] = int64(p.a.Position), p.a.Part, p.a.Raw, p.a.Seq, p.a.FormatError
		index[keyOf(p.a)] = i
	}
	rows, err := q.QueryContext(ctx, saveAnswersPostgres, ids, users, ats, questions, parts, raws, seqs, formatErrors)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	res := make([]groupResult, n)
	for rows.Next() {
		var k answerKey
		var saved anyTime
		var late bool
		if err := rows.Scan(&k.attempt, &k.question, &k.part, &saved, &late); err != nil {
			return nil, err
		}
		i, ok := index[k]
		if !ok {
			return nil, fmt.Errorf("group save returned a row it was not given: attempt %d question %d part %s", k.attempt, k.question, k.part)
		}
		res[i] = groupResult{stored: true, savedAt: saved.Time.UTC(), late: late}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return res, nil
}
