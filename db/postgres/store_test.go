package postgres_test

import (
	"database/sql"
	"fmt"
	"os"
	"reflect"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"spaceauth/db"
	"spaceauth/db/postgres"
	"spaceauth/db/postgres/pgtest"
	"spaceauth/schema"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func methods(v any) []string {
	typ := reflect.TypeOf(v)
	var names []string
	for i := range typ.NumMethod() {
		names = append(names, typ.Method(i).Name)
	}
	sort.Strings(names)
	return names
}

// TestEveryQueryExistsOnBothEngines: a query written for one engine only
// would leave the other without it.
func TestEveryQueryExistsOnBothEngines(t *testing.T) {
	t.Parallel()
	assert.Equal(t, methods(&db.Queries{}), methods(&postgres.Queries{}))
}

// TestEveryUpgradeStepExistsOnBothEngines: a change is one version on both.
func TestEveryUpgradeStepExistsOnBothEngines(t *testing.T) {
	t.Parallel()
	var sqlite, pg []int
	for _, s := range schema.Steps {
		if s.Version > schema.PostgresBase {
			sqlite = append(sqlite, s.Version)
		}
	}
	for _, s := range schema.PostgresSteps {
		pg = append(pg, s.Version)
	}
	assert.Equal(t, sqlite, pg)
}

// TestReplicasStartingTogetherAllComeUp opens one empty database from
// several replicas at once: the schema is created once and all are ready.
func TestReplicasStartingTogetherAllComeUp(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), dsn)
			errs[i] = err
			if err == nil {
				s.Close()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	s, err := postgres.Open(t.Context(), dsn)
	require.NoError(t, err)
	defer s.Close()
	var rows, version int
	require.NoError(t, s.DB().QueryRow("SELECT count(*), max(version) FROM schema_version").Scan(&rows, &version))
	assert.Equal(t, 1, rows)
	assert.Equal(t, schema.Version, version)
}

func TestErrorsNeverShowThePassword(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(t.Context(), "postgres://app:s3cret-pw@127.0.0.1:1/app?connect_timeout=1")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret-pw")
	assert.Contains(t, err.Error(), "app:xxxxx@127.0.0.1:1")
}

// describe lists a database's tables, columns, indexes and constraints.
func describe(t *testing.T, conn *sql.DB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
		 FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1`,
		`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`,
		`SELECT conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
		 WHERE connamespace = 'public'::regnamespace ORDER BY 1`,
	} {
		rows, err := conn.Query(q)
		require.NoError(t, err)
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			out = append(out, line)
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	return out
}

// TestUpgradedEqualsFresh upgrades a database of the first PostgreSQL
// version and compares it with a new one.
func TestUpgradedEqualsFresh(t *testing.T) {
	t.Parallel()
	oldURL, freshURL := pgtest.NewDatabase(t), pgtest.NewDatabase(t)
	conn, err := sql.Open("pgx", oldURL)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Exec(schema.PostgresBaseSQL)
	require.NoError(t, err)
	_, err = conn.Exec(fmt.Sprintf("CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (%d)", schema.PostgresBase))
	require.NoError(t, err)

	old, err := postgres.Open(t.Context(), oldURL)
	require.NoError(t, err)
	defer old.Close()
	var names []string
	for _, s := range schema.PostgresSteps {
		names = append(names, s.Name)
	}
	assert.Equal(t, names, old.Applied)
	fresh, err := postgres.Open(t.Context(), freshURL)
	require.NoError(t, err)
	defer fresh.Close()
	assert.Empty(t, fresh.Applied)
	assert.Equal(t, describe(t, fresh.DB()), describe(t, old.DB()))
}
