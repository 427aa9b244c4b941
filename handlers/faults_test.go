package handlers

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"spaceauth/db"
)

func TestDiskFullAnswers503AndCorruptsNothing(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.requireSQLite()
	token := api.signUp("full@example.com")

	// The single writer connection may not grow the file by one more page:
	// SQLITE_FULL, exactly what a full disk gives, once its free pages are used.
	_, err := api.exec("PRAGMA max_page_count = 1") // never below the current size
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

	_, err = api.exec("PRAGMA max_page_count = 1073741823")
	require.NoError(t, err)
	var integrity string
	require.NoError(t, api.queryRow("PRAGMA integrity_check").Scan(&integrity))
	assert.Equal(t, "ok", integrity)
	api.register("late@example.com", strongPassword)
}

// TestDeletedDatabaseFileFailsTheNextWrite: the very first write after the
// file is gone is refused, not acknowledged into a file no start will open,
// and tokens stop working rather than outliving a logout that cannot be
// written.
func TestDeletedDatabaseFileFailsTheNextWrite(t *testing.T) {
	t.Parallel()
	for _, victim := range []string{"", "-wal"} {
		t.Run("remove file"+victim, func(t *testing.T) {
			t.Parallel()
			api := newTestAPI(t)
			api.requireSQLite()
			token := api.signUp("gone@example.com")
			require.NoError(t, os.Remove(api.store.Path+victim))

			w := api.do(request{method: "POST", path: "/auth/register", body: map[string]string{"email": "lost@example.com", "password": strongPassword}})
			requireProblem(t, w, http.StatusServiceUnavailable)
			assert.Contains(t, api.logs.String(), "deleted")
			requireProblem(t, api.do(request{method: "POST", path: "/auth/logout", token: token}), http.StatusServiceUnavailable)
			requireProblem(t, api.do(request{method: "GET", path: "/users/me", token: token}), http.StatusServiceUnavailable)
			requireProblem(t, api.do(request{method: "GET", path: "/readyz"}), http.StatusServiceUnavailable)
			assert.Equal(t, http.StatusOK, api.do(request{method: "GET", path: "/healthz"}).Code)
			assert.ErrorIs(t, api.store.VerifyFile(t.Context()), db.ErrWritesRefused)
		})
	}
}

func TestReadOnlyDatabaseFileStopsWrites(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root can write any file")
	}
	api := newTestAPI(t)
	api.requireSQLite()
	require.NoError(t, os.Chmod(api.store.Path, 0o444))
	assert.ErrorContains(t, api.store.VerifyFile(t.Context()), "no longer writable")
	w := api.do(request{method: "POST", path: "/auth/register", body: map[string]string{"email": "ro@example.com", "password": strongPassword}})
	requireProblem(t, w, http.StatusServiceUnavailable)
}

// TestDeletedAccountsLeaveNothingInTheFileOrSnapshots: the email, name and
// hash of a closed account are overwritten, not left in free pages, and a
// snapshot holds no free pages at all.
func TestDeletedAccountsLeaveNothingInTheFileOrSnapshots(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.requireSQLite()
	for i := range 50 { // enough rows that the deleted one shares its pages
		api.register(fmt.Sprintf("neighbour%d@example.com", i), strongPassword)
	}
	const needle = "needle-7f3a9c@example.com"
	api.register(needle, strongPassword)
	token := api.login(needle, strongPassword).AccessToken
	var hash string
	require.NoError(t, api.queryRow("SELECT password_hash FROM users WHERE email = ?", needle).Scan(&hash))
	w := api.do(request{method: "DELETE", path: "/users/me", token: token, body: map[string]string{"password": strongPassword}})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())

	_, err := api.exec("PRAGMA wal_checkpoint(TRUNCATE)")
	require.NoError(t, err)
	snapshot := filepath.Join(t.TempDir(), "snap.db")
	require.NoError(t, api.store.Snapshot(t.Context(), snapshot))
	for _, path := range []string{api.store.Path, snapshot} {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.False(t, bytes.Contains(data, []byte(needle)), "the email is in %s", path)
		assert.False(t, bytes.Contains(data, []byte(hash)), "the hash is in %s", path)
	}
	conn, err := sql.Open("sqlite3", "file:"+snapshot+"?mode=ro")
	require.NoError(t, err)
	defer conn.Close()
	var free int
	require.NoError(t, conn.QueryRow("PRAGMA freelist_count").Scan(&free))
	assert.Zero(t, free)
}
