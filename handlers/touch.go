package handlers

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"spaceauth/db"
)

// touchFlushInterval is how long session uses wait in memory before one
// transaction writes them all.
const touchFlushInterval = 5 * time.Second

// touches batches last_used_at updates, so that authenticating stays a read:
// at a million sessions nearly every request is a session's first use in its
// minute, and one write each would put every request behind the single
// writer. A crash loses at most a few seconds of use times, which only
// matter against an idle timeout measured in hours.
type touches struct {
	store  *db.Store
	logger *slog.Logger

	flushMu sync.Mutex // one flush at a time, so a flush returns only after earlier ones

	mu        sync.Mutex
	pending   map[string]time.Time // session id -> last use
	lastFlush time.Time
	flushing  bool
}

func newTouches(store *db.Store, logger *slog.Logger) *touches {
	return &touches{store: store, logger: logger, pending: map[string]time.Time{}}
}

// record notes a session's use at now and, when the interval has passed,
// starts writing the batch in the background.
func (t *touches) record(sessionID string, now time.Time) {
	t.mu.Lock()
	t.pending[sessionID] = now
	due := !t.flushing && now.Sub(t.lastFlush) >= touchFlushInterval
	if due {
		t.flushing = true
		t.lastFlush = now
	}
	t.mu.Unlock()
	if due {
		go func() {
			if err := t.flush(context.Background()); err != nil {
				t.logger.Warn("could not record session use; will retry", "err", err)
			}
		}()
	}
}

// lastUse is the later of stored, the use time in the database, and a use
// still waiting to be written.
func (t *touches) lastUse(sessionID string, stored time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if pending, ok := t.pending[sessionID]; ok && pending.After(stored) {
		return pending
	}
	return stored
}

// flush writes the pending uses in one transaction. Failed ones stay
// pending for the next flush.
func (t *touches) flush(ctx context.Context) error {
	t.flushMu.Lock()
	defer t.flushMu.Unlock()
	t.mu.Lock()
	batch := t.pending
	t.pending = map[string]time.Time{}
	t.mu.Unlock()
	err := t.store.Tx(ctx, func(q *db.Queries) error {
		for id, at := range batch {
			if err := q.TouchSession(ctx, db.TouchSessionParams{LastUsedAt: at, ID: id}); err != nil {
				return err
			}
		}
		return nil
	})
	t.mu.Lock()
	defer t.mu.Unlock()
	t.flushing = false
	if err != nil {
		for id, at := range batch {
			if later, ok := t.pending[id]; !ok || later.Before(at) {
				t.pending[id] = at
			}
		}
	}
	return err
}
