package postgres_test

import (
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
