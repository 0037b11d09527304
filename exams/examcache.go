package exams

import (
	"context"
	"sync"

	"github.com/marksmith/marksmith"
)

// examCacheSize bounds how many decoded exams a server keeps: the exams
// being sat at once, with room to spare.
const examCacheSize = 256

// examCache keeps decoded exams by id, each at the version it was read
// at. A caller that has just read an exam's version beside other data (a
// roster entry, an attempt) asks for that version: a cached copy of
// another version is never returned, so every instance serves the exam's
// current state without being told of changes. Cached exams are shared:
// callers must not modify them.
type examCache struct {
	mu    sync.Mutex
	exams map[int64]*marksmith.Exam
}

func newExamCache() *examCache { return &examCache{exams: map[int64]*marksmith.Exam{}} }

func (c *examCache) get(id, version int64) *marksmith.Exam {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.exams[id]; e != nil && e.Version == version {
		return e
	}
	return nil
}

func (c *examCache) put(e *marksmith.Exam) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.exams[e.ID]; old != nil && old.Version > e.Version {
		return // a newer read got here first
	}
	if _, ok := c.exams[e.ID]; !ok && len(c.exams) >= examCacheSize {
		for id := range c.exams { // any one: a miss costs one read
			delete(c.exams, id)
			break
		}
	}
	c.exams[e.ID] = e
}

// examAt returns exam id at version (as a query beside it read it): the
// cached copy when it is that version, else the stored exam, cached. A
// version of 0 always reads the store.
func (s *Service) examAt(ctx context.Context, id, version int64) (*marksmith.Exam, error) {
	if version > 0 {
		if e := s.exams.get(id, version); e != nil {
			return e, nil
		}
	}
	e, err := s.store.FindExamByID(ctx, id)
	if err != nil {
		return nil, err
	}
	s.exams.put(e)
	return e, nil
}
