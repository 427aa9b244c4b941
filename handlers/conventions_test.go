package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHeadWorksWhereGetDoes: RFC 9110 asks for HEAD wherever GET works,
// with the same headers and no body.
func TestHeadWorksWhereGetDoes(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("head@example.com")
	for _, path := range []string{"/healthz", "/readyz", "/users/me", "/openapi.json", "/docs"} {
		get := api.do(request{method: "GET", path: path, token: token})
		head := api.do(request{method: "HEAD", path: path, token: token})
		require.Equal(t, http.StatusOK, get.Code, path)
		assert.Equal(t, http.StatusOK, head.Code, path)
		assert.Equal(t, get.Header().Get("Content-Type"), head.Header().Get("Content-Type"), path)
	}
	assert.Equal(t, http.StatusUnauthorized, api.do(request{method: "HEAD", path: "/users/me"}).Code)
	w := api.do(request{method: "HEAD", path: "/auth/login"})
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code, "no GET, so no HEAD")
}

// TestLoginErrorsSpeakOAuth: OAuth clients (golang.org/x/oauth2, Swagger
// UI) read RFC 6749 §5.2's error members; the problem stays as it was.
func TestLoginErrorsSpeakOAuth(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.register("oauth@example.com", strongPassword)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

	p := requireProblem(t, api.do(request{method: "POST", path: "/auth/login", body: "grant_type=password&username=oauth%40example.com&password=wrong", headers: form}), http.StatusUnauthorized)
	assert.Equal(t, "invalid_grant", p.OAuth)
	assert.Equal(t, p.Detail, p.OAuthDescription)
	p = requireProblem(t, api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "nobody@example.com", "password": "wrong"}}), http.StatusUnauthorized)
	assert.Equal(t, "invalid_grant", p.OAuth, "JSON logins too")

	for _, grant := range []string{"client_credentials", "authorization_code", ""} {
		body := "grant_type=" + grant + "&username=oauth%40example.com&password=" + strings.ReplaceAll(strongPassword, " ", "+")
		p = requireProblem(t, api.do(request{method: "POST", path: "/auth/login", body: body, headers: form}), http.StatusBadRequest)
		assert.Equal(t, "unsupported_grant_type", p.OAuth, grant)
	}
	assert.Equal(t, 0, api.countRows("sessions"), "no other grant logs in")

	// Other errors are not OAuth's.
	p = requireProblem(t, api.do(request{method: "POST", path: "/auth/register", body: map[string]string{"email": "x"}}), http.StatusUnprocessableEntity)
	assert.Empty(t, p.OAuth)
}

func TestAuditFilterRefusesUnknownEvents(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	_, admin := api.signUpAdmin("admin@example.com")
	p := requireProblem(t, api.do(request{method: "GET", path: "/admin/audit?event=bogus", token: admin}), http.StatusBadRequest)
	assert.Contains(t, p.Detail, "login_failed")
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/admin/audit?event=login", token: admin}).Code)
}

// TestEmptyProfileEditChangesNothing: PATCH /users/me {} leaves
// updated_at and the audit trail alone.
func TestEmptyProfileEditChangesNothing(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("same@example.com")
	before := decodeBody[user](t, api.do(request{method: "GET", path: "/users/me", token: token}))
	events := api.countRows("audit_events")
	api.clock.Advance(time.Hour)
	for _, body := range []any{map[string]any{}, map[string]any{"name": before.Name}, map[string]any{"email": "same@example.com"}} {
		w := api.do(request{method: "PATCH", path: "/users/me", token: token, body: body})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, before.UpdatedAt, decodeBody[user](t, w).UpdatedAt, "%v", body)
	}
	assert.Equal(t, events, api.countRows("audit_events"))
}

// TestTimesHaveOnePrecision: the login answer and the stored user agree
// on every instant, to the millisecond, on both engines.
func TestTimesHaveOnePrecision(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.clock.Advance(123456789 * time.Nanosecond)
	api.register("when@example.com", strongPassword)
	login := api.login("when@example.com", strongPassword)
	me := decodeBody[user](t, api.do(request{method: "GET", path: "/users/me", token: login.AccessToken}))
	require.NotNil(t, me.LastLoginAt)
	assert.Equal(t, *login.User.LastLoginAt, *me.LastLoginAt)
	assert.Equal(t, login.User.CreatedAt, me.CreatedAt)
	assert.Zero(t, login.ExpiresAt.Nanosecond()%int(time.Millisecond), login.ExpiresAt)
}

// TestCORSAnswersVaryByOrigin: a cache must not serve one origin's answer
// to another, allowed or not.
func TestCORSAnswersVaryByOrigin(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, func(c *testConfig) { c.CORSOrigins = []string{"https://app.example.com"} })
	for _, origin := range []string{"https://app.example.com", "https://evil.example", ""} {
		w := api.do(request{method: "GET", path: "/healthz", headers: map[string]string{"Origin": origin}})
		assert.Contains(t, w.Header().Values("Vary"), "Origin", origin)
	}
}

// TestCompressedBodiesAre415: RFC 7694, naming what the server reads.
func TestCompressedBodiesAre415(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	w := api.do(request{method: "POST", path: "/auth/register", body: map[string]string{"email": "zip@example.com", "password": strongPassword},
		headers: map[string]string{"Content-Encoding": "gzip"}})
	p := requireProblem(t, w, http.StatusUnsupportedMediaType)
	assert.Contains(t, p.Detail, "compressed")
	assert.Equal(t, "identity", w.Header().Get("Accept-Encoding"))
	p = requireProblem(t, api.do(request{method: "POST", path: "/auth/login", body: "x", headers: map[string]string{"Content-Type": "text/plain"}}), http.StatusUnsupportedMediaType)
	assert.Contains(t, p.Detail, "application/x-www-form-urlencoded", "the 415 names what the route takes")
}

// TestStaticAnswersRevalidateAndCompressAsAsked: ETags give 304s, and
// gzip;q=0 is a refusal.
func TestStaticAnswersRevalidateAndCompressAsAsked(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	for _, path := range []string{"/openapi.json", "/docs/assets/swagger-init.js"} {
		first := api.do(request{method: "GET", path: path, headers: map[string]string{"Accept-Encoding": "gzip"}})
		require.Equal(t, http.StatusOK, first.Code, path)
		assert.Equal(t, "gzip", first.Header().Get("Content-Encoding"), path)
		etag := first.Header().Get("ETag")
		require.NotEmpty(t, etag, path)
		again := api.do(request{method: "GET", path: path, headers: map[string]string{"If-None-Match": etag}})
		assert.Equal(t, http.StatusNotModified, again.Code, path)
		assert.Zero(t, again.Body.Len(), path)
		for _, refuse := range []string{"gzip;q=0", "identity", "br", "*;q=0", ""} {
			w := api.do(request{method: "GET", path: path, headers: map[string]string{"Accept-Encoding": refuse}})
			assert.Empty(t, w.Header().Get("Content-Encoding"), "%s with %q", path, refuse)
		}
		w := api.do(request{method: "GET", path: path, headers: map[string]string{"Accept-Encoding": "br, *;q=0.5"}})
		assert.Equal(t, "gzip", w.Header().Get("Content-Encoding"), "%s: * covers gzip", path)
	}
	page := api.do(request{method: "GET", path: "/docs"}).Body.String()
	assert.Contains(t, page, `name="viewport"`, "phones render it at its size")
}
