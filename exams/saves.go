package exams

import (
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/grader"
)

// defaultPartCacheSize bounds the papers whose parsers a Service keeps: a
// class of 3,000 students × 8 questions, and then some.
const defaultPartCacheSize = 40000

// paperParts is what a save needs of one question of one attempt's paper:
// whose it is, and a parser per part, compiled once.
type paperParts struct {
	userID  int64
	parsers map[string]*grader.Parser
}

// partKey names one question of one attempt.
type partKey struct {
	attempt  int64
	position int
}

// partCache keeps paperParts by attempt and question, least recently
// used first out. An attempt's papers never change once it exists (a
// paper is written once at publish, an attempt's ID is never reused, and
// papers are deleted only for students without attempts), so an entry is
// never stale and needs no invalidation; several server instances may
// each keep their own.
type partCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // of *partEntry, most recent first
	items map[partKey]*list.Element
}

type partEntry struct {
	key   partKey
	parts *paperParts
}

func newPartCache(max int) *partCache {
	return &partCache{max: max, ll: list.New(), items: map[partKey]*list.Element{}}
}

func (c *partCache) get(k partKey) *paperParts {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*partEntry).parts
	}
	return nil
}

func (c *partCache) put(k partKey, p *paperParts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		el.Value.(*partEntry).parts = p
		c.ll.MoveToFront(el)
		return
	}
	c.items[k] = c.ll.PushFront(&partEntry{key: k, parts: p})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*partEntry).key)
	}
}

// parser returns the parser of one part of one question of the student's
// attempt: from the cache, or by reading that one question's paper (one
// query) and compiling its parts. ENOTFOUND when the attempt is not the
// student's, or the question or part does not exist.
func (s *Service) parser(ctx context.Context, student *marksmith.User, attemptID int64, question int, part string) (*grader.Parser, error) {
	k := partKey{attemptID, question}
	pp := s.parts.get(k)
	if pp == nil || pp.userID != student.ID {
		p, err := s.store.FindAttemptPaper(ctx, attemptID, student.ID, question)
		if isCode(err, marksmith.ENOTFOUND) {
			// Tell a missing question from an attempt that is not theirs.
			if a, ferr := s.store.FindAttemptByID(ctx, attemptID); ferr == nil && a.UserID == student.ID {
				return nil, marksmith.Errorf(marksmith.ENOTFOUND, "The exam has no question %d.", question)
			}
			return nil, attemptNotFound(attemptID)
		} else if err != nil {
			return nil, fmt.Errorf("attempt %d question %d: paper: %w", attemptID, question, err)
		}
		// Only the parts' answer specs: not the prompts, not the
		// parameters.
		var specs struct {
			Parts []struct {
				ID     string      `json:"id"`
				Answer grader.Spec `json:"answer"`
			} `json:"parts"`
		}
		if err := json.Unmarshal(p.Variant, &specs); err != nil {
			return nil, fmt.Errorf("exam %d student %d question %d: stored variant: %w", p.ExamID, p.UserID, p.Position, err)
		}
		pp = &paperParts{userID: student.ID, parsers: make(map[string]*grader.Parser, len(specs.Parts))}
		for i := range specs.Parts {
			pr, err := grader.NewParser(&specs.Parts[i].Answer)
			if err != nil {
				return nil, fmt.Errorf("attempt %d question %d: %w", attemptID, question, err)
			}
			pp.parsers[specs.Parts[i].ID] = pr
		}
		s.parts.put(k, pp)
	}
	pr := pp.parsers[part]
	if pr == nil {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "Question %d has no part %q.", question, part)
	}
	return pr, nil
}
