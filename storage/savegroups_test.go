package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

// openPostgresPair opens two databases on one fresh, migrated Postgres
// schema, as two server instances would, each with its own save groups.
func openPostgresPair(t *testing.T) (*DB, *DB) {
	t.Helper()
	dsn := testPostgresSchema(t)
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(t.Context(), dsn, nil)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		db.Now = func() time.Time { return testClock }
		dbs[i] = db
	}
	if err := dbs[0].Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return dbs[0], dbs[1]
}

// waitGroups waits until the save groups have n runners and q saves
// queued.
func waitGroups(t *testing.T, g *saveGroups, running, queued int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		g.mu.Lock()
		r, q := g.running, len(g.queue)
		g.mu.Unlock()
		if r == running && q == queued {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("save groups: %d running, %d queued; want %d and %d", r, q, running, queued)
		}
	}
}

// lockAttempt holds attempt id FOR UPDATE, as a close does, until the
// returned function is called.
func lockAttempt(t *testing.T, db *DB, id int64) func() {
	t.Helper()
	conn, err := db.sql.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), `BEGIN`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), `SELECT id FROM attempts WHERE id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := conn.ExecContext(context.Background(), `COMMIT`); err != nil {
			t.Error(err)
		}
		conn.Close()
	}
}

// TestSaveGroupOutcomes queues saves of every kind behind two groups held
// by locked attempts, so that they are written as one group, and checks
// that each gets the outcome it would get alone; two saves of one part
// never share a group.
func TestSaveGroupOutcomes(t *testing.T) {
	db := openTestDB(t, DialectPostgres)
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	db.groups.runners = 2
	f := newExamFixture(t, db)
	ctx := t.Context()
	store := NewStore(db)
	a0, a1, a2 := f.openAttempt(t, 0), f.openAttempt(t, 1), f.openAttempt(t, 2)
	s0, s1, s2 := f.students[0].ID, f.students[1].ID, f.students[2].ID
	at := func(s int) time.Time { return testClock.Add(time.Duration(s) * time.Second) }
	if out, err := store.SaveAnswer(ctx, &marksmith.Answer{AttemptID: a2.ID, Position: 1, Part: "b", Raw: "kept", Seq: 3, SavedAt: at(1)}, s2); err != nil || !out.Stored {
		t.Fatalf("first save: %+v, %v", out, err)
	}
	groups0 := db.groups.groups.Load()

	type result struct {
		out *marksmith.SaveOutcome
		err error
	}
	saves := []struct {
		a    *marksmith.Answer
		user int64
	}{
		// Two saves that hold both runners on locked attempts.
		{&marksmith.Answer{AttemptID: a0.ID, Position: 1, Part: "held", Raw: "h0", Seq: 1, SavedAt: at(2)}, s0},
		{&marksmith.Answer{AttemptID: a1.ID, Position: 1, Part: "held", Raw: "h1", Seq: 1, SavedAt: at(2)}, s1},
		// The group behind them.
		{&marksmith.Answer{AttemptID: a2.ID, Position: 1, Part: "a", Raw: "first", Seq: 5, SavedAt: at(3)}, s2},
		{&marksmith.Answer{AttemptID: a2.ID, Position: 1, Part: "b", Raw: "stale", Seq: 2, SavedAt: at(3)}, s2},
		{&marksmith.Answer{AttemptID: a2.ID, Position: 1, Part: "c", Raw: "not mine", Seq: 9, SavedAt: at(3)}, s0},
		{&marksmith.Answer{AttemptID: a2.ID, Position: 2, Part: "d", Raw: "too late", Seq: 9, SavedAt: testClock.Add(2 * time.Hour)}, s2},
		{&marksmith.Answer{AttemptID: a0.ID, Position: 2, Part: "x", Raw: "late but in grace", Seq: 1, SavedAt: testClock.Add(time.Hour + time.Second)}, s0},
		{&marksmith.Answer{AttemptID: a2.ID, Position: 1, Part: "a", Raw: "second", Seq: 6, SavedAt: at(4)}, s2},
	}
	release0, release1 := lockAttempt(t, db, a0.ID), lockAttempt(t, db, a1.ID)
	results := make([]result, len(saves))
	var wg sync.WaitGroup
	for i, sv := range saves {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := store.SaveAnswer(ctx, sv.a, sv.user)
			results[i] = result{out, err}
		}()
		// One at a time, so that the queue's order is the list's.
		switch i {
		case 0:
			waitGroups(t, db.groups, 1, 0)
		case 1:
			waitGroups(t, db.groups, 2, 0)
		default:
			waitGroups(t, db.groups, 2, i-1)
		}
	}
	release0()
	release1()
	wg.Wait()

	want := []struct {
		stored  bool
		refused string
		curRaw  string
		late    bool
	}{
		{true, "", "h0", false},
		{true, "", "h1", false},
		{true, "", "first", false},
		{false, "", "kept", false},
		{false, marksmith.SaveNoAttempt, "", false},
		{false, marksmith.SaveOverdue, "", false},
		{true, "", "late but in grace", true},
		{true, "", "second", false},
	}
	for i, w := range want {
		r := results[i]
		if r.err != nil {
			t.Errorf("save %d: %v", i, r.err)
			continue
		}
		cur := ""
		if r.out.Current != nil {
			cur = r.out.Current.Raw
		}
		if r.out.Stored != w.stored || r.out.Refused != w.refused || cur != w.curRaw || r.out.Late != w.late {
			t.Errorf("save %d (%s): stored %v refused %q current %q late %v; want %v %q %q %v",
				i, saves[i].a.Raw, r.out.Stored, r.out.Refused, cur, r.out.Late, w.stored, w.refused, w.curRaw, w.late)
		}
	}
	// A refusal carries the attempt as it is, when it is the saver's.
	if at := results[5].out.Attempt; at == nil || at.ID != a2.ID || at.Status != marksmith.AttemptOpen {
		t.Errorf("overdue save: attempt %+v, want attempt %d, open", at, a2.ID)
	}
	if at := results[4].out.Attempt; at != nil {
		t.Errorf("save to another's attempt: attempt %+v, want none", at)
	}
	// Two held groups, the group of six behind them, and the second save
	// of part a on its own after it.
	if got := db.groups.groups.Load() - groups0; got != 4 {
		t.Errorf("%d groups written, want 4", got)
	}
	if got := db.groups.saves.Load(); got != int64(len(saves)+1) {
		t.Errorf("%d saves written in groups, want %d", got, len(saves)+1)
	}
	answers, err := store.FindAnswers(ctx, a2.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ans := range answers {
		got = append(got, fmt.Sprintf("%d%s=%s/%d", ans.Position, ans.Part, ans.Raw, ans.Seq))
	}
	if fmt.Sprint(got) != "[1a=second/6 1b=kept/3]" {
		t.Errorf("attempt %d stores %v", a2.ID, got)
	}
}

// TestSaveGroupLeftBehind: a save whose request ends while it waits in
// the queue is answered with the request's error and never written.
func TestSaveGroupLeftBehind(t *testing.T) {
	db := openTestDB(t, DialectPostgres)
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	db.groups.runners = 1
	f := newExamFixture(t, db)
	store := NewStore(db)
	a0, a1 := f.openAttempt(t, 0), f.openAttempt(t, 1)
	release := lockAttempt(t, db, a0.ID)
	held := make(chan error, 1)
	go func() {
		_, err := store.SaveAnswer(t.Context(), &marksmith.Answer{AttemptID: a0.ID, Position: 1, Part: "a", Raw: "held", Seq: 1}, f.students[0].ID)
		held <- err
	}()
	waitGroups(t, db.groups, 1, 0)
	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := store.SaveAnswer(short, &marksmith.Answer{AttemptID: a1.ID, Position: 1, Part: "a", Raw: "gone", Seq: 1}, f.students[1].ID)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("save whose request ended: %v, want the deadline", err)
	}
	release()
	if err := <-held; err != nil {
		t.Fatalf("held save: %v", err)
	}
	waitGroups(t, db.groups, 0, 0)
	if answers, err := store.FindAnswers(t.Context(), a1.ID); err != nil || len(answers) != 0 {
		t.Fatalf("answers of the save that left: %+v, %v; want none", answers, err)
	}
}

// TestSaveGroupsRace has two instances on one database save the same
// parts of three attempts from many goroutines at once, in opposite orders
// (so their groups can deadlock and be written again one by one), hundreds
// of times: no save fails, and every part stores the newest save
// acknowledged as stored.
func TestSaveGroupsRace(t *testing.T) {
	dbA, dbB := openPostgresPair(t)
	f := newExamFixture(t, dbA)
	ctx := t.Context()
	stores := []*Store{NewStore(dbA), NewStore(dbB)}
	attempts := []*marksmith.Attempt{f.openAttempt(t, 0), f.openAttempt(t, 1), f.openAttempt(t, 2)}
	parts := []string{"a", "b", "c", "d"}
	rounds := 300
	if testing.Short() {
		rounds = 50
	}
	var seq atomic.Int64
	var mu sync.Mutex
	acked := map[answerKey]int64{}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			store := stores[w%2]
			for r := range rounds {
				i := (w + r) % len(attempts)
				p := parts[(r+w/2)%len(parts)]
				if w%2 == 1 {
					p = parts[len(parts)-1-(r+w/2)%len(parts)]
				}
				a := &marksmith.Answer{AttemptID: attempts[i].ID, Position: 1, Part: p, Raw: fmt.Sprintf("w%d r%d", w, r), Seq: seq.Add(1)}
				out, err := store.SaveAnswer(ctx, a, f.students[i].ID)
				if err != nil {
					t.Errorf("worker %d round %d: %v", w, r, err)
					return
				}
				if !out.Stored {
					if out.Refused != "" || out.Current == nil || out.Current.Seq <= a.Seq {
						t.Errorf("worker %d round %d: not stored, %+v (current %+v), though newer than what is stored", w, r, out, out.Current)
					}
					continue
				}
				mu.Lock()
				k := keyOf(a)
				acked[k] = max(acked[k], a.Seq)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, a := range attempts {
		answers, err := stores[0].FindAnswers(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, ans := range answers {
			if k := keyOf(ans); ans.Seq != acked[k] {
				t.Errorf("attempt %d part %s stores seq %d; the newest acknowledged is %d", a.ID, ans.Part, ans.Seq, acked[k])
			}
			delete(acked, keyOf(ans))
		}
	}
	if len(acked) != 0 {
		t.Errorf("acknowledged and not stored: %v", acked)
	}
	if n, g := dbA.groups.saves.Load()+dbB.groups.saves.Load(), dbA.groups.groups.Load()+dbB.groups.groups.Load(); n < int64(16*rounds) || g == 0 {
		t.Errorf("%d saves in %d groups", n, g)
	}
	t.Logf("%d saves written in %d groups", dbA.groups.saves.Load()+dbB.groups.saves.Load(), dbA.groups.groups.Load()+dbB.groups.groups.Load())
}
