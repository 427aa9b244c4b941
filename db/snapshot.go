package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/ncruces/go-sqlite3"
)

// Snapshot writes a consistent copy of the database to dest, a new file,
// while writes go on: SQLite's online backup reads one WAL snapshot through
// a reader connection, so neither side waits for the other.
func (s *Store) Snapshot(ctx context.Context, dest string) error {
	conn, err := s.reader.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	err = conn.Raw(func(c any) error {
		raw, ok := c.(interface{ Raw() *sqlite3.Conn })
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", c)
		}
		return raw.Raw().Backup("main", fileURL(dest, url.Values{"mode": {"rwc"}}))
	})
	if err != nil {
		return err
	}
	// The copy inherits WAL mode; a snapshot should be one self-contained
	// file that opens without creating -wal and -shm beside it.
	copied, err := sql.Open("sqlite3", fileURL(dest, url.Values{"mode": {"rw"}}))
	if err != nil {
		return err
	}
	defer copied.Close()
	_, err = copied.ExecContext(ctx, "PRAGMA journal_mode = DELETE")
	return err
}

// DataVersion changes whenever any connection, in this process or another,
// commits a change, so an unchanged value means there is nothing new to back up.
func (s *Store) DataVersion(ctx context.Context) (int64, error) {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	// PRAGMA data_version only compares within one connection: keep one.
	if s.watch == nil {
		conn, err := s.reader.Conn(ctx)
		if err != nil {
			return 0, err
		}
		s.watch = conn
	}
	var v int64
	err := s.watch.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
	return v, err
}

// CheckFile verifies that the file at path is a sound database this binary
// can open: PRAGMA integrity_check passes and its schema version is known.
// It opens the file read-only and never changes it.
func CheckFile(ctx context.Context, path string) (version int, err error) {
	conn, err := sql.Open("sqlite3", fileURL(path, url.Values{"mode": {"ro"}, "immutable": {"1"}}))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var result string
	if err := conn.QueryRowContext(ctx, "PRAGMA integrity_check(1)").Scan(&result); err != nil {
		return 0, err
	}
	if result != "ok" {
		return 0, fmt.Errorf("integrity check failed: %s", result)
	}
	version, err = checkVersion(ctx, conn)
	if err == nil && version == 0 {
		return 0, errors.New("empty database: no spaceauth schema")
	}
	return version, err
}
