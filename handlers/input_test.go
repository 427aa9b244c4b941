package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMalformedBodiesAreRefused(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	valid := `{"email":"in@example.com","password":"` + strongPassword + `"}`
	cases := []struct {
		name        string
		body        string
		contentType string
		status      int
		detail      string
	}{
		{"no content type", valid, "-", http.StatusUnsupportedMediaType, "Content-Type"},
		{"text/plain", valid, "text/plain", http.StatusUnsupportedMediaType, "Content-Type"},
		{"empty", "", "", http.StatusBadRequest, "empty"},
		{"not JSON", "email=a", "", http.StatusBadRequest, "malformed"},
		{"array", `[` + valid + `]`, "", http.StatusBadRequest, "object"},
		{"string", `"hello"`, "", http.StatusBadRequest, "object"},
		{"duplicate key", `{"email":"in@example.com","email":"admin@example.com","password":"x"}`, "", http.StatusBadRequest, `duplicate key "email"`},
		{"key in another case", `{"email":"in@example.com","Email":"admin@example.com","password":"x"}`, "", http.StatusBadRequest, `unknown field "Email"`},
		{"key only in another case", `{"EMAIL":"in@example.com","password":"x"}`, "", http.StatusBadRequest, `unknown field "EMAIL"`},
		{"password of spaces", `{"email":"in@example.com","password":"        "}`, "", http.StatusUnprocessableEntity, "invalid fields"},
		{"trailing data", valid + `{}`, "", http.StatusBadRequest, "after the object"},
		{"trailing garbage", valid + `x`, "", http.StatusBadRequest, "malformed"},
		{"invalid UTF-8", "{\"email\":\"in\xff@example.com\",\"password\":\"x\"}", "", http.StatusBadRequest, "UTF-8"},
		{"unknown field", `{"email":"in@example.com","password":"x","role":"admin"}`, "", http.StatusBadRequest, `unknown field "role"`},
		{"number for string", `{"email":42,"password":"x"}`, "", http.StatusBadRequest, `"email" must be a string`},
		{"object for string", `{"email":{"$ne":null},"password":"x"}`, "", http.StatusBadRequest, `"email" must be a string`},
		{"deep nesting", strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000), "", http.StatusBadRequest, "nested deeper"},
		{"NUL in email", `{"email":"in\u0000@example.com","password":"` + strongPassword + `"}`, "", http.StatusUnprocessableEntity, "invalid fields"},
		{"10 MiB body", `{"email":"` + strings.Repeat("a", 10<<20) + `"}`, "", http.StatusRequestEntityTooLarge, "larger than"},
		{"1 MiB password", `{"email":"in@example.com","password":"` + strings.Repeat("p", 1<<20) + `"}`, "", http.StatusRequestEntityTooLarge, "larger than"},
		{"5000-character email", `{"email":"` + strings.Repeat("a", 5000) + `@example.com","password":"` + strongPassword + `"}`, "", http.StatusUnprocessableEntity, "invalid fields"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			headers := map[string]string{}
			switch c.contentType {
			case "":
			case "-":
				headers["Content-Type"] = ""
			default:
				headers["Content-Type"] = c.contentType
			}
			start := time.Now()
			w := api.do(request{method: "POST", path: "/auth/register", body: c.body, headers: headers})
			p := requireProblem(t, w, c.status)
			assert.Contains(t, p.Detail, c.detail)
			assert.Less(t, time.Since(start), 10*time.Second)
		})
	}
	assert.Equal(t, 0, api.countRows("users"))
	api.do(request{method: "POST", path: "/auth/register", body: valid})
	assert.Equal(t, 1, api.countRows("users"), "the valid body works")
}

func TestContentTypeWithCharsetIsJSON(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	w := api.do(request{method: "POST", path: "/auth/register", body: map[string]string{"email": "cs@example.com", "password": strongPassword},
		headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}})
	assert.Equal(t, http.StatusCreated, w.Code, w.Body.String())
}

func TestLogoutNeedsNoBody(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("nobody@example.com")
	r := httptest.NewRequest("POST", "/auth/logout", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	api.handler.ServeHTTP(w, r)
	assert.Equal(t, http.StatusNoContent, w.Code)
}

func TestUnknownRoutesAndMethodsAnswerJSON(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	p := requireProblem(t, api.do(request{method: "GET", path: "/nope"}), http.StatusNotFound)
	assert.Contains(t, p.Detail, "/nope")
	requireProblem(t, api.do(request{method: "GET", path: "/users/me/"}), http.StatusNotFound)
	requireProblem(t, api.do(request{method: "GET", path: "/users/me/sessions/a%2Fb/c"}), http.StatusNotFound)
	requireProblem(t, api.do(request{method: "GET", path: "/users/../users/me"}), http.StatusNotFound)

	w := api.do(request{method: "GET", path: "/auth/login"})
	requireProblem(t, w, http.StatusMethodNotAllowed)
	assert.Contains(t, w.Header().Get("Allow"), "POST")
	w = api.do(request{method: "PUT", path: "/users/me"})
	requireProblem(t, w, http.StatusMethodNotAllowed)
	assert.Equal(t, "DELETE, GET, HEAD, OPTIONS, PATCH", w.Header().Get("Allow"))
}

func TestPanicBecomesAGeneric500(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	router := api.server.router()
	router.HandlerFunc("GET", "/boom", func(http.ResponseWriter, *http.Request) { panic("secret internal detail") })
	h := api.server.handler(router)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/boom", nil))
	p := requireProblem(t, w, http.StatusInternalServerError)
	assert.Equal(t, "internal error", p.Detail)
	assert.NotContains(t, w.Body.String(), "secret")
	assert.NotContains(t, w.Body.String(), "goroutine")
	assert.Contains(t, api.logs.String(), "secret internal detail", "the operator sees it")
}

func TestCORS(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, func(c *testConfig) { c.CORSOrigins = []string{"https://app.example.com"} })
	preflight := api.do(request{method: "OPTIONS", path: "/auth/login", headers: map[string]string{
		"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
	}})
	assert.Equal(t, http.StatusNoContent, preflight.Code)
	assert.Equal(t, "https://app.example.com", preflight.Header().Get("Access-Control-Allow-Origin"))
	assert.Contains(t, preflight.Header().Get("Access-Control-Allow-Headers"), "Authorization")

	w := api.do(request{method: "GET", path: "/healthz", headers: map[string]string{"Origin": "https://app.example.com"}})
	assert.Equal(t, "https://app.example.com", w.Header().Get("Access-Control-Allow-Origin"))
	w = api.do(request{method: "GET", path: "/healthz", headers: map[string]string{"Origin": "https://evil.example.com"}})
	assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))

	plain := newTestAPI(t)
	w = plain.do(request{method: "GET", path: "/healthz", headers: map[string]string{"Origin": "https://app.example.com"}})
	assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"), "no CORS unless configured")
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	w := api.do(request{method: "GET", path: "/healthz"})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"status":"ok"}`, w.Body.String())
	w = api.do(request{method: "GET", path: "/readyz"})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"status":"ready","schema_version":3}`, w.Body.String())

	require.NoError(t, api.closeStore())
	w = api.do(request{method: "GET", path: "/readyz"})
	requireProblem(t, w, http.StatusServiceUnavailable)
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/healthz"}).Code)
}

func TestAuditTrail(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("trail@example.com")
	api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "trail@example.com", "password": "wrong"}, headers: map[string]string{"User-Agent": "curl/8"}})
	api.do(request{method: "POST", path: "/auth/logout", token: token})

	rows, err := api.query("SELECT event, coalesce(user_id, ''), ip, user_agent FROM audit_events ORDER BY id")
	require.NoError(t, err)
	defer rows.Close()
	var got []string
	for rows.Next() {
		var event, userID, ip, ua string
		require.NoError(t, rows.Scan(&event, &userID, &ip, &ua))
		assert.NotEmpty(t, userID)
		assert.Equal(t, "192.0.2.10", ip)
		got = append(got, event+" "+ua)
	}
	assert.Equal(t, []string{"register ", "login ", "login_failed curl/8", "logout "}, got)

	api.clock.Advance(91 * 24 * time.Hour)
	_, events, err := api.auth.Prune(t.Context())
	require.NoError(t, err)
	assert.EqualValues(t, 4, events)
}

func TestCheckJSON(t *testing.T) {
	t.Parallel()
	ok := []string{`{}`, ` {"a":1} `, `{"a":{"a":1},"b":[{"a":1},{"a":2}]}`, `{"a":[1,[2,[3]]]}`}
	for _, body := range ok {
		_, err := checkJSON([]byte(body))
		assert.NoError(t, err, body)
	}
	bad := []string{``, ` `, `[]`, `1`, `null`, `{"a":1}{}`, `{"a":1,"a":2}`, `{"a":{"b":1,"b":2}}`, `{"a":[{"b":1,"b":2}]}`, `{`, `{"a"}`,
		"{\"a\":\"\xc3\"}", strings.Repeat("[", 20)}
	for _, body := range bad {
		_, err := checkJSON([]byte(body))
		assert.Error(t, err, body)
	}
}
