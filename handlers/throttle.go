package handlers

import (
	"sync"
	"time"
)

const (
	freeLoginFailures = 5
	maxLoginBackoff   = 15 * time.Minute
)

// loginThrottle slows guessing against one account: after
// freeLoginFailures consecutive failures, each next attempt must wait 1 s,
// doubling per failure up to maxLoginBackoff. It is keyed by the normalised
// email whether or not the account exists, so it reveals nothing, and held
// in memory: a restart forgives, which costs an attacker far more time than
// it saves.
type loginThrottle struct {
	mu        sync.Mutex
	accounts  map[string]*loginFailures
	lastSweep time.Time
}

type loginFailures struct {
	count        int
	blockedUntil time.Time
}

func newLoginThrottle() *loginThrottle {
	return &loginThrottle{accounts: map[string]*loginFailures{}}
}

// wait returns how long until email may try again, or 0.
func (t *loginThrottle) wait(email string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f, ok := t.accounts[email]; ok && now.Before(f.blockedUntil) {
		return f.blockedUntil.Sub(now)
	}
	return 0
}

func (t *loginThrottle) fail(email string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.lastSweep) > time.Minute {
		for k, f := range t.accounts { // forget failures nobody followed up for a long while
			if now.Sub(f.blockedUntil) > maxLoginBackoff {
				delete(t.accounts, k)
			}
		}
		t.lastSweep = now
	}
	f, ok := t.accounts[email]
	if !ok {
		f = &loginFailures{}
		t.accounts[email] = f
	}
	f.count++
	f.blockedUntil = now
	if over := f.count - freeLoginFailures; over >= 0 {
		backoff := maxLoginBackoff
		if over < 20 {
			backoff = min(time.Second<<over, maxLoginBackoff)
		}
		f.blockedUntil = now.Add(backoff)
	}
}

func (t *loginThrottle) succeed(email string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.accounts, email)
}
