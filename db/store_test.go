package db_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"spaceauth/db"
	"spaceauth/schema"
)

func openStore(t *testing.T, path string) *db.Store {
	t.Helper()
	s, err := db.Open(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenCreatesDirectoryFileAndTables(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "missing", "dir", "auth.db")
	s := openStore(t, path)

	assert.True(t, s.Created)
	assert.Equal(t, schema.Version, s.SchemaVersion)
	assert.FileExists(t, path)
	for _, table := range []string{"users", "sessions", "audit_events"} {
		var n int
		require.NoError(t, s.ReadDB().QueryRow("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&n))
		assert.Equal(t, 1, n, table)
	}
}

func TestOpenKeepsDataAcrossReopens(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "auth.db")
	now := time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC)

	s, err := db.Open(ctx, path)
	require.NoError(t, err)
	want, err := s.Write.CreateUser(ctx, db.CreateUserParams{
		ID: "u1", Email: "a@example.com", Name: "A", PasswordHash: "h", Role: "user", CreatedAt: now, UpdatedAt: now,
	})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = os.Stat(path + "-wal")
	assert.True(t, os.IsNotExist(err), "Close leaves no WAL behind")

	for range 2 {
		s = openStore(t, path)
		assert.False(t, s.Created)
		got, err := s.Read.GetUserByID(ctx, "u1")
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.True(t, got.CreatedAt.Equal(now), "times round-trip with milliseconds")
		require.NoError(t, s.Close())
	}
}

func TestOpenRefusesWithoutTouchingTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	content := []byte("these are notes, not a database\n" + string(make([]byte, 5000)))
	require.NoError(t, os.WriteFile(notDB, content, 0o600))
	parentFile := filepath.Join(dir, "plainfile")
	require.NoError(t, os.WriteFile(parentFile, nil, 0o600))

	foreign := filepath.Join(dir, "old-app.db") // another program's database, e.g. the old FastAPI one
	other, err := sql.Open("sqlite3", foreign)
	require.NoError(t, err)
	_, err = other.Exec("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, hashed_password TEXT)")
	require.NoError(t, err)
	require.NoError(t, other.Close())
	foreignBytes, err := os.ReadFile(foreign)
	require.NoError(t, err)

	cases := []struct {
		name, path, cause string
		keep              []byte
	}{
		{"directory", dir, "is a directory", nil},
		{"not a database", notDB, "not a database", content},
		{"parent is a file", filepath.Join(parentFile, "auth.db"), "not a directory", nil},
		{"foreign tables", foreign, "not a spaceauth database", foreignBytes},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := db.Open(t.Context(), c.path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.path)
			assert.Contains(t, err.Error(), c.cause)
			assert.NotContains(t, err.Error(), "\n")
			if c.keep != nil {
				got, err := os.ReadFile(c.path)
				require.NoError(t, err)
				assert.True(t, bytes.Equal(c.keep, got), "file unchanged")
			}
		})
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "auth.db")
	s, err := db.Open(t.Context(), path)
	require.NoError(t, err)
	_, err = s.WriteDB().Exec("PRAGMA user_version = 999")
	require.NoError(t, err)
	require.NoError(t, s.Close())

	_, err = db.Open(t.Context(), path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "schema version 999 is newer than this binary's")
}

func TestUnwritableDirectory(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	require.NoError(t, os.Mkdir(dir, 0o500))
	path := filepath.Join(dir, "auth.db")
	_, err := db.Open(context.Background(), path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
}
