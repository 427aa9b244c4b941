package db

import (
	"database/sql"
	"errors"

	"github.com/ncruces/go-sqlite3"
)

// IsNotFound reports whether err means a query matched no row.
func IsNotFound(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// IsUniqueViolation reports whether err is a UNIQUE constraint failure.
func IsUniqueViolation(err error) bool { return errors.Is(err, sqlite3.CONSTRAINT_UNIQUE) }

// IsUnavailable reports whether err is the storage failing rather than the
// request: a full disk, a read-only or vanished file, lock contention past
// the busy timeout, an I/O error. Clients get 503 and may retry.
func IsUnavailable(err error) bool {
	if errors.Is(err, ErrWritesRefused) {
		return true
	}
	for _, code := range []sqlite3.ErrorCode{sqlite3.BUSY, sqlite3.LOCKED, sqlite3.FULL, sqlite3.READONLY, sqlite3.IOERR, sqlite3.CANTOPEN} {
		if errors.Is(err, code) {
			return true
		}
	}
	return false
}
