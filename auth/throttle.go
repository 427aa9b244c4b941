package auth

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"math"
	"slices"
	"sync"
	"time"
)

const (
	// freeFailures per client and account pass before the back-off starts:
	// then each next attempt waits 1 s, doubling per failure up to
	// maxBackoff.
	freeFailures = 5
	maxBackoff   = 15 * time.Minute
	// failureDecay forgives one failure per this much time, so a guess now
	// and then never keeps an account blocked: a stranger settles at about
	// one guess per failureDecay per network.
	failureDecay = 10 * time.Minute
	// accountFailureCap bounds the failures from unknown clients on one
	// account across all networks (NIST SP 800-63B allows at most 100);
	// beyond it, only known devices may try.
	accountFailureCap = 100
	// maxThrottleBytes bounds the throttle's memory; entryOverhead is an
	// entry's estimated cost beyond its key.
	maxThrottleBytes = 32 << 20
	entryOverhead    = 96
)

// loginThrottle slows password guessing without letting a stranger lock
// the owner out (OWASP's device cookies, ASVS 6.3.1). Every password check
// is counted before its hash runs, against two records:
//
//   - the account and the client: a device token the account's own logins
//     were given, else the session the check is made in, else the client
//     network. A stranger's failures slow only the stranger's network;
//   - for unknown clients (networks), the account as a whole, capped at
//     accountFailureCap, so guessing from many networks is bounded too.
//     Known devices are not held back by it.
//
// Failures decay (one per failureDecay); a success clears its client's
// record. Accounts that do not exist are counted by email, the same way,
// so the throttle reveals nothing. It lives in memory, bounded by
// maxThrottleBytes: a restart forgives, and device tokens are signed with a
// per-process key, so a restart makes every client unknown again.
type loginThrottle struct {
	deviceKey []byte

	mu        sync.Mutex
	entries   map[string]*failures
	bytes     int
	maxBytes  int
	lastSweep time.Time
}

// failures is a decaying count: score as of at, the last failure.
type failures struct {
	score float64
	at    time.Time
}

func (f *failures) current(now time.Time) float64 {
	return max(0, f.score-float64(now.Sub(f.at))/float64(failureDecay))
}

// wait is how long until a client with these failures may try again.
func (f *failures) wait(now time.Time) time.Duration {
	failed := int(math.Ceil(f.score)) // a failure partly decayed still counts
	if failed < freeFailures {
		return 0
	}
	backoff := maxBackoff
	if over := failed - freeFailures; over < 20 {
		backoff = min(time.Second<<over, maxBackoff)
	}
	return max(0, f.at.Add(backoff).Sub(now))
}

// accountWait is how long until unknown clients may try the account again.
func (f *failures) accountWait(now time.Time) time.Duration {
	if over := f.current(now) - accountFailureCap; over >= 0 {
		return time.Duration((math.Floor(over) + 1) * float64(failureDecay))
	}
	return 0
}

func newLoginThrottle() *loginThrottle {
	key := make([]byte, 32)
	rand.Read(key)
	return &loginThrottle{deviceKey: key, entries: map[string]*failures{}, maxBytes: maxThrottleBytes}
}

// passwordCheck is one attempt, counted as a failure until succeeded or
// cancel says otherwise.
type passwordCheck struct {
	t             *loginThrottle
	client, total string // total is "" for known clients
}

// begin counts an attempt on account by client, or says how long to wait.
// A known client (a device or a session) is not held to the account's cap.
func (t *loginThrottle) begin(account, client string, known bool, now time.Time) (passwordCheck, time.Duration) {
	c := passwordCheck{t: t, client: "c\x00" + account + "\x00" + client}
	if !known {
		c.total = "a\x00" + account
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	if f := t.entries[c.client]; f != nil {
		wait = f.wait(now)
	}
	if f := t.entries[c.total]; f != nil && c.total != "" {
		wait = max(wait, f.accountWait(now))
	}
	if wait > 0 {
		return passwordCheck{}, wait
	}
	t.add(c.client, now)
	if c.total != "" {
		t.add(c.total, now)
	}
	return c, 0
}

// succeeded clears the client's record and takes the attempt back from
// the account's.
func (c passwordCheck) succeeded() {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	c.t.remove(c.client)
	c.t.undo(c.total)
}

// cancel takes the attempt back: the password was never checked.
func (c passwordCheck) cancel() {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	c.t.undo(c.client)
	c.t.undo(c.total)
}

func (t *loginThrottle) add(key string, now time.Time) {
	f := t.entries[key]
	if f == nil {
		t.makeRoom(len(key)+entryOverhead, now)
		f = &failures{}
		t.entries[key] = f
		t.bytes += len(key) + entryOverhead
	}
	f.score = f.current(now) + 1
	f.at = now
}

func (t *loginThrottle) undo(key string) {
	if f := t.entries[key]; f != nil {
		f.score = max(0, f.score-1)
	}
}

func (t *loginThrottle) remove(key string) {
	if _, ok := t.entries[key]; ok {
		delete(t.entries, key)
		t.bytes -= len(key) + entryOverhead
	}
}

// makeRoom forgets fully decayed records every minute and, when need more
// bytes would pass the bound, the quarter of records with the fewest
// failures: a flood of one-off guesses at random emails cannot push out
// the record of an account under real attack.
func (t *loginThrottle) makeRoom(need int, now time.Time) {
	if now.Sub(t.lastSweep) > time.Minute {
		for k, f := range t.entries {
			if f.current(now) == 0 {
				t.remove(k)
			}
		}
		t.lastSweep = now
	}
	if t.bytes+need <= t.maxBytes {
		return
	}
	keys := make([]string, 0, len(t.entries))
	for k := range t.entries {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(t.entries[a].current(now), t.entries[b].current(now)) })
	for _, k := range keys[:max(1, len(keys)/4)] {
		t.remove(k)
	}
}

const deviceNonceLen = 16

// deviceToken is given to a client at each login: it names a device of
// userID for the throttle, and is signed, so it cannot be made up.
func (t *loginThrottle) deviceToken(userID string) string {
	nonce := make([]byte, deviceNonceLen)
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(append(nonce, t.deviceMAC(userID, nonce)...))
}

// device is the id of the device token names for userID, or "" when the
// token is not one this process gave to that user.
func (t *loginThrottle) device(token, userID string) string {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != deviceNonceLen+sha256.Size/2 {
		return ""
	}
	nonce, mac := raw[:deviceNonceLen], raw[deviceNonceLen:]
	if !hmac.Equal(mac, t.deviceMAC(userID, nonce)) {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(nonce)
}

func (t *loginThrottle) deviceMAC(userID string, nonce []byte) []byte {
	m := hmac.New(sha256.New, t.deviceKey)
	m.Write([]byte(userID))
	m.Write([]byte{0})
	m.Write(nonce)
	return m.Sum(nil)[:sha256.Size/2]
}
