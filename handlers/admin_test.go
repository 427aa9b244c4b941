package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signUpAdmin registers an account, makes it an admin and returns its token.
func (a *testAPI) signUpAdmin(email string) (user, string) {
	a.t.Helper()
	u := a.register(email, strongPassword)
	_, err := a.exec("UPDATE users SET role = 'admin' WHERE id = ?", u.ID)
	require.NoError(a.t, err)
	return u, a.login(email, strongPassword).AccessToken
}

type userPage struct {
	Users      []user  `json:"users"`
	NextCursor *string `json:"next_cursor"`
}

func TestAdminRoutesNeedAnAdmin(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	plain := api.signUp("plain@example.com")
	routes := []struct{ method, path string }{
		{"GET", "/admin/users"}, {"POST", "/admin/users"}, {"GET", "/admin/users/x"}, {"PATCH", "/admin/users/x"},
		{"DELETE", "/admin/users/x"}, {"DELETE", "/admin/users/x/sessions"}, {"GET", "/admin/audit"},
	}
	for _, r := range routes {
		requireProblem(t, api.do(request{method: r.method, path: r.path}), http.StatusUnauthorized)
		requireProblem(t, api.do(request{method: r.method, path: r.path, token: plain, body: map[string]any{}}), http.StatusForbidden)
	}
}

func TestAdminListUsersPagesWithoutSkipsOrRepeats(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	_, token := api.signUpAdmin("admin@example.com")
	want := map[string]bool{}
	for i := range 7 {
		api.clock.Advance(time.Millisecond)
		want[api.register(fmt.Sprintf("user%d@example.com", i), strongPassword).Email] = true
	}
	want["admin@example.com"] = true

	seen := map[string]int{}
	cursor := ""
	pages := 0
	for {
		path := "/admin/users?limit=3"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		w := api.do(request{method: "GET", path: path, token: token})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		page := decodeBody[userPage](t, w)
		pages++
		for _, u := range page.Users {
			seen[u.Email]++
		}
		// Users arriving between pages must not disturb the walk.
		api.clock.Advance(time.Millisecond)
		api.register(fmt.Sprintf("late%d@example.com", pages), strongPassword)
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
		require.Less(t, pages, 20)
	}
	for email := range want {
		assert.Equal(t, 1, seen[email], email)
	}
	for email, n := range seen {
		assert.Equal(t, 1, n, email)
	}
}

func TestAdminListUsersSearchAndLimits(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	_, token := api.signUpAdmin("admin@example.com")
	api.register("percent%sign@example.com", strongPassword)
	w := api.do(request{method: "POST", path: "/auth/register", body: map[string]string{"email": "named@example.com", "password": strongPassword, "name": "Ada_Lovelace"}})
	require.Equal(t, http.StatusCreated, w.Code)

	search := func(q string) []string {
		w := api.do(request{method: "GET", path: "/admin/users?q=" + url.QueryEscape(q), token: token})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var emails []string
		for _, u := range decodeBody[userPage](t, w).Users {
			emails = append(emails, u.Email)
		}
		return emails
	}
	assert.Equal(t, []string{"percent%sign@example.com"}, search("%"))
	assert.Equal(t, []string{"named@example.com"}, search("_"))
	assert.Equal(t, []string{"named@example.com"}, search("LOVELACE"))
	assert.Equal(t, []string{"admin@example.com"}, search("ADMIN@"))
	assert.Empty(t, search("' OR 1=1 --"))
	assert.Len(t, search(""), 3)

	for _, q := range []string{"limit=0", "limit=201", "limit=abc", "limit=-1", "cursor=%%%", "cursor=!!", "q=" + url.QueryEscape(string(make([]byte, 300)))} {
		requireProblem(t, api.do(request{method: "GET", path: "/admin/users?" + q, token: token}), http.StatusBadRequest)
	}
	w = api.do(request{method: "GET", path: "/admin/users?limit=200", token: token})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Nil(t, decodeBody[userPage](t, w).NextCursor)
}

func TestAdminCreateGetAndDeleteUsers(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin, token := api.signUpAdmin("admin@example.com")

	w := api.do(request{method: "POST", path: "/admin/users", token: token, body: map[string]any{"email": "New@Example.com", "password": strongPassword, "name": "New", "role": "admin"}})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	created := decodeBody[user](t, w)
	assert.Equal(t, "new@example.com", created.Email)
	assert.Equal(t, "admin", created.Role)

	requireProblem(t, api.do(request{method: "POST", path: "/admin/users", token: token, body: map[string]any{"email": "new@example.com", "password": strongPassword}}), http.StatusConflict)
	p := requireProblem(t, api.do(request{method: "POST", path: "/admin/users", token: token, body: map[string]any{"email": "x@example.com", "password": "123456789", "role": "root"}}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"password", "role"}, fieldNames(p))

	w = api.do(request{method: "GET", path: "/admin/users/" + created.ID, token: token})
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, created, decodeBody[user](t, w))
	requireProblem(t, api.do(request{method: "GET", path: "/admin/users/nope", token: token}), http.StatusNotFound)

	victim := api.signUp("victim@example.com")
	victimUser := decodeBody[user](t, api.do(request{method: "GET", path: "/users/me", token: victim}))
	require.Equal(t, http.StatusNoContent, api.do(request{method: "DELETE", path: "/admin/users/" + victimUser.ID, token: token}).Code)
	requireProblem(t, api.do(request{method: "GET", path: "/users/me", token: victim}), http.StatusUnauthorized)
	requireProblem(t, api.do(request{method: "DELETE", path: "/admin/users/" + victimUser.ID, token: token}), http.StatusNotFound)

	// Two admins: one may delete the other, but not the last one left.
	require.Equal(t, http.StatusNoContent, api.do(request{method: "DELETE", path: "/admin/users/" + created.ID, token: token}).Code)
	p = requireProblem(t, api.do(request{method: "DELETE", path: "/admin/users/" + admin.ID, token: token}), http.StatusConflict)
	assert.Contains(t, p.Detail, "last enabled admin")
}

func TestAdminUpdateUser(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin, token := api.signUpAdmin("admin@example.com")
	target := api.signUp("target@example.com")
	targetUser := decodeBody[user](t, api.do(request{method: "GET", path: "/users/me", token: target}))
	patch := func(id string, body any) *httptest.ResponseRecorder {
		return api.do(request{method: "PATCH", path: "/admin/users/" + id, token: token, body: body})
	}

	w := patch(targetUser.ID, map[string]any{"name": "Tara", "email": "TARA@example.com"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	got := decodeBody[user](t, w)
	assert.Equal(t, "Tara", got.Name)
	assert.Equal(t, "tara@example.com", got.Email)
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: target}).Code, "profile edits keep sessions")

	requireProblem(t, patch(targetUser.ID, map[string]any{"email": "admin@example.com"}), http.StatusConflict)
	p := requireProblem(t, patch(targetUser.ID, map[string]any{"role": "owner", "password": "short"}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"role", "password"}, fieldNames(p))
	requireProblem(t, patch(targetUser.ID, map[string]any{"disabled": "yes"}), http.StatusBadRequest)
	requireProblem(t, patch("nope", map[string]any{"name": "x"}), http.StatusNotFound)

	// A new password ends the user's sessions.
	w = patch(targetUser.ID, map[string]any{"password": "set by the admin 1"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	requireProblem(t, api.do(request{method: "GET", path: "/users/me", token: target}), http.StatusUnauthorized)
	target = api.login("tara@example.com", "set by the admin 1").AccessToken

	// Disabling ends them too and blocks logging in.
	w = patch(targetUser.ID, map[string]any{"disabled": true})
	require.Equal(t, http.StatusOK, w.Code)
	assert.True(t, decodeBody[user](t, w).Disabled)
	requireProblem(t, api.do(request{method: "GET", path: "/users/me", token: target}), http.StatusUnauthorized)
	requireProblem(t, api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "tara@example.com", "password": "set by the admin 1"}}), http.StatusForbidden)
	require.Equal(t, http.StatusOK, patch(targetUser.ID, map[string]any{"disabled": false}).Code)
	api.login("tara@example.com", "set by the admin 1")

	// The last enabled admin can be neither demoted nor disabled.
	for _, body := range []map[string]any{{"role": "user"}, {"disabled": true}} {
		p := requireProblem(t, patch(admin.ID, body), http.StatusConflict)
		assert.Contains(t, p.Detail, "last enabled admin")
	}
	require.Equal(t, http.StatusOK, patch(targetUser.ID, map[string]any{"role": "admin"}).Code)
	require.Equal(t, http.StatusOK, patch(admin.ID, map[string]any{"role": "user"}).Code, "with a second admin, the first may step down")
}

func TestAdminRevokeSessions(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	_, token := api.signUpAdmin("admin@example.com")
	one := api.signUp("s@example.com")
	two := api.login("s@example.com", strongPassword).AccessToken
	id := decodeBody[user](t, api.do(request{method: "GET", path: "/users/me", token: one})).ID

	require.Equal(t, http.StatusNoContent, api.do(request{method: "DELETE", path: "/admin/users/" + id + "/sessions", token: token}).Code)
	for _, tok := range []string{one, two} {
		requireProblem(t, api.do(request{method: "GET", path: "/users/me", token: tok}), http.StatusUnauthorized)
	}
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: token}).Code)
	requireProblem(t, api.do(request{method: "DELETE", path: "/admin/users/nope/sessions", token: token}), http.StatusNotFound)
}

func TestAdminAudit(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin, token := api.signUpAdmin("admin@example.com")
	target := api.register("t@example.com", strongPassword)
	api.do(request{method: "PATCH", path: "/admin/users/" + target.ID, token: token, body: map[string]any{"name": "T"}})
	api.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": "t@example.com", "password": "wrong"}})

	type page struct {
		Events     []auditEvent `json:"events"`
		NextCursor *string      `json:"next_cursor"`
	}
	list := func(query string) page {
		w := api.do(request{method: "GET", path: "/admin/audit?" + query, token: token})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		return decodeBody[page](t, w)
	}
	all := list("")
	var events []string
	for _, e := range all.Events {
		events = append(events, e.Event)
	}
	assert.Equal(t, []string{"login_failed", "admin_user_update", "register", "login", "register"}, events, "newest first")
	update := all.Events[1]
	require.NotNil(t, update.ActorID)
	assert.Equal(t, admin.ID, *update.ActorID, "admin actions name the admin")
	assert.Equal(t, target.ID, *update.UserID)

	forTarget := list("user_id=" + target.ID)
	assert.Len(t, forTarget.Events, 3)
	assert.Len(t, list("event=register").Events, 2)

	first := list("limit=2")
	require.Len(t, first.Events, 2)
	require.NotNil(t, first.NextCursor)
	second := list("limit=2&cursor=" + *first.NextCursor)
	require.Len(t, second.Events, 2)
	assert.Equal(t, all.Events[2].ID, second.Events[0].ID)
	last := list("limit=2&cursor=" + *second.NextCursor)
	assert.Len(t, last.Events, 1)
	assert.Nil(t, last.NextCursor)

	for _, q := range []string{"limit=0", "limit=1000", "cursor=bad!", "cursor=" + encodeCursor("abc"), "cursor=" + encodeCursor("-5")} {
		requireProblem(t, api.do(request{method: "GET", path: "/admin/audit?" + q, token: token}), http.StatusBadRequest)
	}
}
