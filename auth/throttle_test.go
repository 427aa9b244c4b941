package auth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

func TestBackoffIsCappedAtFifteenMinutes(t *testing.T) {
	t.Parallel()
	lt := newLoginThrottle()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 40 {
		lt.add("c\x00a\x00n", now)
	}
	_, wait := lt.begin("a", "n", true, now)
	assert.Equal(t, 15*time.Minute, wait)
}

// TestConcurrentGuessesAreCountedBeforeHashing holds the only hashing slot
// while a burst of guesses arrives: each is counted before it waits for a
// hash, so only the free five are checked.
func TestConcurrentGuessesAreCountedBeforeHashing(t *testing.T) {
	t.Parallel()
	s := newTestService(t, func(c *Config) { c.HashSlots = 1 })
	register(t, s, "burst@example.com")
	release, err := s.hasher.acquire(WithClientNetwork(t.Context(), "elsewhere"))
	require.NoError(t, err)

	codes := make(chan Code, 33)
	var wg sync.WaitGroup
	for range 33 {
		wg.Go(func() { codes <- codeOf(logIn(s, "203.0.113.66", "burst@example.com", "wrong")) })
	}
	waitFor(t, func() bool { return len(codes) == 28 })
	release()
	wg.Wait()
	close(codes)
	count := map[Code]int{}
	for c := range codes {
		count[c]++
	}
	assert.Equal(t, map[Code]int{CodeUnauthorized: 5, CodeTooManyRequests: 28}, count)
}

func TestThrottleMemoryIsBounded(t *testing.T) {
	t.Parallel()
	lt := newLoginThrottle()
	lt.maxBytes = 64 << 10
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 20 {
		lt.add("c\x00u:target\x00n:attacker", now)
	}
	for i := range 20000 {
		lt.begin(fmt.Sprintf("e:%d-%s@example.com", i, strings.Repeat("x", 200)), "n:flood", false, now)
	}
	assert.LessOrEqual(t, lt.bytes, lt.maxBytes)
	assert.Less(t, len(lt.entries), 20000)
	_, wait := lt.begin("u:target", "n:attacker", false, now)
	assert.Positive(t, wait, "the account under attack keeps its record")
}

// TestHashingQueueIsSharedFairly fills one network's share of the queue:
// its next request is shed while another network's is admitted, and freed
// slots go round-robin, not first come first served.
func TestHashingQueueIsSharedFairly(t *testing.T) {
	t.Parallel()
	s := newTestService(t, func(c *Config) { c.HashSlots, c.HashQueue = 1, 11 }) // 12 places, 3 per network
	register(t, s, "fair@example.com")
	h := s.hasher
	flood := WithClientNetwork(t.Context(), "203.0.113.66")
	running, err := h.acquire(flood)
	require.NoError(t, err)

	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	enqueue := func(name string, ctx context.Context) {
		admitted := h.admitted
		wg.Go(func() {
			release, err := h.acquire(ctx)
			if assert.NoError(t, err) {
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				release()
			}
		})
		waitFor(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.admitted == admitted+1 })
	}
	enqueue("flood 2", flood)
	enqueue("flood 3", flood)
	err = logIn(s, "203.0.113.66", "fair@example.com", strongPassword)
	assert.Equal(t, errOverloaded, err)
	enqueue("other", WithClientNetwork(t.Context(), "192.0.2.7"))

	login := make(chan error)
	go func() { login <- logIn(s, "198.51.100.7", "fair@example.com", strongPassword) }()
	waitFor(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.admitted == 5 })
	running()
	wg.Wait()
	assert.NoError(t, <-login)
	assert.Equal(t, []string{"flood 2", "other", "flood 3"}, order)
}

// TestFailedChecksLastAtLeastTheLegacyFloor: a wrong password costs the
// same whether the account still has a legacy bcrypt hash or not.
func TestFailedChecksLastAtLeastTheLegacyFloor(t *testing.T) {
	t.Parallel()
	s := newTestService(t, func(c *Config) { c.EqualizeFailures = true })
	register(t, s, "modern@example.com")
	legacy, err := bcrypt.GenerateFromPassword([]byte(strongPassword), bcrypt.MinCost)
	require.NoError(t, err)
	u := register(t, s, "legacy@example.com")
	_, err = s.store.WriteDB().Exec("UPDATE users SET password_hash = ? WHERE id = ?", string(legacy), u.ID)
	require.NoError(t, err)
	floor := legacyFloor()
	for _, email := range []string{"modern@example.com", "legacy@example.com", "nobody@example.com"} {
		start := time.Now()
		assert.Equal(t, errBadCredentials, logIn(s, "198.51.100.7", email, "wrong password"))
		assert.GreaterOrEqual(t, time.Since(start), floor, email)
	}
	start := time.Now()
	assert.NoError(t, logIn(s, "198.51.100.7", "modern@example.com", strongPassword))
	t.Logf("legacy floor %v; a right password took %v", floor, time.Since(start))
}
