package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/marksmith/marksmith"
)

// throttleRow is a row of throttle: a count of events under a key in the
// window that ends at ResetAt.
type throttleRow struct {
	Key     string `gorm:"primaryKey"`
	Count   int
	ResetAt time.Time
}

func (throttleRow) TableName() string { return "throttle" }

// ThrottleStore counts events in fixed windows in the database, so that
// every instance of the server sees the same counts. It implements
// marksmith.ThrottleStore.
type ThrottleStore struct{ db *DB }

var _ marksmith.ThrottleStore = (*ThrottleStore)(nil)

// NewThrottleStore returns the throttle store of db.
func NewThrottleStore(db *DB) *ThrottleStore { return &ThrottleStore{db: db} }

// hitSQL counts one event in one statement: a key whose window has ended
// starts a new one.
const hitSQL = `INSERT INTO throttle (key, count, reset_at) VALUES (?, 1, ?)
ON CONFLICT (key) DO UPDATE SET
	count = CASE WHEN throttle.reset_at <= ? THEN 1 ELSE throttle.count + 1 END,
	reset_at = CASE WHEN throttle.reset_at <= ? THEN excluded.reset_at ELSE throttle.reset_at END
RETURNING count, reset_at`

// Hit counts one event under key and returns the window's count and end.
func (s *ThrottleStore) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	now = dbTime(now)
	var rows []throttleRow
	q := hitSQL
	if s.db.dialect == DialectPostgres {
		q = `INSERT INTO throttle (key, count, reset_at) VALUES (CAST(? AS TEXT), 1, CAST(? AS TIMESTAMPTZ))
ON CONFLICT (key) DO UPDATE SET
	count = CASE WHEN throttle.reset_at <= CAST(? AS TIMESTAMPTZ) THEN 1 ELSE throttle.count + 1 END,
	reset_at = CASE WHEN throttle.reset_at <= CAST(? AS TIMESTAMPTZ) THEN excluded.reset_at ELSE throttle.reset_at END
RETURNING count, reset_at`
	}
	err := s.db.gorm.WithContext(ctx).Raw(q, key, now.Add(window), now, now).Scan(&rows).Error
	if err != nil {
		return 0, time.Time{}, translate(err, fmt.Sprintf("throttle %s", key))
	}
	if len(rows) != 1 {
		return 0, time.Time{}, fmt.Errorf("throttle %s: the upsert returned %d rows", key, len(rows))
	}
	return rows[0].Count, rows[0].ResetAt.UTC(), nil
}

// Peek returns the count under key and its window's end; 0 when the
// window has ended or the key is unknown.
func (s *ThrottleStore) Peek(ctx context.Context, key string, now time.Time) (int, time.Time, error) {
	var rows []throttleRow
	err := s.db.gorm.WithContext(ctx).Where("key = ? AND reset_at > ?", key, dbTime(now)).Limit(1).Find(&rows).Error
	if err != nil {
		return 0, time.Time{}, translate(err, fmt.Sprintf("throttle %s", key))
	}
	if len(rows) == 0 {
		return 0, time.Time{}, nil
	}
	return rows[0].Count, rows[0].ResetAt.UTC(), nil
}

// Clear forgets key.
func (s *ThrottleStore) Clear(ctx context.Context, key string) error {
	err := s.db.gorm.WithContext(ctx).Where("key = ?", key).Delete(&throttleRow{}).Error
	return translate(err, fmt.Sprintf("throttle %s", key))
}

// PruneThrottle deletes the counts whose windows ended before now.
func (s *ThrottleStore) PruneThrottle(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.gorm.WithContext(ctx).Where("reset_at <= ?", dbTime(now)).Delete(&throttleRow{})
	return res.RowsAffected, translate(res.Error, "prune throttle")
}
