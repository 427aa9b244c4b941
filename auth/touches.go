package auth

import (
	"context"
	"maps"
	"sync"
	"time"
)

// touchFlushInterval is how long session uses wait in memory before one
// transaction writes them all (Service.Run's timer).
const touchFlushInterval = 5 * time.Second

// touches batches last_used_at updates, so that authenticating stays a read:
// at a million sessions nearly every request is a session's first use in its
// minute, and one write each would put every request behind the single
// writer. A crash loses at most a few seconds of use times, which only
// matter against an idle timeout measured in hours.
type touches struct {
	store Store

	flushMu sync.Mutex // one flush at a time

	mu      sync.Mutex
	pending map[string]use // by token hash, known before the session is read
}

type use struct {
	sessionID string
	at        time.Time
}

func newTouches(store Store) *touches {
	return &touches{store: store, pending: map[string]use{}}
}

// pendingUse returns the newest unwritten use of the session a token opens.
// Call it before reading the session: a use leaves the pending set only
// after it is committed, so the later read then sees it either way.
func (t *touches) pendingUse(tokenHash []byte) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending[string(tokenHash)].at
}

// record notes a session's use at now, to be written by the next flush.
func (t *touches) record(tokenHash []byte, sessionID string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending[string(tokenHash)] = use{sessionID: sessionID, at: now}
}

// flush writes the pending uses in one transaction. They stay pending (and
// visible to pendingUse) until it commits; failed ones wait for the next.
func (t *touches) flush(ctx context.Context) error {
	t.flushMu.Lock()
	defer t.flushMu.Unlock()
	t.mu.Lock()
	batch := maps.Clone(t.pending)
	t.mu.Unlock()
	err := t.store.InTx(ctx, func(q Tx) error {
		for _, u := range batch {
			if err := q.TouchSession(ctx, TouchSessionParams{LastUsedAt: u.at, ID: u.sessionID}); err != nil {
				return err
			}
		}
		return nil
	})
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		for hash, u := range batch {
			if t.pending[hash] == u { // not used again meanwhile
				delete(t.pending, hash)
			}
		}
	}
	return err
}
