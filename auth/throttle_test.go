package auth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBackoffIsCappedAtFifteenMinutes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := failures{score: 40, at: now}
	assert.Equal(t, 15*time.Minute, f.wait(now))
	first, free := failures{score: 5, at: now}, failures{score: 4, at: now}
	assert.Equal(t, time.Second, first.wait(now), "the first wait after the free failures")
	assert.Zero(t, free.wait(now))
}
