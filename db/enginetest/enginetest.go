// Package enginetest gives a test a fresh database of the engine its run
// is for (see pgtest): a SQLite file in a temporary directory, or a new
// database on the throwaway PostgreSQL cluster.
package enginetest

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"spaceauth/auth"
	"spaceauth/db"
	"spaceauth/db/postgres"
	"spaceauth/db/postgres/pgtest"
)

// Database is one test's database, closed when the test ends.
type Database struct {
	Store  auth.Store
	SQL    *sql.DB   // for raw SQL on either engine
	SQLite *db.Store // nil on PostgreSQL
	Close  func() error
}

// Open opens a fresh, empty database for t.
func Open(t testing.TB) Database {
	t.Helper()
	if pgtest.Engine() == "postgres" {
		pg, err := postgres.Open(t.Context(), pgtest.NewDatabase(t))
		require.NoError(t, err)
		t.Cleanup(func() { pg.Close() })
		return Database{Store: pg.AuthStore(), SQL: pg.DB(), Close: pg.Close}
	}
	lite, err := db.Open(t.Context(), filepath.Join(t.TempDir(), "auth.db"))
	require.NoError(t, err)
	t.Cleanup(func() { lite.Close() })
	return Database{Store: db.AuthStore(lite), SQL: lite.WriteDB(), SQLite: lite, Close: lite.Close}
}
