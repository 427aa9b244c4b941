package handlers

import (
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"spaceauth/auth"
)

// TestLoginFloodStaysWithinTheHashingBound sends 1000 concurrent logins for
// one user with the production hash parameters. Hashing slots bound the
// memory: without them, 1000 argon2id hashes would need ~19 GiB. Not
// parallel, so the heap it reads is its own.
func TestLoginFloodStaysWithinTheHashingBound(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes for real")
	}
	const slots, queue, logins = 2, 16, 1000
	api := newTestAPI(t, func(c *testConfig) {
		c.Argon2 = auth.DefaultArgon2
		c.HashSlots, c.HashQueue = slots, queue
	})
	api.register("flood@example.com", strongPassword)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	var wg sync.WaitGroup
	var ok, shed, other atomic.Int64
	for range logins {
		wg.Go(func() {
			w := api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "flood@example.com", "password": strongPassword}})
			switch {
			case w.Code == http.StatusOK:
				ok.Add(1)
			case (w.Code == http.StatusServiceUnavailable || w.Code == http.StatusTooManyRequests) && w.Header().Get("Retry-After") != "":
				shed.Add(1)
			default:
				other.Add(1)
			}
		})
	}
	wg.Wait()
	close(stop)
	<-sampled

	const hashMemory = 19456 << 10
	grew := int64(peak.Load()) - int64(before.HeapAlloc)
	bound := int64(4*slots*hashMemory + 32<<20)
	t.Logf("%d ok, %d shed; heap grew %.1f MiB at peak (bound %.1f MiB)", ok.Load(), shed.Load(), float64(grew)/(1<<20), float64(bound)/(1<<20))
	require.Zero(t, other.Load(), "every login either succeeds or is shed with Retry-After")
	assert.GreaterOrEqual(t, ok.Load(), int64(slots), "some logins get through")
	assert.Positive(t, shed.Load(), "the flood is shed")
	assert.Less(t, grew, bound)
}
