package handlers

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"spaceauth/auth"
)

// loginFrom tries a login from the client at addr (host:port).
func (a *testAPI) loginFrom(addr, email, password, deviceToken string) *httptest.ResponseRecorder {
	a.t.Helper()
	body := map[string]string{"email": email, "password": password}
	if deviceToken != "" {
		body["device_token"] = deviceToken
	}
	return a.do(request{method: "POST", path: "/auth/login", body: body, remoteAddr: addr})
}

const (
	ownerAddr    = "198.51.100.7:5000"
	strangerAddr = "203.0.113.66:6000"
)

func TestStrangerCannotLockTheOwnerOut(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.register("owner@example.com", strongPassword)
	w := api.loginFrom(ownerAddr, "owner@example.com", strongPassword, "")
	require.Equal(t, http.StatusOK, w.Code)
	device := decodeBody[loginResponse](t, w).DeviceToken
	require.NotEmpty(t, device)

	// The stranger guesses 30 times, as fast as the back-off allows.
	start := api.clock.Now()
	for guesses := 0; guesses < 30; {
		w := api.loginFrom(strangerAddr, "owner@example.com", "wrong guess", "")
		switch w.Code {
		case http.StatusUnauthorized:
			guesses++
		case http.StatusTooManyRequests:
			api.clock.Advance(time.Duration(mustAtoi(t, w.Header().Get("Retry-After"))) * time.Second)
		default:
			t.Fatal(w.Code, w.Body.String())
		}
	}
	assert.Greater(t, api.clock.Now().Sub(start), 2*time.Hour, "the stranger is slowed")
	requireProblem(t, api.loginFrom(strangerAddr, "owner@example.com", strongPassword, ""), http.StatusTooManyRequests)

	// The owner, from their own network, or behind the stranger's with their device token, gets in at once.
	assert.Equal(t, http.StatusOK, api.loginFrom(ownerAddr, "owner@example.com", strongPassword, "").Code)
	assert.Equal(t, http.StatusOK, api.loginFrom(strangerAddr, "owner@example.com", strongPassword, device).Code)
	// A device token is bound to its account, and cannot be made up.
	api.register("other@example.com", strongPassword)
	othersDevice := api.login("other@example.com", strongPassword).DeviceToken
	requireProblem(t, api.loginFrom(strangerAddr, "owner@example.com", strongPassword, othersDevice), http.StatusTooManyRequests)
	requireProblem(t, api.loginFrom(strangerAddr, "owner@example.com", strongPassword, strings.Repeat("A", 43)), http.StatusTooManyRequests)
}

func TestFailuresDecay(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.register("decay@example.com", strongPassword)
	for range 5 {
		require.Equal(t, http.StatusUnauthorized, api.loginFrom(strangerAddr, "decay@example.com", "wrong", "").Code)
	}
	// One wrong guess every 15 minutes no longer keeps the account blocked.
	for range 10 {
		api.clock.Advance(15 * time.Minute)
		require.Equal(t, http.StatusUnauthorized, api.loginFrom(strangerAddr, "decay@example.com", "wrong", "").Code)
	}
	api.clock.Advance(15 * time.Minute)
	assert.Equal(t, http.StatusOK, api.loginFrom(strangerAddr, "decay@example.com", strongPassword, "").Code)
}

func TestGuessingFromManyNetworksIsCappedPerAccount(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.register("target@example.com", strongPassword)
	device := api.login("target@example.com", strongPassword).DeviceToken
	for i := range 100 { // the per-account cap
		addr := fmt.Sprintf("[2001:db8:%x::1]:443", i) // a /64 each
		require.Equal(t, http.StatusUnauthorized, api.loginFrom(addr, "target@example.com", "wrong", "").Code, i)
	}
	w := api.loginFrom("[2001:db8:ffff::1]:443", "target@example.com", strongPassword, "")
	requireProblem(t, w, http.StatusTooManyRequests)
	assert.Equal(t, "600", w.Header().Get("Retry-After"), "until one failure has decayed")
	assert.Equal(t, http.StatusOK, api.loginFrom("[2001:db8:ffff::1]:443", "target@example.com", strongPassword, device).Code)
	api.clock.Advance(10 * time.Minute) // one failure decays
	assert.Equal(t, http.StatusOK, api.loginFrom("[2001:db8:ffff::1]:443", "target@example.com", strongPassword, "").Code)
}

func TestPasswordChecksWithATokenAreThrottled(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	stolen := api.signUp("victim@example.com")
	own := api.login("victim@example.com", strongPassword).AccessToken
	wrong := []request{
		{method: "PUT", path: "/users/me/password", body: map[string]string{"current_password": "guess", "new_password": "a fresh passphrase"}},
		{method: "DELETE", path: "/users/me", body: map[string]string{"password": "guess"}},
		{method: "PATCH", path: "/users/me", body: map[string]string{"email": "thief@example.com", "current_password": "guess"}},
	}
	for i := range 5 { // the free failures
		req := wrong[i%len(wrong)]
		req.token = stolen
		requireProblem(t, api.do(req), http.StatusUnprocessableEntity)
	}
	for _, req := range wrong {
		req.token = stolen
		requireProblem(t, api.do(req), http.StatusTooManyRequests)
	}
	// The owner's own session is counted apart.
	w := api.do(request{method: "PUT", path: "/users/me/password", token: own,
		body: map[string]string{"current_password": strongPassword, "new_password": "a fresh passphrase"}})
	assert.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
}

func TestOverLongLoginsAreRefusedBeforeTheThrottle(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.register("long@example.com", strongPassword)
	for range 10 {
		p := requireProblem(t, api.loginFrom(strangerAddr, strings.Repeat("a", 60<<10)+"@example.com", "x", ""), http.StatusUnprocessableEntity)
		assert.Equal(t, []string{"email"}, fieldNames(p))
		p = requireProblem(t, api.loginFrom(strangerAddr, "long@example.com", strings.Repeat("p", auth.MaxPasswordLength+1), ""), http.StatusUnprocessableEntity)
		assert.Equal(t, []string{"password"}, fieldNames(p))
	}
	assert.Equal(t, http.StatusOK, api.loginFrom(strangerAddr, "long@example.com", strongPassword, "").Code)
}

// TestStalledBodiesHoldNoHashingSlot opens more stalled uploads than the
// hashing queue holds: a slot is taken only for the hash itself.
func TestStalledBodiesHoldNoHashingSlot(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, func(c *testConfig) { c.HashSlots, c.HashQueue = 1, 1 })
	api.register("patient@example.com", strongPassword)
	srv := httptest.NewServer(api.handler)
	t.Cleanup(srv.Close)
	for range 40 {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close() })
		_, err = fmt.Fprintf(conn, "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		require.NoError(t, err)
	}
	time.Sleep(100 * time.Millisecond) // let the server read the heads
	resp, err := http.Post(srv.URL+"/auth/login", "application/json",
		strings.NewReader(`{"email":"patient@example.com","password":"`+strongPassword+`"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, time.Millisecond)
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	_, err := fmt.Sscan(s, &n)
	require.NoError(t, err, s)
	return n
}

func TestClientNetworkKeys(t *testing.T) {
	t.Parallel()
	direct := newTestAPI(t).server
	proxiedAPI := newTestAPI(t, func(c *testConfig) { c.TrustedProxyHops = 1 })
	proxied := proxiedAPI.server
	for _, c := range []struct {
		name, remote, forwarded string
		s                       *server
		want                    string
	}{
		{"IPv4", "192.0.2.1:1", "", direct, "192.0.2.1"},
		{"IPv4-mapped IPv6 is IPv4", "[::ffff:192.0.2.1]:1", "", direct, "192.0.2.1"},
		{"IPv6 by /64", "[2001:db8:1:2:aaaa::1]:1", "", direct, "2001:db8:1:2::/64"},
		{"another address of the same /64", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:1", "", direct, "2001:db8:1:2::/64"},
		{"zone dropped", "[fe80::1%eth0]:1", "", direct, "fe80::/64"},
		{"header ignored without hops", "192.0.2.1:1", "198.51.100.9", direct, "192.0.2.1"},
		{"proxy on a private network", "10.0.0.5:1", "198.51.100.9", proxied, "198.51.100.9"},
		{"forwarded IPv6 by /64", "10.0.0.5:1", "2001:db8::1", proxied, "2001:db8::/64"},
		{"spoofed left part ignored", "10.0.0.5:1", "192.0.2.66, 198.51.100.9", proxied, "198.51.100.9"},
		{"header from a public peer ignored", "203.0.113.5:1", "198.51.100.9", proxied, "203.0.113.5"},
		{"garbage hop", "10.0.0.5:1", "not an address", proxied, "10.0.0.5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			if c.forwarded != "" {
				r.Header.Set("X-Forwarded-For", c.forwarded)
			}
			assert.Equal(t, c.want, clientNetwork(c.s.clientAddr(r)))
		})
	}
	assert.Equal(t, 1, strings.Count(proxiedAPI.logs.String(), "outside TRUSTED_PROXIES"), "the operator is told once")
}

func TestIPRateLimitKeysIPv6ByNetwork(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, func(c *testConfig) { c.IPRateLimit = 2 })
	for i := range 2 {
		assert.Equal(t, http.StatusUnauthorized, api.loginFrom(fmt.Sprintf("[2001:db8::%x]:1", i+1), "v6@example.com", "x", "").Code)
	}
	requireProblem(t, api.loginFrom("[2001:db8::ffff]:1", "v6@example.com", "x", ""), http.StatusTooManyRequests)
	assert.Equal(t, http.StatusUnauthorized, api.loginFrom("[2001:db8:0:1::1]:1", "v6@example.com", "x", "").Code, "the next /64 is another client")
}

func TestKeyedLimiterMemoryIsBounded(t *testing.T) {
	t.Parallel()
	l := newKeyedLimiter(1, 5, 100)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		l.reserve(fmt.Sprint("client-", i), now)
	}
	assert.LessOrEqual(t, len(l.buckets), 100)
}

// TestUnusableStoredHashesFailTheLogin plants hashes that once crashed the
// process or took its memory: each is a logged, failed login.
func TestUnusableStoredHashesFailTheLogin(t *testing.T) {
	t.Parallel()
	salt, key := "c2FsdHNhbHRzYWx0c2FsdA", "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	for name, hash := range map[string]string{
		"4 GiB of memory":         "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key,
		"65 MiB of memory":        "$argon2id$v=19$m=66560,t=1,p=1$" + salt + "$" + key,
		"a thousand passes":       "$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key,
		"no threads":              "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"255 threads":             "$argon2id$v=19$m=4096,t=1,p=255$" + salt + "$" + key,
		"less memory than lanes":  "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + key,
		"parameters reordered":    "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"old version":             "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"padded base64":           "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"non-canonical base64":    "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdB$" + key,
		"empty salt":              "$argon2id$v=19$m=64,t=1,p=1$$" + key,
		"a huge key":              "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 5000),
		"trailing garbage":        "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$",
		"argon2i":                 "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"bcrypt cost 31":          "$2b$31$" + strings.Repeat("a", 53),
		"bcrypt truncated":        "$2b$12$abc",
		"bcrypt with a bad cost":  "$2b$1x$" + strings.Repeat("a", 53),
		"nothing":                 "",
		"plain text":              strongPassword,
		"leading space":           " $argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"unicode digits in costs": "$argon2id$v=19$m=６４,t=1,p=1$" + salt + "$" + key,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			api := newTestAPI(t)
			u := api.register("planted@example.com", strongPassword)
			_, err := api.exec("UPDATE users SET password_hash = ? WHERE id = ?", hash, u.ID)
			require.NoError(t, err)
			requireProblem(t, api.loginFrom(ownerAddr, "planted@example.com", strongPassword, ""), http.StatusUnauthorized)
			assert.Contains(t, api.logs.String(), "password hash is unusable")
		})
	}
}
