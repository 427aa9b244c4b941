// Package schema holds the database schema: schema.sql, the full current
// schema that runs idempotently at every start, and the ordered upgrade steps
// in migrations/ that bring a database of an older version up to it.
//
// Adding a change: edit schema.sql, add migrations/NNNN_name.sql where NNNN is
// the new version, and run go test ./... — a test checks that upgrading from
// version 1 gives exactly the schema a fresh database gets.
package schema

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// SQL is the full current schema.
//
//go:embed schema.sql
var SQL string

//go:embed migrations/*.sql
var migrationFiles embed.FS

//go:embed released/v1.sql
var v1SQL string

// Step upgrades a database from Version-1 to Version.
type Step struct {
	Version int
	Name    string // file name, for logs and errors
	SQL     string
}

// Steps are the upgrade steps in order; Version is the version SQL creates.
var (
	Steps   = mustLoadSteps(migrationFiles, "migrations/*.sql", 2) // version 1 is the first release
	Version = 1 + len(Steps)
)

// mustLoadSteps reads the steps matching pattern, the first numbered
// first. It panics on a misnamed or out-of-order file: the files are
// embedded, so every test run catches it before a release can.
func mustLoadSteps(fsys fs.FS, pattern string, first int) []Step {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		panic(err)
	}
	steps := make([]Step, 0, len(names))
	for i, name := range names { // Glob sorts lexically; the zero padding makes that numeric
		base := path.Base(name)
		prefix, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(prefix)
		if !ok || err != nil || len(prefix) != 4 {
			panic(fmt.Sprintf("schema: migration %s must be named NNNN_name.sql", base))
		}
		if want := first + i; version != want {
			panic(fmt.Sprintf("schema: migration %s should be number %04d", base, want))
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			panic(err)
		}
		steps = append(steps, Step{Version: version, Name: base, SQL: string(body)})
	}
	return steps
}

// At returns a script that creates the schema exactly as version left it:
// schema.sql for the current version, the first release's schema plus the
// upgrade steps for an older one. ok is false for an unknown version.
func At(version int) (script string, ok bool) {
	switch {
	case version == Version:
		return SQL, true
	case version < 1 || version > Version:
		return "", false
	}
	parts := []string{v1SQL}
	for _, step := range Steps[:version-1] {
		parts = append(parts, step.SQL)
	}
	return strings.Join(parts, ";\n"), true
}

// PostgreSQL has its own schema script and steps, numbered as SQLite's: a
// change is one version on both engines. PostgreSQL support began at
// PostgresBase, so its steps start after it.
const PostgresBase = 2

// PostgresSQL is the full current schema on PostgreSQL.
//
//go:embed postgres/schema.sql
var PostgresSQL string

//go:embed postgres/migrations
var postgresMigrationFiles embed.FS

// PostgresSteps are PostgreSQL's upgrade steps in order, after PostgresBase.
var PostgresSteps = mustLoadSteps(postgresMigrationFiles, "postgres/migrations/*.sql", PostgresBase+1)

// PostgresBaseSQL is the PostgreSQL schema as PostgresBase left it.
//
//go:embed postgres/released/v2.sql
var PostgresBaseSQL string
