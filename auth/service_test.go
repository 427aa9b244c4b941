package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"spaceauth/auth"
)

// TestConcurrentGuessesAreCountedBeforeHashing holds the only hashing slot
// while a burst of guesses arrives: each is counted before it waits for a
// hash, so only the free five are checked.
func TestConcurrentGuessesAreCountedBeforeHashing(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t, func(c *auth.Config) { c.HashSlots = 1 })
	register(t, s, "burst@example.com")
	release, err := s.AcquireHash(auth.WithClientNetwork(t.Context(), "elsewhere"))
	require.NoError(t, err)

	codes := make(chan auth.Code, 33)
	var wg sync.WaitGroup
	for range 33 {
		wg.Go(func() { codes <- codeOf(logIn(s, "203.0.113.66", "burst@example.com", "wrong")) })
	}
	waitFor(t, func() bool { return len(codes) == 28 })
	release()
	wg.Wait()
	close(codes)
	count := map[auth.Code]int{}
	for c := range codes {
		count[c]++
	}
	assert.Equal(t, map[auth.Code]int{auth.CodeUnauthorized: 5, auth.CodeTooManyRequests: 28}, count)
}

// TestHashingQueueIsSharedFairly fills one network's share of the queue:
// its next request is shed while another network's is admitted, and freed
// slots go round-robin, not first come first served.
func TestHashingQueueIsSharedFairly(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t, func(c *auth.Config) { c.HashSlots, c.HashQueue = 1, 11 }) // 12 places, 3 per network
	register(t, s, "fair@example.com")
	flood := auth.WithClientNetwork(t.Context(), "203.0.113.66")
	running, err := s.AcquireHash(flood)
	require.NoError(t, err)

	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	enqueue := func(name string, ctx context.Context) {
		admitted := s.HashesAdmitted()
		wg.Go(func() {
			release, err := s.AcquireHash(ctx)
			if assert.NoError(t, err) {
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				release()
			}
		})
		waitFor(t, func() bool { return s.HashesAdmitted() == admitted+1 })
	}
	enqueue("flood 2", flood)
	enqueue("flood 3", flood)
	err = logIn(s, "203.0.113.66", "fair@example.com", strongPassword)
	assert.Equal(t, auth.ErrOverloaded, err)
	enqueue("other", auth.WithClientNetwork(t.Context(), "192.0.2.7"))

	login := make(chan error)
	go func() { login <- logIn(s, "198.51.100.7", "fair@example.com", strongPassword) }()
	waitFor(t, func() bool { return s.HashesAdmitted() == 5 })
	running()
	wg.Wait()
	assert.NoError(t, <-login)
	assert.Equal(t, []string{"flood 2", "other", "flood 3"}, order)
}

// TestFailedChecksLastAtLeastTheLegacyFloor: a wrong password costs the
// same whether the account still has a legacy bcrypt hash or not.
func TestFailedChecksLastAtLeastTheLegacyFloor(t *testing.T) {
	t.Parallel()
	s, store := newTestService(t, func(c *auth.Config) { c.EqualizeFailures = true })
	register(t, s, "modern@example.com")
	legacy, err := bcrypt.GenerateFromPassword([]byte(strongPassword), bcrypt.MinCost)
	require.NoError(t, err)
	u := register(t, s, "legacy@example.com")
	_, err = store.Exec("UPDATE users SET password_hash = $1 WHERE id = $2", string(legacy), u.ID)
	require.NoError(t, err)
	floor := auth.LegacyFloor()
	for _, email := range []string{"modern@example.com", "legacy@example.com", "nobody@example.com"} {
		start := time.Now()
		assert.Equal(t, auth.ErrBadCredentials, logIn(s, "198.51.100.7", email, "wrong password"))
		assert.GreaterOrEqual(t, time.Since(start), floor, email)
	}
	start := time.Now()
	assert.NoError(t, logIn(s, "198.51.100.7", "modern@example.com", strongPassword))
	t.Logf("legacy floor %v; a right password took %v", floor, time.Since(start))
}

// TestDecayedThrottleRecordsArePruned: a flood of one-off guesses at random
// emails leaves no rows behind once they have decayed, while an account
// under steady attack keeps its record.
func TestDecayedThrottleRecordsArePruned(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	s, store := newTestService(t, func(c *auth.Config) { c.Now = clock })
	register(t, s, "target@example.com")
	for i := range 200 {
		require.Equal(t, auth.ErrBadCredentials, logIn(s, "203.0.113.66", fmt.Sprintf("nobody%d@example.com", i), "guess"))
	}
	for range 5 {
		require.Equal(t, auth.ErrBadCredentials, logIn(s, "198.51.100.9", "target@example.com", "guess"))
	}
	rows := func() (n int) {
		require.NoError(t, store.QueryRow("SELECT count(*) FROM login_failures").Scan(&n))
		return n
	}
	require.Equal(t, 2*201, rows(), "per client and per account, for each email")

	advance(15 * time.Minute) // one failure has decayed; five have not
	_, _, err := s.Prune(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2, rows(), "only the target's records are left")
	assert.Equal(t, codeOf(logIn(s, "198.51.100.9", "target@example.com", "guess")), auth.CodeUnauthorized, "4.5 failures left: a free try")
}
