package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiskFullAnswers503AndCorruptsNothing(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("full@example.com")

	// The single writer connection may not grow the file by one more page:
	// SQLITE_FULL, exactly what a full disk gives, once its free pages are used.
	_, err := api.store.WriteDB().Exec("PRAGMA max_page_count = 1") // never below the current size
	require.NoError(t, err)
	var w *httptest.ResponseRecorder
	var before string
	for i := range 500 {
		before = fingerprint(t, api)
		w = api.do(request{method: "POST", path: "/auth/register", body: map[string]string{"email": fmt.Sprintf("fill%d@example.com", i), "password": strongPassword}})
		if w.Code != http.StatusCreated {
			break
		}
	}
	p := requireProblem(t, w, http.StatusServiceUnavailable)
	assert.NotContains(t, p.Detail, "full", "internals stay in the log")
	assert.NotEmpty(t, w.Header().Get("Retry-After"))
	assert.Contains(t, api.logs.String(), "full")
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: token}).Code, "reads go on")
	assert.Equal(t, before, fingerprint(t, api))

	_, err = api.store.WriteDB().Exec("PRAGMA max_page_count = 1073741823")
	require.NoError(t, err)
	var integrity string
	require.NoError(t, api.store.ReadDB().QueryRow("PRAGMA integrity_check").Scan(&integrity))
	assert.Equal(t, "ok", integrity)
	api.register("late@example.com", strongPassword)
}

func TestDeletedDatabaseFileStopsWritesNotReads(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	token := api.signUp("gone@example.com")
	require.NoError(t, api.store.VerifyFile(t.Context()))

	require.NoError(t, os.Remove(api.store.Path))
	err := api.store.VerifyFile(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "deleted")

	w := api.do(request{method: "POST", path: "/auth/register", body: map[string]string{"email": "lost@example.com", "password": strongPassword}})
	requireProblem(t, w, http.StatusServiceUnavailable)
	requireProblem(t, api.do(request{method: "POST", path: "/auth/logout", token: token}), http.StatusServiceUnavailable)
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/users/me", token: token}).Code, "reads go on")
	requireProblem(t, api.do(request{method: "GET", path: "/readyz"}), http.StatusServiceUnavailable)
	assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/healthz"}).Code)
}

func TestReadOnlyDatabaseFileStopsWrites(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root can write any file")
	}
	api := newTestAPI(t)
	require.NoError(t, os.Chmod(api.store.Path, 0o444))
	assert.ErrorContains(t, api.store.VerifyFile(t.Context()), "no longer writable")
	w := api.do(request{method: "POST", path: "/auth/register", body: map[string]string{"email": "ro@example.com", "password": strongPassword}})
	requireProblem(t, w, http.StatusServiceUnavailable)
}
