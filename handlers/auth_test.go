package handlers

import (
	"context"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"spaceauth/auth"
)

var uuidShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRegisterReturnsTheUser(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	w := api.do(request{method: "POST", path: "/auth/register", body: map[string]string{
		"email": "  Ada@Example.COM ", "password": strongPassword, "name": " Ada Lovelace ",
	}})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.NotContains(t, w.Body.String(), "argon2")
	u := decodeBody[map[string]any](t, w)
	assert.Regexp(t, uuidShape, u["id"])
	assert.Equal(t, "ada@example.com", u["email"])
	assert.Equal(t, "Ada Lovelace", u["name"])
	assert.Equal(t, "user", u["role"])
	assert.Equal(t, false, u["disabled"])
	assert.Equal(t, "2026-03-01T12:00:00Z", u["created_at"])
	assert.Equal(t, "2026-03-01T12:00:00Z", u["updated_at"])
	assert.Nil(t, u["last_login_at"])
	assert.ElementsMatch(t, []string{"id", "email", "name", "role", "disabled", "created_at", "updated_at", "last_login_at"}, keys(u))

	var hash string
	require.NoError(t, api.queryRow("SELECT password_hash FROM users").Scan(&hash))
	assert.True(t, strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$"), hash)
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestRegisterSameEmailAnyCaseConflicts(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.register("grace@example.com", strongPassword)
	w := api.do(request{method: "POST", path: "/auth/register", body: map[string]string{"email": "GRACE@example.com", "password": strongPassword}})
	requireProblem(t, w, http.StatusConflict)
	assert.Equal(t, 1, api.countRows("users"))
}

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	cases := []struct {
		name   string
		body   map[string]any
		fields []string
		msg    string
	}{
		{"missing everything", map[string]any{}, []string{"email", "password"}, "is required"},
		{"nulls count as absent", map[string]any{"email": nil, "password": nil}, []string{"email", "password"}, "is required"},
		{"no at", map[string]any{"email": "ada.example.com", "password": strongPassword}, []string{"email"}, "exactly one @"},
		{"two ats", map[string]any{"email": "a@b@example.com", "password": strongPassword}, []string{"email"}, "exactly one @"},
		{"no local part", map[string]any{"email": "@example.com", "password": strongPassword}, []string{"email"}, "before the @"},
		{"no dot in domain", map[string]any{"email": "ada@localhost", "password": strongPassword}, []string{"email"}, "domain"},
		{"space inside", map[string]any{"email": "a da@example.com", "password": strongPassword}, []string{"email"}, "spaces"},
		{"too long", map[string]any{"email": strings.Repeat("a", 250) + "@example.com", "password": strongPassword}, []string{"email"}, "254"},
		{"short password", map[string]any{"email": "a@example.com", "password": "short"}, []string{"password"}, "at least 8"},
		{"short after NFKC counts code points", map[string]any{"email": "a@example.com", "password": "ééééééé"}, []string{"password"}, "at least 8"},
		{"long password", map[string]any{"email": "a@example.com", "password": strings.Repeat("x", 257)}, []string{"password"}, "at most 256"},
		{"common password", map[string]any{"email": "a@example.com", "password": "password123"}, []string{"password"}, "common"},
		{"common password any case", map[string]any{"email": "a@example.com", "password": "BASEBALL"}, []string{"password"}, "common"},
		{"password is the email", map[string]any{"email": "someone@example.com", "password": "Someone@example.com"}, []string{"password"}, "email"},
		{"name too long", map[string]any{"email": "a@example.com", "password": strongPassword, "name": strings.Repeat("n", 101)}, []string{"name"}, "100"},
		{"name with control", map[string]any{"email": "a@example.com", "password": strongPassword, "name": "a\u0007b"}, []string{"name"}, "control"},
		{"all at once", map[string]any{"email": "bad", "password": "x", "name": strings.Repeat("n", 101)}, []string{"email", "password", "name"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := api.do(request{method: "POST", path: "/auth/register", body: c.body})
			p := requireProblem(t, w, http.StatusUnprocessableEntity)
			assert.Equal(t, c.fields, fieldNames(p))
			assert.Contains(t, p.Errors[0].Message, c.msg)
		})
	}
	assert.Equal(t, 0, api.countRows("users"))
}

func TestRegisterAcceptsUnicodePasswordsAtFullLength(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	long := strings.Repeat("ü", 256) // 512 bytes: counted in code points, never truncated
	api.register("u@example.com", long)
	api.login("u@example.com", long)
	w := api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "u@example.com", "password": long[:len(long)-2]}})
	requireProblem(t, w, http.StatusUnauthorized)
	// NFKC: the fullwidth form of the same password logs in.
	api.register("w@example.com", "Secret-Phrase-42")
	api.login("w@example.com", "Ｓｅｃｒｅｔ-Ｐｈｒａｓｅ-４２")
}

func TestLogin(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	registered := api.register("lin@example.com", strongPassword)

	w := api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": " LIN@example.com", "password": strongPassword}})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	got := decodeBody[map[string]any](t, w)
	assert.Equal(t, "bearer", got["token_type"])
	assert.EqualValues(t, 720*3600, got["expires_in"])
	assert.Equal(t, "2026-03-31T12:00:00Z", got["expires_at"])
	token := got["access_token"].(string)
	assert.Len(t, token, wantTokenLen)
	gotUser := got["user"].(map[string]any)
	assert.Equal(t, registered.ID, gotUser["id"])
	assert.Equal(t, "2026-03-01T12:00:00Z", gotUser["last_login_at"])

	var stored []byte
	require.NoError(t, api.queryRow("SELECT token_hash FROM sessions").Scan(&stored))
	assert.Equal(t, auth.HashToken(token), stored, "only the token's hash is stored")
	assert.NotContains(t, api.logs.String(), token)

	me := api.do(request{method: "GET", path: "/users/me", token: token})
	require.Equal(t, http.StatusOK, me.Code)
	assert.Equal(t, registered.ID, decodeBody[user](t, me).ID)
}

func TestLoginWithOAuth2PasswordForm(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.register("form@example.com", strongPassword)
	form := "grant_type=password&username=Form%40example.com&password=" + strings.ReplaceAll(strongPassword, " ", "+") + "&scope="
	w := api.do(request{method: "POST", path: "/auth/login", body: form, headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.NotEmpty(t, decodeBody[loginResponse](t, w).AccessToken)

	w = api.do(request{method: "POST", path: "/auth/login", body: "username=form%40example.com", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	p := requireProblem(t, w, http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"password"}, fieldNames(p))

	w = api.do(request{method: "POST", path: "/auth/login", body: "username=a&username=b&password=x", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	requireProblem(t, w, http.StatusBadRequest)
}

func TestLoginFailuresLookTheSame(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.register("known@example.com", strongPassword)

	wrong := api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "known@example.com", "password": "not the password"}})
	unknown := api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "nobody@example.com", "password": "not the password"}})
	requireProblem(t, wrong, http.StatusUnauthorized)
	requireProblem(t, unknown, http.StatusUnauthorized)
	assert.Equal(t, wrong.Body.String(), unknown.Body.String())
	assert.Equal(t, wrong.Header(), unknown.Header())
	assert.Equal(t, 0, api.countRows("sessions"))

	var failed int
	require.NoError(t, api.queryRow("SELECT count(*) FROM audit_events WHERE event = 'login_failed'").Scan(&failed))
	assert.Equal(t, 2, failed)
}

func TestDisabledAccountIsRefusedOnlyAfterTheRightPassword(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	u := api.register("off@example.com", strongPassword)
	token := api.login("off@example.com", strongPassword).AccessToken
	_, err := api.exec("UPDATE users SET disabled = TRUE WHERE id = ?", u.ID)
	require.NoError(t, err)

	w := api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "off@example.com", "password": "wrong password"}})
	requireProblem(t, w, http.StatusUnauthorized)
	w = api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "off@example.com", "password": strongPassword}})
	requireProblem(t, w, http.StatusForbidden)
	requireProblem(t, api.do(request{method: "GET", path: "/users/me", token: token}), http.StatusForbidden)
}

func TestBearerTokenIsRequired(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	good := api.signUp("tok@example.com")
	cases := map[string]string{
		"missing":          "",
		"not bearer":       "Basic dXNlcjpwYXNz",
		"bearer only":      "Bearer",
		"bearer empty":     "Bearer ",
		"wrong length":     "Bearer " + good[:len(good)-1],
		"wrong alphabet":   "Bearer " + good[:len(good)-1] + "*",
		"wrong prefix":     "Bearer xx" + good[2:],
		"unknown token":    "Bearer " + "sa_" + strings.Repeat("A", wantTokenLen-len("sa_")),
		"token in scheme":  good,
		"two tokens":       "Bearer " + good + " " + good,
		"sql in the token": "Bearer ' OR 1=1 --",
	}
	for name, header := range cases {
		t.Run(name, func(t *testing.T) {
			w := api.do(request{method: "GET", path: "/users/me", headers: map[string]string{"Authorization": header}})
			requireProblem(t, w, http.StatusUnauthorized)
		})
	}
	w := api.do(request{method: "GET", path: "/users/me", headers: map[string]string{"Authorization": "bearer " + good}})
	assert.Equal(t, http.StatusOK, w.Code, "the scheme is case-insensitive")
}

func TestLogoutKillsTheTokenAtOnce(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("bye@example.com")
	other := api.login("bye@example.com", strongPassword).AccessToken

	w := api.do(request{method: "POST", path: "/auth/logout", token: token})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	requireProblem(t, api.do(request{method: "GET", path: "/users/me", token: token}), http.StatusUnauthorized)
	requireProblem(t, api.do(request{method: "POST", path: "/auth/logout", token: token}), http.StatusUnauthorized)
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: other}).Code, "other sessions live on")
}

func TestSessionLifetimeAndIdleTimeout(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, func(c *testConfig) {
		c.SessionTTL = 10 * time.Hour
		c.SessionIdleTimeout = 2 * time.Hour
	})
	token := api.signUp("time@example.com")
	me := func() int { return api.do(request{method: "GET", path: "/users/me", token: token}).Code }

	// Used every 90 minutes, the session outlives its idle timeout...
	for range 6 {
		api.clock.Advance(90 * time.Minute)
		require.Equal(t, http.StatusOK, me())
	}
	// ...but not its absolute lifetime.
	api.clock.Advance(61 * time.Minute)
	assert.Equal(t, http.StatusUnauthorized, me())

	idle := api.login("time@example.com", strongPassword).AccessToken
	api.clock.Advance(2*time.Hour + time.Second)
	requireProblem(t, api.do(request{method: "GET", path: "/users/me", token: idle}), http.StatusUnauthorized)

	sessions, _, err := api.auth.Prune(t.Context())
	require.NoError(t, err)
	assert.EqualValues(t, 2, sessions)
	assert.Equal(t, 0, api.countRows("sessions"))
}

func TestSessionUseIsWrittenAtMostOncePerMinute(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("touch@example.com")
	lastUsed := func() time.Time {
		require.NoError(t, api.auth.WriteSessionUses(t.Context()))
		var at time.Time
		require.NoError(t, api.queryRow("SELECT last_used_at FROM sessions").Scan(&at))
		return at
	}
	start := lastUsed()
	api.clock.Advance(30 * time.Second)
	api.do(request{method: "GET", path: "/users/me", token: token})
	assert.Equal(t, start, lastUsed(), "used again within the minute: nothing recorded")
	api.clock.Advance(31 * time.Second)
	api.do(request{method: "GET", path: "/users/me", token: token})
	assert.Equal(t, start.Add(61*time.Second), lastUsed())
}

func TestSessionUsesAreWrittenInBatches(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	tokens := []string{api.signUp("a@example.com"), api.signUp("b@example.com")}
	before := api.countRows("sessions")
	api.clock.Advance(2 * time.Minute)
	for _, tok := range tokens {
		require.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: tok}).Code)
	}
	require.NoError(t, api.auth.WriteSessionUses(t.Context()))
	var touched int
	require.NoError(t, api.queryRow("SELECT count(*) FROM sessions WHERE last_used_at = ?", api.clock.Now()).Scan(&touched))
	assert.Equal(t, len(tokens), touched)
	assert.Equal(t, before, api.countRows("sessions"))
}

func TestLegacyBcryptUserLogsInAndIsRehashed(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	legacy, err := bcrypt.GenerateFromPassword([]byte("old-fastapi-password"), bcrypt.MinCost)
	require.NoError(t, err)
	now := api.clock.Now()
	err = api.data.InTx(t.Context(), func(q auth.Tx) error {
		_, err := q.CreateUser(t.Context(), auth.CreateUserParams{
			ID: auth.NewID(now), Email: "legacy@example.com", PasswordHash: string(legacy), Role: "user", CreatedAt: now, UpdatedAt: now,
		})
		return err
	})
	require.NoError(t, err)

	requireProblem(t, api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "legacy@example.com", "password": "wrong"}}), http.StatusUnauthorized)
	api.login("legacy@example.com", "old-fastapi-password")
	u, err := api.data.GetUserByEmail(t.Context(), "legacy@example.com")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(u.PasswordHash, "$argon2id$"), u.PasswordHash)
	api.login("legacy@example.com", "old-fastapi-password")
}

func TestOlderArgonParametersAreUpgraded(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.register("params@example.com", strongPassword)
	// strongPassword hashed with m=32,t=1,p=1 and the salt "0123456789abcdef".
	old := "$argon2id$v=19$m=32,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$JZ5VpMbkUHSuJaIwyunuHHoyybaSylUYtwLlaMidzf8"
	_, err := api.exec("UPDATE users SET password_hash = ?", old)
	require.NoError(t, err)

	api.login("params@example.com", strongPassword)
	u, err := api.data.GetUserByEmail(t.Context(), "params@example.com")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$"), u.PasswordHash)
}

func TestAccountBackoffAfterFiveFailures(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.register("guess@example.com", strongPassword)
	attempt := func(password string) *httpResult {
		w := api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "guess@example.com", "password": password}})
		return &httpResult{w.Code, w.Header().Get("Retry-After")}
	}
	for range 5 {
		assert.Equal(t, http.StatusUnauthorized, attempt("wrong").code)
	}
	// The sixth attempt is not even checked, right password or not.
	assert.Equal(t, &httpResult{http.StatusTooManyRequests, "1"}, attempt(strongPassword))
	api.clock.Advance(time.Second)
	assert.Equal(t, http.StatusUnauthorized, attempt("wrong").code)
	assert.Equal(t, &httpResult{http.StatusTooManyRequests, "2"}, attempt("wrong"))
	api.clock.Advance(2 * time.Second)
	assert.Equal(t, http.StatusOK, attempt(strongPassword).code)
	// Success resets the count.
	for range 5 {
		assert.Equal(t, http.StatusUnauthorized, attempt("wrong").code)
	}
	assert.Equal(t, http.StatusTooManyRequests, attempt("wrong").code)

	// Unknown accounts back off the same way, revealing nothing.
	for range 5 {
		api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "ghost@example.com", "password": "x"}})
	}
	w := api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "ghost@example.com", "password": "x"}})
	requireProblem(t, w, http.StatusTooManyRequests)
}

type httpResult struct {
	code       int
	retryAfter string
}

func TestIPRateLimit(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, func(c *testConfig) {
		c.IPRateLimit = 3
		c.TrustedProxyHops = 1
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")} // the test's peer
	})
	token := api.signUp("rate@example.com") // register + login: 2 of the 3
	from := func(ip string) map[string]string { return map[string]string{"X-Forwarded-For": "203.0.113.9, " + ip} }
	body := map[string]string{"email": "rate@example.com", "password": "wrong"}

	assert.Equal(t, http.StatusUnauthorized, api.do(request{method: "POST", path: "/auth/login", body: body}).Code)
	w := api.do(request{method: "POST", path: "/auth/login", body: body})
	requireProblem(t, w, http.StatusTooManyRequests)
	assert.Equal(t, "20", w.Header().Get("Retry-After"), "one token per 20 s")
	// Other routes are not limited; another client (per the trusted hop) has its own bucket.
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: token}).Code)
	assert.Equal(t, http.StatusUnauthorized, api.do(request{method: "POST", path: "/auth/login", body: body, headers: from("198.51.100.7")}).Code)
	// The spoofable left part of X-Forwarded-For is not trusted.
	requireProblem(t, api.do(request{method: "POST", path: "/auth/login", body: body, headers: map[string]string{"X-Forwarded-For": "198.51.100.7, 192.0.2.10"}}), http.StatusTooManyRequests)
	api.clock.Advance(20 * time.Second)
	assert.Equal(t, http.StatusUnauthorized, api.do(request{method: "POST", path: "/auth/login", body: body}).Code)
}

// TestPruneJudgesIdlenessOnPendingUses: a use still waiting in memory keeps
// its session alive through a prune.
func TestPruneJudgesIdlenessOnPendingUses(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, func(c *testConfig) { c.SessionIdleTimeout = 8 * time.Second })
	token := api.signUp("recent@example.com")
	api.clock.Advance(5600 * time.Millisecond)
	require.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: token}).Code)
	api.clock.Advance(3400 * time.Millisecond)
	sessions, _, err := api.auth.Prune(t.Context())
	require.NoError(t, err)
	assert.Zero(t, sessions)
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: token}).Code)
}

// TestRunWritesPendingUsesWhenItStops: nothing waiting in memory is lost at
// a graceful stop.
func TestRunWritesPendingUsesWhenItStops(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("stopping@example.com")
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		api.auth.Run(ctx, time.Hour)
		close(done)
	}()
	api.clock.Advance(2 * time.Minute)
	require.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: token}).Code)
	stop()
	<-done
	var at time.Time
	require.NoError(t, api.queryRow("SELECT last_used_at FROM sessions").Scan(&at))
	assert.Equal(t, api.clock.Now(), at.UTC())
}

// TestSessionUsesNeverGoBack: a replica's batch holding an older use of a
// session does not undo a newer one another replica wrote.
func TestSessionUsesNeverGoBack(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("two-replicas@example.com")
	api.clock.Advance(2 * time.Minute)
	require.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: token}).Code)
	require.NoError(t, api.auth.WriteSessionUses(t.Context()))
	var newer time.Time
	require.NoError(t, api.queryRow("SELECT last_used_at FROM sessions").Scan(&newer))

	var id string
	require.NoError(t, api.queryRow("SELECT id FROM sessions").Scan(&id))
	require.NoError(t, api.data.InTx(t.Context(), func(q auth.Tx) error {
		return q.TouchSession(t.Context(), auth.TouchSessionParams{LastUsedAt: newer.Add(-time.Minute), ID: id})
	}))
	var after time.Time
	require.NoError(t, api.queryRow("SELECT last_used_at FROM sessions").Scan(&after))
	assert.True(t, newer.Equal(after), "%v, then %v", newer, after)
}
