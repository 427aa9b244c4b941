package handlers

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentClientsNeverSeeServerErrors runs 200 clients mixing every
// kind of request against one real server and database for a bounded time.
// The single writer connection serialises writes in Go, and readers use
// their own pool, so no request may fail with SQLITE_BUSY or any 5xx.
func TestConcurrentClientsNeverSeeServerErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	t.Parallel()
	api := newTestAPI(t, func(c *testConfig) { c.HashQueue = 10000; c.Now = time.Now })
	srv := httptest.NewServer(api.handler)
	defer srv.Close()
	_, adminToken := api.signUpAdmin("admin@example.com")
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 200

	var requests, serverErrors, malformed atomic.Int64
	var mu sync.Mutex
	statuses := map[string]int{}
	call := func(method, path, token, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			malformed.Add(1)
			return 0, nil
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		requests.Add(1)
		mu.Lock()
		statuses[fmt.Sprintf("%s %s %d", method, strings.SplitN(path, "?", 2)[0], resp.StatusCode)]++
		mu.Unlock()
		if resp.StatusCode >= 500 {
			serverErrors.Add(1)
		}
		var out map[string]any
		if len(raw) > 0 && json.Unmarshal(raw, &out) != nil {
			malformed.Add(1)
		}
		return resp.StatusCode, out
	}

	// Every client registers first; then all mix requests for a fixed time,
	// however long the set-up took (the race detector slows it a lot).
	var registered sync.WaitGroup
	registered.Add(200)
	start := make(chan struct{})
	var deadline time.Time
	var wg sync.WaitGroup
	for c := range 200 {
		wg.Go(func() {
			email := fmt.Sprintf("c%d@example.com", c)
			password := fmt.Sprintf("client %d passphrase", c)
			code, _ := call("POST", "/auth/register", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
			registered.Done()
			<-start
			if code != http.StatusCreated {
				return
			}
			token := ""
			for n := 0; time.Now().Before(deadline); n++ {
				if token == "" {
					code, body := call("POST", "/auth/login", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
					if code == http.StatusOK {
						token = body["access_token"].(string)
					}
					continue
				}
				switch r := rand.IntN(100); {
				case r < 70:
					call("GET", "/users/me", token, "")
				case r < 78:
					call("GET", "/users/me/sessions", token, "")
				case r < 84:
					call("GET", "/admin/users?limit=20", adminToken, "")
				case r < 90:
					next := fmt.Sprintf("client %d passphrase %d", c, n)
					if code, _ := call("PUT", "/users/me/password", token, fmt.Sprintf(`{"current_password":%q,"new_password":%q}`, password, next)); code == http.StatusNoContent {
						password = next
					}
				case r < 95:
					call("POST", "/auth/logout", token, "")
					token = ""
				default:
					call("POST", "/auth/register", "", fmt.Sprintf(`{"email":"extra-%d-%d@example.com","password":"an extra passphrase"}`, c, n))
				}
			}
		})
	}
	registered.Wait()
	deadline = time.Now().Add(3 * time.Second)
	close(start)
	wg.Wait()
	t.Logf("%d requests; by route and status: %v", requests.Load(), statuses)
	assert.Zero(t, serverErrors.Load(), "no 5xx")
	assert.Zero(t, malformed.Load(), "every response is well-formed JSON")
	assert.NotContains(t, api.logs.String(), "database is locked")
	assert.NotContains(t, api.logs.String(), "SQLITE_BUSY")
	require.Greater(t, requests.Load(), int64(200+400), "at least two requests per client after registering")
}

// TestAdminsDemotingEachOtherAtOnceLeaveAnAdmin: on SQLite one writer
// serializes them; on PostgreSQL serializable transactions must.
func TestAdminsDemotingEachOtherAtOnceLeaveAnAdmin(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	for round := range 20 {
		a, tokenA := api.signUpAdmin(fmt.Sprintf("a%d@example.com", round))
		b, tokenB := api.signUpAdmin(fmt.Sprintf("b%d@example.com", round))
		if round > 0 { // only these two are admins
			_, err := api.exec("UPDATE users SET role = 'user' WHERE role = 'admin' AND id <> ? AND id <> ?", a.ID, b.ID)
			require.NoError(t, err)
		}
		codes := make([]int, 2)
		var wg sync.WaitGroup
		for i, r := range []request{
			{method: "PATCH", path: "/admin/users/" + b.ID, token: tokenA, body: map[string]any{"role": "user"}},
			{method: "PATCH", path: "/admin/users/" + a.ID, token: tokenB, body: map[string]any{"role": "user"}},
		} {
			wg.Go(func() { codes[i] = api.do(r).Code })
		}
		wg.Wait()
		var admins int
		require.NoError(t, api.queryRow("SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled").Scan(&admins))
		require.Equal(t, 1, admins, "round %d: codes %v", round, codes)
		// The loser is refused as the last admin, or, when the winner's
		// change came first, as no longer an admin.
		slices.Sort(codes)
		assert.Equal(t, http.StatusOK, codes[0], "round %d: %v", round, codes)
		assert.Contains(t, []int{http.StatusForbidden, http.StatusConflict}, codes[1], "round %d", round)
	}
}

// TestOneEmailRegisteredAtOnceInDifferentCasesGetsOneAccount.
func TestOneEmailRegisteredAtOnceInDifferentCasesGetsOneAccount(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	for round := range 10 {
		codes := make(chan int, 4)
		var wg sync.WaitGroup
		for _, email := range []string{"race%d@example.com", "RACE%d@example.com", "Race%d@Example.com", "race%d@EXAMPLE.COM"} {
			wg.Go(func() {
				codes <- api.do(request{method: "POST", path: "/auth/register", body: map[string]string{
					"email": fmt.Sprintf(email, round), "password": strongPassword,
				}}).Code
			})
		}
		wg.Wait()
		close(codes)
		count := map[int]int{}
		for c := range codes {
			count[c]++
		}
		assert.Equal(t, map[int]int{http.StatusCreated: 1, http.StatusConflict: 3}, count, "round %d", round)
	}
}
