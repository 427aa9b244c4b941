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

func TestUpdateMe(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("pat@example.com")
	api.register("taken@example.com", strongPassword)
	patch := func(body any) *httptest.ResponseRecorder { return recorder(api, "PATCH", "/users/me", token, body) }

	api.clock.Advance(time.Second)
	w := patch(map[string]any{"name": "  Pat  "})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	u := decodeBody[user](t, w)
	assert.Equal(t, "Pat", u.Name)
	assert.True(t, u.UpdatedAt.After(u.CreatedAt))

	p := requireProblem(t, patch(map[string]any{"email": "new@example.com"}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"current_password"}, fieldNames(p))
	p = requireProblem(t, patch(map[string]any{"email": "new@example.com", "current_password": "wrong"}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"current_password"}, fieldNames(p))
	requireProblem(t, patch(map[string]any{"email": "TAKEN@example.com", "current_password": strongPassword}), http.StatusConflict)
	p = requireProblem(t, patch(map[string]any{"email": "nope"}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"email", "current_password"}, fieldNames(p), "every problem at once")

	// The same address in another case is not a change and needs no password.
	assert.Equal(t, http.StatusOK, patch(map[string]any{"email": "PAT@example.com"}).Code)

	w = patch(map[string]any{"email": " New@Example.com", "current_password": strongPassword})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "new@example.com", decodeBody[user](t, w).Email)
	api.login("new@example.com", strongPassword)

	// A patch cannot reach fields it does not list.
	requireProblem(t, patch(map[string]any{"role": "admin"}), http.StatusBadRequest)
	got := api.do(request{method: "GET", path: "/users/me", token: token})
	assert.Equal(t, "user", decodeBody[user](t, got).Role)
}

func TestChangePasswordRevokesOtherSessions(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("pw@example.com")
	other := api.login("pw@example.com", strongPassword).AccessToken
	const newPassword = "a brand new passphrase"

	p := requireProblem(t, recorder(api, "PUT", "/users/me/password", token, map[string]any{"current_password": "wrong", "new_password": newPassword}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"current_password"}, fieldNames(p))
	p = requireProblem(t, recorder(api, "PUT", "/users/me/password", token, map[string]any{"current_password": strongPassword, "new_password": "qwertyuiop"}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"new_password"}, fieldNames(p))
	p = requireProblem(t, recorder(api, "PUT", "/users/me/password", token, map[string]any{}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"current_password", "new_password"}, fieldNames(p))
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: other}).Code, "failed attempts change nothing")

	w := recorder(api, "PUT", "/users/me/password", token, map[string]any{"current_password": strongPassword, "new_password": newPassword})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: token}).Code, "this session stays")
	requireProblem(t, api.do(request{method: "GET", path: "/users/me", token: other}), http.StatusUnauthorized)
	requireProblem(t, api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "pw@example.com", "password": strongPassword}}), http.StatusUnauthorized)
	api.login("pw@example.com", newPassword)
}

func recorder(api *testAPI, method, path, token string, body any) *httptest.ResponseRecorder {
	return api.do(request{method: method, path: path, token: token, body: body})
}

func TestDeleteMe(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("gone@example.com")
	other := api.login("gone@example.com", strongPassword).AccessToken
	keep := api.signUp("stays@example.com")

	p := requireProblem(t, recorder(api, "DELETE", "/users/me", token, map[string]any{"password": "wrong"}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"password"}, fieldNames(p))
	p = requireProblem(t, recorder(api, "DELETE", "/users/me", token, map[string]any{}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"password"}, fieldNames(p))
	requireProblem(t, api.do(request{method: "DELETE", path: "/users/me", token: token}), http.StatusUnsupportedMediaType)

	w := recorder(api, "DELETE", "/users/me", token, map[string]any{"password": strongPassword})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	requireProblem(t, api.do(request{method: "GET", path: "/users/me", token: token}), http.StatusUnauthorized)
	requireProblem(t, api.do(request{method: "GET", path: "/users/me", token: other}), http.StatusUnauthorized)
	assert.Equal(t, 1, api.countRows("users"))
	assert.Equal(t, 1, api.countRows("sessions"), "only the other user's session is left")
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: keep}).Code)
	requireProblem(t, api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "gone@example.com", "password": strongPassword}}), http.StatusUnauthorized)
	// The address is free again.
	api.register("gone@example.com", strongPassword)
}

func TestLastAdminCannotDeleteThemselves(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("root@example.com")
	_, err := api.exec("UPDATE users SET role = 'admin'")
	require.NoError(t, err)
	p := requireProblem(t, recorder(api, "DELETE", "/users/me", token, map[string]any{"password": strongPassword}), http.StatusConflict)
	assert.Contains(t, p.Detail, "last enabled admin")
	assert.Equal(t, 1, api.countRows("users"))
}

func TestSessions(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("many@example.com")
	second := api.login("many@example.com", strongPassword).AccessToken
	third := api.login("many@example.com", strongPassword).AccessToken
	stranger := api.signUp("stranger@example.com")

	w := api.do(request{method: "GET", path: "/users/me/sessions", token: token, headers: map[string]string{"User-Agent": "test-agent"}})
	require.Equal(t, http.StatusOK, w.Code)
	list := decodeBody[struct{ Sessions []session }](t, w).Sessions
	require.Len(t, list, 3)
	current := 0
	for _, s := range list {
		if s.Current {
			current++
		}
		assert.Equal(t, "192.0.2.10", s.IP)
		assert.Regexp(t, uuidShape, s.ID)
	}
	assert.Equal(t, 1, current)

	strangerSessions := decodeBody[struct{ Sessions []session }](t, api.do(request{method: "GET", path: "/users/me/sessions", token: stranger})).Sessions
	require.Len(t, strangerSessions, 1)
	requireProblem(t, api.do(request{method: "DELETE", path: "/users/me/sessions/" + strangerSessions[0].ID, token: token}), http.StatusNotFound)
	requireProblem(t, api.do(request{method: "DELETE", path: "/users/me/sessions/nope", token: token}), http.StatusNotFound)
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: stranger}).Code)

	var secondID string
	for _, s := range list {
		if !s.Current {
			secondID = s.ID
			break
		}
	}
	require.Equal(t, http.StatusNoContent, api.do(request{method: "DELETE", path: "/users/me/sessions/" + secondID, token: token}).Code)
	live := 0
	for _, tok := range []string{second, third} {
		if api.do(request{method: "GET", path: "/users/me", token: tok}).Code == http.StatusOK {
			live++
		}
	}
	assert.Equal(t, 1, live, "exactly the revoked session died")

	require.Equal(t, http.StatusNoContent, api.do(request{method: "DELETE", path: "/users/me/sessions", token: token}).Code)
	for _, tok := range []string{second, third} {
		requireProblem(t, api.do(request{method: "GET", path: "/users/me", token: tok}), http.StatusUnauthorized)
	}
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: token}).Code)
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: stranger}).Code)
}

// A profile edit that checked its token before an admin demoted and disabled
// the account must not write the old role and flag back.
func TestUpdateMeKeepsAnAdminsChangeMadeMeanwhile(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.signUpAdmin("boss@example.com")
	_, adminToken := api.signUpAdmin("second@example.com")
	ownToken := api.login("boss@example.com", strongPassword).AccessToken

	r := httptest.NewRequest("PATCH", "/users/me", strings.NewReader(`{"name":"Boss"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+ownToken)
	stale, err := api.server.authenticate(r)
	require.NoError(t, err)
	require.Equal(t, "admin", stale.User.Role)

	w := api.do(request{method: "PATCH", path: "/admin/users/" + stale.User.ID, token: adminToken, body: map[string]any{"role": "user", "disabled": true}})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	rec := httptest.NewRecorder()
	require.NoError(t, api.server.handleUpdateMe(rec, r, stale))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	got := decodeBody[user](t, rec)
	assert.Equal(t, "Boss", got.Name)
	assert.Equal(t, "user", got.Role, "the demotion stands")
	assert.True(t, got.Disabled, "the disable stands")

	stored, err := api.data.GetUserByID(t.Context(), stale.User.ID)
	require.NoError(t, err)
	assert.Equal(t, "user", stored.Role)
	assert.True(t, stored.Disabled)
}
