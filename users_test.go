package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBootstrapAdminIsIdempotent(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "auth.db")
	secrets := env("ADMIN_EMAIL", " Boss@Example.com ", "ADMIN_PASSWORD", "first admin passphrase")

	s := startServer(t, dbPath, secrets)
	code, login := s.call(t, "POST", "/auth/login", "", `{"email":"boss@example.com","password":"first admin passphrase"}`)
	require.Equal(t, http.StatusOK, code, login)
	assert.Equal(t, "admin", login["user"].(map[string]any)["role"])
	assert.Contains(t, s.logs.String(), `"result":"created"`)
	assert.NotContains(t, s.logs.String(), "first admin passphrase")
	require.NoError(t, s.stop())

	// Restarted with a different password: no duplicate, no password change.
	s = startServer(t, dbPath, env("ADMIN_EMAIL", "boss@example.com", "ADMIN_PASSWORD", "another passphrase here"))
	assert.Contains(t, s.logs.String(), `"result":"unchanged"`)
	code, _ = s.call(t, "POST", "/auth/login", "", `{"email":"boss@example.com","password":"first admin passphrase"}`)
	assert.Equal(t, http.StatusOK, code)
	code, page := s.call(t, "GET", "/admin/users", login["access_token"].(string), "")
	require.Equal(t, http.StatusOK, code)
	assert.Len(t, page["users"], 1)
	require.NoError(t, s.stop())

	// ADMIN_PASSWORD_RESET=1 replaces it.
	s = startServer(t, dbPath, env("ADMIN_EMAIL", "boss@example.com", "ADMIN_PASSWORD", "another passphrase here", "ADMIN_PASSWORD_RESET", "1"))
	code, _ = s.call(t, "POST", "/auth/login", "", `{"email":"boss@example.com","password":"another passphrase here"}`)
	assert.Equal(t, http.StatusOK, code)
}

func TestBootstrapPromotesAnExistingUserOnlyWithItsPassword(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "auth.db")
	s := startServer(t, dbPath, env())
	code, _ := s.call(t, "POST", "/auth/register", "", credentials) // a stranger got there first
	require.Equal(t, http.StatusCreated, code)
	require.NoError(t, s.stop())

	var logs strings.Builder
	err := run(t.Context(), []string{"spaceauth", "--port", "0", "--database-path", dbPath},
		env("ADMIN_EMAIL", "keep@example.com", "ADMIN_PASSWORD", "the operator's passphrase"), nil, io.Discard, &logs)
	require.Error(t, err, "start-up must refuse to hand admin to whoever registered the address")
	assert.Contains(t, err.Error(), "ADMIN_PASSWORD_RESET=1")
	assert.NotContains(t, err.Error()+logs.String(), "the operator's passphrase")

	s = startServer(t, dbPath, env())
	code, login := s.call(t, "POST", "/auth/login", "", credentials)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "user", login["user"].(map[string]any)["role"], "the refusal changed nothing")
	require.NoError(t, s.stop())

	// The account's own password proves the operator owns it.
	s = startServer(t, dbPath, env("ADMIN_EMAIL", "keep@example.com", "ADMIN_PASSWORD", "a long enough passphrase"))
	assert.Contains(t, s.logs.String(), `"result":"promoted"`)
	code, login = s.call(t, "POST", "/auth/login", "", credentials)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "admin", login["user"].(map[string]any)["role"])
	require.NoError(t, s.stop())
}

func TestBootstrapTakesAnAccountOverWithPasswordReset(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "auth.db")
	s := startServer(t, dbPath, env())
	code, _ := s.call(t, "POST", "/auth/register", "", credentials)
	require.Equal(t, http.StatusCreated, code)
	code, stranger := s.call(t, "POST", "/auth/login", "", credentials)
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, s.stop())

	s = startServer(t, dbPath, env("ADMIN_EMAIL", "keep@example.com", "ADMIN_PASSWORD", "the operator's passphrase", "ADMIN_PASSWORD_RESET", "1"))
	assert.Contains(t, s.logs.String(), `"result":"promoted, password reset"`)
	code, _ = s.call(t, "POST", "/auth/login", "", credentials)
	assert.Equal(t, http.StatusUnauthorized, code, "the stranger's password is gone")
	code, _ = s.call(t, "GET", "/users/me", stranger["access_token"].(string), "")
	assert.Equal(t, http.StatusUnauthorized, code, "and so are the stranger's sessions")
	code, login := s.call(t, "POST", "/auth/login", "", `{"email":"keep@example.com","password":"the operator's passphrase"}`)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "admin", login["user"].(map[string]any)["role"])
}

func TestBootstrapRefusesABadAdminPassword(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "auth.db")
	err := run(t.Context(), []string{"spaceauth", "--port", "0", "--database-path", dbPath}, env("ADMIN_EMAIL", "a@example.com", "ADMIN_PASSWORD", "password"), nil, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ADMIN_EMAIL")
	assert.Contains(t, err.Error(), "common")
	assert.NotContains(t, err.Error(), `"password"`)

	err = run(t.Context(), []string{"spaceauth", "--database-path", dbPath}, env("ADMIN_EMAIL", "a@example.com"), nil, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "ADMIN_EMAIL and ADMIN_PASSWORD must be set together")
}

// cli runs a users command and returns its output and error.
func cli(t *testing.T, dbPath, stdin string, args ...string) (string, error) {
	t.Helper()
	return command(t, env("DATABASE_PATH", dbPath), stdin, append([]string{"users"}, args...)...)
}

func TestUsersCommandsOnALiveDatabase(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "auth.db")
	s := startServer(t, dbPath, env())

	out, err := cli(t, dbPath, "cli made passphrase\r\nsecond line is ignored\n", "create", "--email", "Ops@Example.com", "--admin", "--name", "Ops")
	require.NoError(t, err)
	assert.Contains(t, out, "created ops@example.com")
	assert.Contains(t, out, "role admin")

	// The running server sees the account at once.
	code, login := s.call(t, "POST", "/auth/login", "", `{"email":"ops@example.com","password":"cli made passphrase"}`)
	require.Equal(t, http.StatusOK, code, login)
	token := login["access_token"].(string)

	_, err = cli(t, dbPath, "new cli passphrase\n", "set-password", "--email", "ops@example.com")
	require.NoError(t, err)
	code, _ = s.call(t, "GET", "/users/me", token, "")
	assert.Equal(t, http.StatusUnauthorized, code, "a new password ends the sessions")
	code, _ = s.call(t, "POST", "/auth/login", "", `{"email":"ops@example.com","password":"new cli passphrase"}`)
	assert.Equal(t, http.StatusOK, code)

	_, err = cli(t, dbPath, "second user passphrase\n", "create", "--email", "two@example.com")
	require.NoError(t, err)
	for _, c := range []string{"promote", "demote", "disable", "enable"} {
		out, err := cli(t, dbPath, "", c, "--email", "TWO@example.com")
		require.NoError(t, err, c)
		assert.Contains(t, out, "two@example.com")
	}
	out, err = cli(t, dbPath, "", "list")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	assert.Contains(t, lines[1], "ops@example.com")
	assert.Contains(t, lines[1], "admin")
	assert.Contains(t, lines[2], "two@example.com")
	assert.Contains(t, lines[2], "user")

	// The last enabled admin cannot be removed from the command line either.
	_, err = cli(t, dbPath, "", "demote", "--email", "ops@example.com")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "last enabled admin")
	_, err = cli(t, dbPath, "", "disable", "--email", "ops@example.com")
	assert.ErrorContains(t, err, "last enabled admin")
}

func TestUsersCommandErrors(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "auth.db")
	_, err := cli(t, dbPath, "", "list")
	assert.ErrorContains(t, err, "does not exist")
	assert.ErrorContains(t, err, "init")
	assert.NoFileExists(t, dbPath, "an admin command does not create a database")

	require.NoError(t, run(t.Context(), []string{"spaceauth", "init", "--database-path", dbPath}, env(), nil, io.Discard, io.Discard))
	cases := []struct {
		stdin   string
		args    []string
		wantErr string
	}{
		{"", []string{"promote", "--email", "ghost@example.com"}, `no user with email "ghost@example.com"`},
		{"", []string{"create", "--email", "x@example.com"}, "stdin"},
		{"short\n", []string{"create", "--email", "x@example.com"}, "password must be at least 8 characters"},
		{"good passphrase\n", []string{"create", "--email", "not-an-email"}, "email must contain exactly one @"},
		{"", []string{"promote"}, "--email is required"},
		{"", []string{"explode", "--email", "x@example.com"}, `unknown users command "explode"`},
		{"", []string{"list", "extra"}, "unexpected arguments"},
		{"", nil, "users needs a command"},
	}
	for _, c := range cases {
		_, err := cli(t, dbPath, c.stdin, c.args...)
		require.Error(t, err, c.args)
		assert.Contains(t, err.Error(), c.wantErr, c.args)
	}
}
