package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// p99 returns the 99th percentile of d.
func p99(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)*99/100]
}

// TestLoginFloodIsShedWhileOtherRequestsStayFast floods the real server
// with 200 concurrent logins (production hash parameters) and compares the
// latency of cheap requests during the flood with just before it.
//
// Timing on a shared machine is disturbed by whatever runs beside it, such as
// the other packages' tests that go test ./... runs in parallel, so it runs
// only when SPACEAUTH_LOAD_TESTS=1: .ci/run gives it a step of its own.
func TestLoginFloodIsShedWhileOtherRequestsStayFast(t *testing.T) {
	if os.Getenv("SPACEAUTH_LOAD_TESTS") != "1" {
		t.Skip("set SPACEAUTH_LOAD_TESTS=1 to run the load-shedding test")
	}
	p := startProcess(t, nil, "--database-path", filepath.Join(t.TempDir(), "auth.db"))
	require.Equal(t, http.StatusCreated, p.post(t, "/auth/register", credentials))
	resp, err := http.Post(p.url+"/auth/login", "application/json", strings.NewReader(credentials))
	require.NoError(t, err)
	var login struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, jsonDecode(resp, &login))

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	probe := func(path string) time.Duration {
		req, _ := http.NewRequest("GET", p.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+login.AccessToken)
		start := time.Now()
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		return time.Since(start)
	}
	measure := func(rounds int) map[string][]time.Duration {
		out := map[string][]time.Duration{}
		for range rounds {
			for _, path := range []string{"/healthz", "/readyz", "/users/me"} {
				out[path] = append(out[path], probe(path))
			}
			time.Sleep(2 * time.Millisecond)
		}
		return out
	}
	measure(50) // warm up

	// The flood comes from another process, as it would in real life, and
	// at the lowest CPU priority: in real life it runs on other machines, and
	// on this one its own CPU use would be counted against the server.
	floodWindow := func() (map[string][]time.Duration, floodCounts) {
		flood := exec.Command("nice", "-n", "19", os.Args[0])
		flood.Env = append(os.Environ(), "SPACEAUTH_TEST_FLOOD="+p.url)
		stdout, err := flood.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, flood.Start())
		time.Sleep(500 * time.Millisecond)
		during := measure(400)
		require.NoError(t, flood.Process.Signal(os.Interrupt))
		var c floodCounts
		_, err = fmt.Fscan(stdout, &c.ok, &c.shed, &c.throttled, &c.other, &c.slowestShed)
		require.NoError(t, err)
		require.NoError(t, flood.Wait())
		return during, c
	}
	// The machine is shared and noisy: quiet and flood windows alternate,
	// three of each, and their median p99s are compared.
	p99s := map[string]map[string][]time.Duration{"quiet": {}, "flood": {}}
	var total floodCounts
	for range 3 {
		for path, d := range measure(400) {
			p99s["quiet"][path] = append(p99s["quiet"][path], p99(d))
		}
		during, c := floodWindow()
		for path, d := range during {
			p99s["flood"][path] = append(p99s["flood"][path], p99(d))
		}
		total.ok, total.shed, total.throttled, total.other = total.ok+c.ok, total.shed+c.shed, total.throttled+c.throttled, total.other+c.other
		total.slowestShed = max(total.slowestShed, c.slowestShed)
	}

	t.Logf("flood: %d ok, %d shed (slowest shed answer %v), %d throttled, %d other", total.ok, total.shed, total.slowestShed, total.throttled, total.other)
	assert.Zero(t, total.other)
	assert.Positive(t, total.shed, "the queue filled and logins were shed")
	assert.Less(t, total.slowestShed, time.Second, "shed at once, not after queueing")
	for _, path := range []string{"/healthz", "/readyz", "/users/me"} {
		quiet, flood := median(p99s["quiet"][path]), median(p99s["flood"][path])
		t.Logf("%-9s p99 quiet %v, during the flood %v (%.1fx); windows %v / %v", path, quiet, flood, float64(flood)/float64(quiet), p99s["quiet"][path], p99s["flood"][path])
		assert.LessOrEqual(t, flood, maxFloodSlowdown*max(quiet, time.Millisecond), "%s p99 during the flood within %dx of before", path, maxFloodSlowdown)
	}
}

// maxFloodSlowdown bounds how much slower cheap requests may get during a
// login flood. The goal is 4x (issue 21 works on it); measured on a shared
// 2-CPU machine the p99 during the flood is 4.5-6.7 ms against about 1 ms
// quiet, so 5-7x: argon2id's 19 MiB working set contends for cache and memory
// bandwidth with every other request, which thread priority cannot help (one
// client logging in back to back already gives 3x). Before shedding happened
// ahead of all other work and hashing ran at low priority it was 13-50x,
// which this bound catches.
const maxFloodSlowdown = 8

type floodCounts struct {
	ok, shed, throttled, other int
	slowestShed                time.Duration
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// runFlood keeps 200 logins in flight against url until interrupted, then
// prints its counts. Shed clients retry after a short pause, as impatient
// clients do.
func runFlood(url string) {
	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, os.Interrupt)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	var ok, shed, throttled, other, slowestShed atomic.Int64
	for range 200 {
		go func() {
			for {
				start := time.Now()
				resp, err := client.Post(url+"/auth/login", "application/json", strings.NewReader(credentials))
				if err != nil {
					other.Add(1)
					time.Sleep(100 * time.Millisecond)
					continue
				}
				resp.Body.Close()
				switch {
				case resp.StatusCode == http.StatusOK:
					ok.Add(1)
				case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
					shed.Add(1)
					if d := int64(time.Since(start)); d > slowestShed.Load() {
						slowestShed.Store(d)
					}
					time.Sleep(200 * time.Millisecond)
				case resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "":
					// One account's checks in flight from one network are
					// capped (see loginThrottle): a flood on one account
					// meets that cap before the queue.
					throttled.Add(1)
					time.Sleep(200 * time.Millisecond)
				default:
					other.Add(1)
				}
			}
		}()
	}
	<-interrupted
	fmt.Println(ok.Load(), shed.Load(), throttled.Load(), other.Load(), slowestShed.Load())
}

func jsonDecode(resp *http.Response, v any) error {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
