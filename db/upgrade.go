package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"spaceauth/schema"
)

// UpgradeReport says what opening did to the schema.
type UpgradeReport struct {
	From       int      // version found; 0 for a new, empty database
	To         int      // version after opening
	Applied    []string // upgrade steps applied, in order
	BackupPath string   // copy taken before the first step, if any
}

// Plan is what opening would do, worked out without changing anything.
type Plan struct {
	Exists bool
	From   int
	To     int
	Steps  []schema.Step
}

// PlanUpgrade reports the current version of the database at path and the
// steps that opening it would apply. It never creates or writes the file.
func PlanUpgrade(ctx context.Context, path string) (Plan, error) {
	p := Plan{To: schema.Version}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return p, nil
	} else if err != nil {
		return p, fmt.Errorf("database %s: %w", path, err)
	}
	p.Exists = true
	var err error
	if p.From, err = inspect(ctx, path); err != nil {
		return p, fmt.Errorf("database %s: %w", path, err)
	}
	p.Steps = pendingSteps(p.From)
	return p, nil
}

// inspect reads an existing file's schema version through a read-only
// connection, so a file that is not ours is refused before anything (even
// switching it to WAL) has written to it.
func inspect(ctx context.Context, path string) (int, error) {
	conn, err := sql.Open("sqlite3", dsn(path, true, "mode", "ro"))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return checkVersion(ctx, conn)
}

// checkVersion reads the schema version and refuses databases this binary
// must not touch.
func checkVersion(ctx context.Context, conn *sql.DB) (int, error) {
	var version, tables int
	err := conn.QueryRowContext(ctx,
		"SELECT (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_schema)",
	).Scan(&version, &tables)
	switch {
	case err != nil:
		return 0, err
	case version > schema.Version:
		return 0, fmt.Errorf("schema version %d is newer than this binary's %d: run a newer spaceauth", version, schema.Version)
	case version == 0 && tables > 0:
		return 0, errors.New("file holds tables but no spaceauth schema version: not a spaceauth database, refusing to change it")
	}
	return version, nil
}

func pendingSteps(from int) []schema.Step {
	if from == 0 { // a new database gets schema.sql directly
		return nil
	}
	return schema.Steps[from-1:]
}

// upgrade brings the database to schema.Version. Each step runs in its own
// immediate transaction with its version bump, re-reading the version inside
// it, so two processes starting on one file never apply a step twice.
func upgrade(ctx context.Context, w *sql.DB, path string) (UpgradeReport, error) {
	from, err := checkVersion(ctx, w)
	if err != nil {
		return UpgradeReport{}, err
	}
	r := UpgradeReport{From: from, To: schema.Version}
	if steps := pendingSteps(from); len(steps) > 0 {
		r.BackupPath = fmt.Sprintf("%s.pre-v%d-%s", path, schema.Version, time.Now().UTC().Format("20060102T150405.000000000Z"))
		if _, err := w.ExecContext(ctx, "VACUUM INTO ?", r.BackupPath); err != nil {
			return r, fmt.Errorf("copy before upgrade to %s: %w", r.BackupPath, err)
		}
		for _, step := range steps {
			applied, err := applyStep(ctx, w, step)
			if err != nil {
				return r, fmt.Errorf("upgrade step %s: %w (database left at version %d)", step.Name, err, step.Version-1)
			}
			if applied {
				r.Applied = append(r.Applied, step.Name)
			}
		}
	}
	err = inTx(ctx, w, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, schema.SQL); err != nil {
			return fmt.Errorf("apply schema.sql: %w", err)
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schema.Version))
		return err
	})
	return r, err
}

func applyStep(ctx context.Context, w *sql.DB, step schema.Step) (applied bool, err error) {
	err = inTx(ctx, w, func(tx *sql.Tx) error {
		var version int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			return err
		}
		if version >= step.Version { // another process got here first
			return nil
		}
		if _, err := tx.ExecContext(ctx, step.SQL); err != nil {
			return err
		}
		applied = true
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", step.Version))
		return err
	})
	return applied, err
}

func inTx(ctx context.Context, conn *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
