package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"spaceauth/schema"
)

// migrateLock is the advisory lock key replicas take while they create or
// upgrade the schema: "spaceauth" in ASCII, as a number.
const migrateLock = 0x7370616365617574

// migrate creates the schema on an empty database or applies the pending
// steps, each in its own transaction under the advisory lock, so replicas
// starting together apply each step exactly once and all come up.
func migrate(ctx context.Context, pool *sql.DB) (applied []string, err error) {
	err = inLockedTx(ctx, pool, func(t *sql.Tx) error {
		_, err := t.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create schema_version: %w", err)
	}
	err = inLockedTx(ctx, pool, func(t *sql.Tx) error {
		version, err := currentVersion(ctx, t)
		switch {
		case err != nil:
			return err
		case version > schema.Version:
			return fmt.Errorf("schema version %d is newer than this binary's %d: run a newer spaceauth", version, schema.Version)
		case version == 0:
			if _, err := t.ExecContext(ctx, schema.PostgresSQL); err != nil {
				return fmt.Errorf("apply schema: %w", err)
			}
			_, err := t.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES ($1)", schema.Version)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, step := range schema.PostgresSteps {
		did := false
		err := inLockedTx(ctx, pool, func(t *sql.Tx) error {
			version, err := currentVersion(ctx, t)
			if err != nil || version >= step.Version { // another replica got here first
				return err
			}
			if _, err := t.ExecContext(ctx, step.SQL); err != nil {
				return err
			}
			did = true
			_, err = t.ExecContext(ctx, "UPDATE schema_version SET version = $1", step.Version)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("upgrade step %s: %w (database left at version %d)", step.Name, err, step.Version-1)
		}
		if did {
			applied = append(applied, step.Name)
		}
	}
	return applied, nil
}

// currentVersion is the stored schema version, 0 for a new database.
func currentVersion(ctx context.Context, t *sql.Tx) (int, error) {
	var version int
	err := t.QueryRowContext(ctx, "SELECT COALESCE(max(version), 0) FROM schema_version").Scan(&version)
	return version, err
}

// inLockedTx runs fn in a transaction holding the migration lock, which
// PostgreSQL releases at commit or rollback.
func inLockedTx(ctx context.Context, pool *sql.DB, fn func(*sql.Tx) error) error {
	t, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer t.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := t.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrateLock)); err != nil {
		return err
	}
	if err := fn(t); err != nil {
		return err
	}
	return t.Commit()
}
