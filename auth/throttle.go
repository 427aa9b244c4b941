package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
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
// so the throttle reveals nothing. The records live in the database, read
// and written in one transaction per check, so replicas throttle as one and
// a restart forgives nothing; pruning deletes the fully decayed ones. The
// key that signs device tokens is kept there too, so a device is known to
// every replica.
type loginThrottle struct {
	store Store

	keyMu     sync.Mutex
	deviceKey []byte // loaded on first use
}

func newLoginThrottle(store Store) *loginThrottle { return &loginThrottle{store: store} }

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

// passwordCheck is one attempt, counted as a failure until succeeded or
// cancel says otherwise.
type passwordCheck struct {
	t             *loginThrottle
	client, total string // total is "" for known clients
}

// begin counts an attempt on account by client, or says how long to wait.
// A known client (a device or a session) is not held to the account's cap.
func (t *loginThrottle) begin(ctx context.Context, account, client string, known bool, now time.Time) (c passwordCheck, wait time.Duration, err error) {
	c = passwordCheck{t: t, client: recordKey("c", account, client)}
	if !known {
		c.total = recordKey("a", account)
	}
	err = t.store.InTx(ctx, func(q Tx) error {
		byClient, err := loadFailures(ctx, q, c.client)
		if err != nil {
			return err
		}
		wait = byClient.wait(now)
		var total failures
		if c.total != "" {
			if total, err = loadFailures(ctx, q, c.total); err != nil {
				return err
			}
			wait = max(wait, total.accountWait(now))
		}
		if wait > 0 {
			return nil
		}
		if err := saveFailures(ctx, q, c.client, byClient.plusOne(now)); err != nil || c.total == "" {
			return err
		}
		return saveFailures(ctx, q, c.total, total.plusOne(now))
	})
	if err != nil || wait > 0 {
		return passwordCheck{}, wait, err
	}
	return c, 0, nil
}

// succeeded clears the client's record and takes the attempt back from
// the account's.
func (c passwordCheck) succeeded(ctx context.Context) error {
	return c.t.store.InTx(context.WithoutCancel(ctx), func(q Tx) error {
		if err := q.DeleteLoginFailure(ctx, c.client); err != nil {
			return err
		}
		return undoFailure(ctx, q, c.total)
	})
}

// cancel takes the attempt back: the password was never checked.
func (c passwordCheck) cancel(ctx context.Context) error {
	return c.t.store.InTx(context.WithoutCancel(ctx), func(q Tx) error {
		if err := undoFailure(ctx, q, c.client); err != nil {
			return err
		}
		return undoFailure(ctx, q, c.total)
	})
}

// recordKey names a record by the SHA-256 of its parts: fixed length, any
// bytes in an email welcome, and no plain address kept for a failed guess.
func recordKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (f failures) plusOne(now time.Time) failures {
	return failures{score: f.current(now) + 1, at: now}
}

func loadFailures(ctx context.Context, q Tx, key string) (failures, error) {
	row, err := q.GetLoginFailure(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return failures{}, nil
	}
	return failures{score: row.Score, at: row.At}, err
}

// saveFailures stores f under key; the row is dead once f has decayed.
func saveFailures(ctx context.Context, q Tx, key string, f failures) error {
	if f.score <= 0 {
		return q.DeleteLoginFailure(ctx, key)
	}
	return q.PutLoginFailure(ctx, PutLoginFailureParams{
		Key: key, Score: f.score, At: f.at, ExpiresAt: f.at.Add(time.Duration(f.score * float64(failureDecay))),
	})
}

func undoFailure(ctx context.Context, q Tx, key string) error {
	if key == "" {
		return nil
	}
	f, err := loadFailures(ctx, q, key)
	if err != nil || f.score == 0 {
		return err
	}
	f.score = max(0, f.score-1)
	return saveFailures(ctx, q, key, f)
}

// key returns the key that signs device tokens: made by the first replica
// to need it, read by the others.
func (t *loginThrottle) key(ctx context.Context) ([]byte, error) {
	t.keyMu.Lock()
	defer t.keyMu.Unlock()
	if t.deviceKey != nil {
		return t.deviceKey, nil
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	var key []byte
	err := t.store.InTx(ctx, func(q Tx) error {
		if err := q.CreateServiceKey(ctx, CreateServiceKeyParams{Name: deviceKeyName, Secret: fresh}); err != nil {
			return err
		}
		var err error
		key, err = q.GetServiceKey(ctx, deviceKeyName)
		return err
	})
	if err != nil {
		return nil, err
	}
	t.deviceKey = key
	return key, nil
}

const deviceKeyName = "device-tokens"

const deviceNonceLen = 16

// deviceToken is given to a client at each login: it names a device of
// userID for the throttle, and is signed, so it cannot be made up.
func (t *loginThrottle) deviceToken(ctx context.Context, userID string) (string, error) {
	key, err := t.key(ctx)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, deviceNonceLen)
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(append(nonce, deviceMAC(key, userID, nonce)...)), nil
}

// device is the id of the device token names for userID, or "" when the
// token is not one this service gave to that user.
func (t *loginThrottle) device(ctx context.Context, token, userID string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != deviceNonceLen+sha256.Size/2 {
		return "", nil
	}
	key, err := t.key(ctx)
	if err != nil {
		return "", err
	}
	nonce, mac := raw[:deviceNonceLen], raw[deviceNonceLen:]
	if !hmac.Equal(mac, deviceMAC(key, userID, nonce)) {
		return "", nil
	}
	return base64.RawURLEncoding.EncodeToString(nonce), nil
}

func deviceMAC(key []byte, userID string, nonce []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(userID))
	m.Write([]byte{0})
	m.Write(nonce)
	return m.Sum(nil)[:sha256.Size/2]
}
