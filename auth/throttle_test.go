package auth

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
