package handlers

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fingerprint hashes every account and session row, to prove a request
// changed nothing.
func fingerprint(t *testing.T, api *testAPI) string {
	t.Helper()
	h := sha256.New()
	for _, q := range []string{
		"SELECT id, email, name, password_hash, role, disabled, created_at, updated_at, last_login_at FROM users ORDER BY id",
		"SELECT id, user_id, token_hash, created_at, last_used_at, expires_at FROM sessions ORDER BY id",
	} {
		rows, err := api.query(q)
		require.NoError(t, err)
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			require.NoError(t, rows.Scan(ptrs...))
			fmt.Fprintln(h, vals...)
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestHostileInputChangesNothing(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	_, admin := api.signUpAdmin("admin@example.com")
	token := api.signUp("victim@example.com")
	badAlphabet := "sa_" + strings.Repeat("*", wantTokenLen-len("sa_"))
	json := map[string]string{"Content-Type": "application/json"}

	cases := []struct {
		name   string
		req    request
		status int
	}{
		{"invalid UTF-8", request{method: "POST", path: "/auth/register", body: "{\"email\":\"\xc3\x28@example.com\",\"password\":\"correct horse battery staple\"}"}, 400},
		{"NUL in email", request{method: "POST", path: "/auth/register", body: `{"email":"admin@example.com\u0000","password":"correct horse battery staple"}`}, 422},
		{"NUL in name", request{method: "PATCH", path: "/users/me", token: token, body: `{"name":"a\u0000b"}`}, 422},
		{"10 MiB body", request{method: "POST", path: "/auth/register", body: `{"name":"` + strings.Repeat("x", 10<<20) + `"}`}, 413},
		{"deep nesting", request{method: "PATCH", path: "/users/me", token: token, body: strings.Repeat(`{"name":`, 5000)}, 400},
		{"duplicate key in another case", request{method: "PATCH", path: "/admin/users/x", token: admin, body: `{"disabled":false,"Disabled":true}`}, 400},
		{"key with a long s", request{method: "PATCH", path: "/users/me", token: token, body: `{"name":"a","current_pa\u017f\u017fword":"x"}`}, 400},
		{"duplicate keys", request{method: "PATCH", path: "/admin/users/x", token: admin, body: `{"role":"user","role":"admin"}`}, 400},
		{"number for string", request{method: "PATCH", path: "/users/me", token: token, body: `{"name":12}`}, 400},
		{"string for bool", request{method: "PATCH", path: "/admin/users/x", token: admin, body: `{"disabled":"false"}`}, 400},
		{"nulls", request{method: "POST", path: "/auth/register", body: `{"email":null,"password":null}`}, 422},
		{"null new password", request{method: "PUT", path: "/users/me/password", token: token, body: `{"current_password":"correct horse battery staple","new_password":null}`}, 422},
		{"SQL in email", request{method: "POST", path: "/auth/login", body: `{"email":"' OR '1'='1","password":"' OR '1'='1"}`}, 401},
		{"5000-character email", request{method: "POST", path: "/auth/register", body: `{"email":"` + strings.Repeat("a", 5000) + `@example.com","password":"correct horse battery staple"}`}, 422},
		{"mixed-case duplicate", request{method: "POST", path: "/auth/register", body: `{"email":"  VICTIM@Example.COM ","password":"correct horse battery staple"}`}, 409},
		{"fullwidth duplicate", request{method: "POST", path: "/auth/register", body: `{"email":"ｖｉｃｔｉｍ@example.com","password":"correct horse battery staple"}`}, 409},
		{"Cyrillic look-alike", request{method: "POST", path: "/auth/register", body: `{"email":"vіctim@example.com","password":"correct horse battery staple"}`}, 422},
		{"look-alike email change", request{method: "PATCH", path: "/users/me", token: token, body: `{"email":"аdmin@example.com","current_password":"correct horse battery staple"}`}, 422},
		{"no Bearer", request{method: "GET", path: "/users/me", headers: map[string]string{"Authorization": token}}, 401},
		{"Basic auth", request{method: "DELETE", path: "/users/me", body: `{"password":"x"}`, headers: map[string]string{"Authorization": "Basic YTpi"}}, 401},
		{"short token", request{method: "DELETE", path: "/users/me", token: token[:20], body: `{"password":"x"}`}, 401},
		{"long token", request{method: "DELETE", path: "/users/me", token: token + "A", body: `{"password":"x"}`}, 401},
		{"token alphabet", request{method: "DELETE", path: "/users/me/sessions", token: badAlphabet}, 401},
		{"dot-dot path", request{method: "DELETE", path: "/users/me/../../admin/users/x"}, 404},
		{"encoded slash", request{method: "DELETE", path: "/admin/users/a%2F..%2Fb", token: admin}, 404},
		{"encoded slash in session id", request{method: "DELETE", path: "/users/me/sessions/..%2F..%2Fadmin", token: token}, 404},
		{"method not allowed", request{method: "DELETE", path: "/auth/login"}, 405},
		{"TRACE", request{method: "TRACE", path: "/users/me", token: token}, 405},
		{"wrong content type", request{method: "PUT", path: "/users/me/password", token: token, body: `{}`, headers: map[string]string{"Content-Type": "text/xml"}}, 415},
		{"form to a JSON route", request{method: "POST", path: "/auth/register", body: "email=a%40b.co&password=x", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415},
		{"admin as user", request{method: "PATCH", path: "/admin/users/x", token: token, body: `{"role":"admin"}`, headers: json}, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := fingerprint(t, api)
			w := api.do(c.req)
			requireProblem(t, w, c.status)
			assert.Equal(t, before, fingerprint(t, api), "no row changed")
		})
	}

	// Search strings are data, never SQL or patterns.
	for q, want := range map[string]int{"' OR 1=1 --": 0, "%": 0, "_": 0, "%admin%": 0, "admin": 1} {
		before := fingerprint(t, api)
		w := api.do(request{method: "GET", path: "/admin/users?q=" + strings.NewReplacer("%", "%25", " ", "+", "'", "%27").Replace(q), token: admin})
		require.Equal(t, http.StatusOK, w.Code, q)
		assert.Len(t, decodeBody[userPage](t, w).Users, want, q)
		assert.Equal(t, before, fingerprint(t, api))
	}
}
