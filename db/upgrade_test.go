package db_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"spaceauth/db"
	"spaceauth/schema"
)

// createV1 builds a database as the first release left it, with rows in
// every table.
func createV1(t *testing.T, path string) {
	t.Helper()
	v1, err := os.ReadFile("../schema/released/v1.sql")
	require.NoError(t, err)
	conn, err := sql.Open("sqlite3", "file:"+path+"?_pragma=foreign_keys(on)&_timefmt="+db.TimeFormat)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Exec(string(v1) + "; PRAGMA user_version = 1;")
	require.NoError(t, err)
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	_, err = conn.Exec(`INSERT INTO users (id, email, name, password_hash, role, disabled, created_at, updated_at)
		VALUES ('u1', 'old@example.com', 'Old', 'hash', 'admin', 0, ?1, ?1), ('u2', 'two@example.com', '', 'hash2', 'user', 1, ?1, ?1)`, at)
	require.NoError(t, err)
	_, err = conn.Exec(`INSERT INTO sessions (id, user_id, token_hash, created_at, last_used_at, expires_at, user_agent, ip)
		VALUES ('s1', 'u1', x'0102', ?1, ?1, ?2, 'curl', '10.0.0.1')`, at, at.Add(time.Hour))
	require.NoError(t, err)
	_, err = conn.Exec(`INSERT INTO audit_events (event, user_id, ip, user_agent, created_at) VALUES ('register', 'u1', '10.0.0.1', 'curl', ?)`, at)
	require.NoError(t, err)
}

func describeSchema(t *testing.T, conn *sql.DB) []string {
	t.Helper()
	d, err := db.DescribeSchema(t.Context(), conn)
	require.NoError(t, err)
	return d
}

func TestUpgradeFromV1MatchesFreshSchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	upgradedPath := filepath.Join(dir, "upgraded.db")
	createV1(t, upgradedPath)

	upgraded := openStore(t, upgradedPath)
	fresh := openStore(t, filepath.Join(dir, "fresh.db"))

	var names []string
	for _, s := range schema.Steps {
		names = append(names, s.Name)
	}
	assert.Equal(t, names, upgraded.Upgrade.Applied)
	assert.Equal(t, 1, upgraded.Upgrade.From)
	require.NotEmpty(t, upgraded.Upgrade.BackupPath)
	assert.FileExists(t, upgraded.Upgrade.BackupPath)
	assert.Equal(t, describeSchema(t, fresh.ReadDB()), describeSchema(t, upgraded.ReadDB()))

	// Every row written at version 1 reads back through the generated queries.
	u1, err := upgraded.Read.GetUserByID(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, "old@example.com", u1.Email)
	assert.Equal(t, "admin", u1.Role)
	assert.False(t, u1.LastLoginAt.Valid)
	u2, err := upgraded.Read.GetUserByEmail(ctx, "TWO@example.com")
	require.NoError(t, err)
	assert.True(t, u2.Disabled)
	at := time.Date(2025, 6, 1, 12, 30, 0, 0, time.UTC)
	live, err := upgraded.Read.AuthenticateToken(ctx, db.AuthenticateTokenParams{TokenHash: []byte{1, 2}, Now: at})
	require.NoError(t, err)
	assert.Equal(t, "s1", live.SessionID)
	assert.Equal(t, "u1", live.ID)
	events, err := upgraded.Read.ListAuditEvents(ctx, db.ListAuditEventsParams{Limit: 10})
	require.NoError(t, err)
	assert.Len(t, events, 1)
}

func TestConcurrentStartsApplyEachStepOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "auth.db")
	createV1(t, path)

	var wg sync.WaitGroup
	applied := make([][]string, 4)
	errs := make([]error, 4)
	for i := range applied {
		wg.Go(func() {
			s, err := db.Open(t.Context(), path)
			errs[i] = err
			if err == nil {
				applied[i] = s.Upgrade.Applied
				s.Close()
			}
		})
	}
	wg.Wait()
	total := 0
	for i := range applied {
		require.NoError(t, errs[i])
		total += len(applied[i])
	}
	assert.Equal(t, len(schema.Steps), total)
}

func TestFailingStepLeavesDatabaseUntouched(t *testing.T) {
	t.Parallel()
	if len(schema.Steps) == 0 {
		t.Skip("no upgrade steps")
	}
	path := filepath.Join(t.TempDir(), "auth.db")
	createV1(t, path)
	conn, err := sql.Open("sqlite3", path)
	require.NoError(t, err)
	// A hand-made change that collides with the first step.
	_, err = conn.Exec("ALTER TABLE users ADD COLUMN last_login_at DATETIME")
	require.NoError(t, err)
	before := describeSchema(t, conn)

	_, err = db.Open(t.Context(), path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), schema.Steps[0].Name)
	var version int
	require.NoError(t, conn.QueryRow("PRAGMA user_version").Scan(&version))
	assert.Equal(t, 1, version)
	assert.Equal(t, before, describeSchema(t, conn))
	require.NoError(t, conn.Close())
}

func TestPlanUpgradeChangesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "sub", "auth.db")
	plan, err := db.PlanUpgrade(t.Context(), missing)
	require.NoError(t, err)
	assert.False(t, plan.Exists)
	assert.Equal(t, schema.Version, plan.To)
	assert.NoDirExists(t, filepath.Dir(missing))

	old := filepath.Join(dir, "old.db")
	createV1(t, old)
	before, err := os.ReadFile(old)
	require.NoError(t, err)
	plan, err = db.PlanUpgrade(t.Context(), old)
	require.NoError(t, err)
	assert.Equal(t, 1, plan.From)
	assert.Equal(t, schema.Steps, plan.Steps)
	after, err := os.ReadFile(old)
	require.NoError(t, err)
	assert.Equal(t, len(before), len(after))
	assert.True(t, string(before) == string(after), "file unchanged")
	matches, _ := filepath.Glob(old + ".pre-*")
	assert.Empty(t, matches)
}
