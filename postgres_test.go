package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"spaceauth/db/postgres/pgtest"
)

const adminPassword = "the admin passphrase"

// replicaCall sends one request to a replica.
func replicaCall(t *testing.T, p *process, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	return callURL(t, p.url, method, path, token, body)
}

// TestReplicasShareOnePostgreSQL runs two real servers on one database:
// what one does, the other sees at once.
func TestReplicasShareOnePostgreSQL(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	env := []string{"DATABASE_URL=" + url, "ADMIN_EMAIL=admin@example.com", "ADMIN_PASSWORD=" + adminPassword}
	a, b := startProcess(t, env), startProcess(t, env)

	require.Equal(t, http.StatusCreated, a.post(t, "/auth/register", credentials))
	code, login := replicaCall(t, b, "POST", "/auth/login", "", credentials)
	require.Equal(t, http.StatusOK, code, "registered on A, logs in on B")
	token := login["access_token"].(string)
	code, _ = replicaCall(t, a, "GET", "/users/me", token, "")
	require.Equal(t, http.StatusOK, code, "B's session works on A")
	code, _ = replicaCall(t, b, "POST", "/auth/logout", token, "")
	require.Equal(t, http.StatusNoContent, code)
	code, _ = replicaCall(t, a, "GET", "/users/me", token, "")
	assert.Equal(t, http.StatusUnauthorized, code, "logged out on B, dead on A at once")

	_, admin := replicaCall(t, a, "POST", "/auth/login", "", fmt.Sprintf(`{"email":"admin@example.com","password":%q}`, adminPassword))
	_, login = replicaCall(t, b, "POST", "/auth/login", "", credentials)
	user := login["user"].(map[string]any)["id"].(string)
	code, _ = replicaCall(t, a, "PATCH", "/admin/users/"+user, admin["access_token"].(string), `{"disabled":true}`)
	require.Equal(t, http.StatusOK, code)
	code, _ = replicaCall(t, b, "GET", "/users/me", login["access_token"].(string), "")
	assert.Equal(t, http.StatusUnauthorized, code, "disabled on A, refused on B at once")

	code, problem := replicaCall(t, b, "POST", "/admin/backups", admin["access_token"].(string), "")
	assert.Equal(t, http.StatusConflict, code)
	assert.Contains(t, problem["detail"], "pg_dump")
	assert.NotContains(t, a.logs.String()+b.logs.String(), "password=", "no URL password in the logs")
	a.stop(t)
	b.stop(t)
}

// TestReplicasStartingAtOnceOnAnEmptyDatabaseAllBecomeReady.
func TestReplicasStartingAtOnceOnAnEmptyDatabaseAllBecomeReady(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	replicas := make([]*process, 4)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { replicas[i] = startProcess(t, []string{"DATABASE_URL=" + url}) })
	}
	wg.Wait()
	for _, p := range replicas {
		code, body := replicaCall(t, p, "GET", "/readyz", "", "")
		assert.Equal(t, http.StatusOK, code, body)
		p.stop(t)
	}
}

func TestDatabaseURLSettings(t *testing.T) {
	t.Parallel()
	_, err := command(t, env("DATABASE_URL", "postgres://app:s3cret@db.example/app", "DATABASE_PATH", "x.db"), "", "serve")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DATABASE_PATH and DATABASE_URL are both set")
	_, err = command(t, env("DATABASE_URL", "mysql://app:s3cret@db.example/app"), "", "serve")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "postgres://")
	assert.NotContains(t, err.Error(), "s3cret")
	_, err = command(t, env("DATABASE_URL", "postgres://app:s3cret@127.0.0.1:1/app?connect_timeout=1"), "", "serve", "--port", "0")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")
	_, err = command(t, env("DATABASE_URL", "postgres://app:s3cret@127.0.0.1:1/app", "BACKUP_DIR", t.TempDir()), "", "serve", "--port", "0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pg_dump")
	for _, args := range [][]string{{"backup", filepath.Join(t.TempDir(), "x.db")}, {"restore", "x.db"}} {
		_, err = command(t, env("DATABASE_URL", "postgres://app:s3cret@127.0.0.1:1/app"), "", args...)
		require.Error(t, err, args[0])
		assert.Contains(t, err.Error(), "pg_dump", args[0])
	}
}

// dump is every row of a SQLite file's tables, in a stable order.
func dump(t *testing.T, path string) string {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer conn.Close()
	var out strings.Builder
	for _, q := range []string{
		"SELECT id, email, name, password_hash, role, disabled, created_at, updated_at, last_login_at FROM users ORDER BY id",
		"SELECT id, user_id, hex(token_hash), created_at, last_used_at, expires_at, user_agent, ip FROM sessions ORDER BY id",
		"SELECT id, event, user_id, actor_id, ip, user_agent, created_at FROM audit_events ORDER BY id",
	} {
		rows, err := conn.Query(q)
		require.NoError(t, err)
		cols, _ := rows.Columns()
		vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			require.NoError(t, rows.Scan(ptrs...))
			fmt.Fprintln(&out, vals...)
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	return out.String()
}

// TestCopyRoundTripsEveryRow copies SQLite → PostgreSQL → SQLite and
// compares every row, then checks the copies are usable and that copy
// refuses a target that is not empty.
func TestCopyRoundTripsEveryRow(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first.db"), filepath.Join(dir, "second.db")
	sqlite := env("DATABASE_PATH", first)
	_, err := command(t, sqlite, "", "seed", "--users", "1200", "--tokens", filepath.Join(dir, "tokens.txt"))
	require.NoError(t, err)
	_, err = command(t, sqlite, "a long enough passphrase\n", "users", "create", "--email", "Someone@Example.com", "--admin", "--name", "Sómeone")
	require.NoError(t, err)
	// Disabling ends the account's one session.
	_, err = command(t, sqlite, "", "users", "disable", "--email", "seed7@bench.example")
	require.NoError(t, err)

	conn, err := sql.Open("sqlite3", "file:"+first)
	require.NoError(t, err)
	_, err = conn.Exec("UPDATE users SET last_login_at = updated_at WHERE email LIKE 'seed1%'")
	require.NoError(t, conn.Close())
	require.NoError(t, err)

	out, err := command(t, sqlite, "", "copy", "--to", url)
	require.NoError(t, err)
	assert.Contains(t, out, "copied 1201 users, 1199 sessions and 2 audit events")
	_, err = command(t, sqlite, "", "copy", "--to", url)
	assert.ErrorContains(t, err, "not empty")

	pg := env("DATABASE_URL", url)
	_, err = command(t, pg, "", "copy", "--to", second)
	require.NoError(t, err)
	assert.Equal(t, dump(t, first), dump(t, second), "every row survives the round trip")

	// New rows follow the copied ones on PostgreSQL too.
	_, err = command(t, pg, "another long passphrase\n", "users", "create", "--email", "after@example.com")
	require.NoError(t, err)
	out, err = command(t, pg, "", "users", "list")
	require.NoError(t, err)
	assert.Contains(t, out, "after@example.com")
}

// TestFailedLoginsAcrossReplicasTripTheBackoff: guesses spread over two
// replicas are counted as on one, and a device token from one replica is
// known to the other.
func TestFailedLoginsAcrossReplicasTripTheBackoff(t *testing.T) {
	if raceDetector {
		t.Skip("its back-off windows are shorter than a hash under the race detector")
	}
	t.Parallel()
	url := pgtest.Database(t)
	a, b := startProcess(t, []string{"DATABASE_URL=" + url}), startProcess(t, []string{"DATABASE_URL=" + url})
	require.Equal(t, http.StatusCreated, a.post(t, "/auth/register", credentials))
	code, login := replicaCall(t, a, "POST", "/auth/login", "", credentials)
	require.Equal(t, http.StatusOK, code)
	device := login["device_token"].(string)

	// Alternating replicas, five free failures pass; the sixth waits (1 s
	// from the fifth, then 2 s, 4 s: a slow machine may let a few more
	// through). Counted per replica, none would wait before the eleventh.
	wrong := `{"email":"keep@example.com","password":"not the passphrase"}`
	waited := 0
	for i := range 9 {
		code, _ := replicaCall(t, []*process{a, b}[i%2], "POST", "/auth/login", "", wrong)
		if code == http.StatusTooManyRequests {
			waited = i + 1
			break
		}
		require.Equal(t, http.StatusUnauthorized, code, "guess %d", i+1)
	}
	assert.GreaterOrEqual(t, waited, 6, "five free failures")
	assert.NotZero(t, waited, "guesses spread over replicas are held back as on one")
	code, _ = replicaCall(t, b, "POST", "/auth/login", "", fmt.Sprintf(`{"email":"keep@example.com","password":"a long enough passphrase","device_token":%q}`, device))
	assert.Equal(t, http.StatusOK, code, "the owner's device from A gets in on B")
	a.stop(t)
	b.stop(t)
}
