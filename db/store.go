package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"
	_ "github.com/ncruces/go-sqlite3/driver" // registers "sqlite3"

	"spaceauth/schema"
)

// TimeFormat is how every time column is stored: UTC, fixed width, so text
// order is time order (RFC 3339 with trimmed fractions is not).
const TimeFormat = "2006-01-02T15:04:05.000"

// Store is an open database: one writer connection, because SQLite allows
// one writer at a time and queueing in Go is cheaper than SQLITE_BUSY retries,
// and a pool of query-only readers that WAL lets run beside it.
type Store struct {
	Path          string
	Created       bool // the file did not exist before Open
	SchemaVersion int
	Upgrade       UpgradeReport

	// Read runs queries on the reader pool; it refuses writes.
	Read *Queries
	// Write runs single statements on the writer; use Tx for several.
	Write *Queries

	writer *sql.DB
	reader *sql.DB

	watchMu sync.Mutex
	watch   *sql.Conn // see DataVersion

	opened        os.FileInfo // the file as opened, for VerifyFile
	openedWAL     os.FileInfo // its write-ahead log, if there was one then
	writesRefused atomic.Bool
}

// Open opens the database at path, creating its directory and file if they
// are missing, brings the schema up to date and returns a ready Store. It
// never overwrites a file that is not a database of this service.
func Open(ctx context.Context, path string) (*Store, error) {
	s, err := open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return s, nil
}

func open(ctx context.Context, path string) (_ *Store, err error) {
	info, err := os.Stat(path)
	switch {
	case err == nil && info.IsDir():
		return nil, errors.New("path is a directory, not a file")
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("create directory: %w", err)
		}
	case err != nil:
		return nil, err
	default:
		if _, err := inspect(ctx, path); err != nil {
			return nil, err
		}
	}
	s := &Store{Path: path, Created: err != nil}

	s.writer, err = sql.Open("sqlite3", dsn(path, false))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	s.writer.SetMaxOpenConns(1)
	s.writer.SetConnMaxIdleTime(0)
	s.writer.SetConnMaxLifetime(0)
	if err = connect(ctx, s.writer); err != nil {
		return nil, err
	}

	if s.Upgrade, err = upgrade(ctx, s.writer, path); err != nil {
		return nil, err
	}
	s.SchemaVersion = schema.Version
	if s.opened, err = os.Stat(path); err != nil {
		return nil, err
	}
	s.openedWAL, _ = os.Stat(path + "-wal") // the writer holds it open from here on

	s.reader, err = sql.Open("sqlite3", dsn(path, true))
	if err != nil {
		return nil, err
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	s.reader.SetMaxOpenConns(readers)
	s.reader.SetMaxIdleConns(readers)

	if s.Write, err = Prepare(ctx, s.writer); err != nil {
		return nil, err
	}
	if s.Read, err = Prepare(ctx, s.reader); err != nil {
		return nil, err
	}
	return s, nil
}

// connect opens the writer's connection. Processes starting at once on a
// file still in rollback-journal mode all try to switch it to WAL, and SQLite
// answers BUSY at once instead of waiting (waiting could deadlock), so the
// attempt is repeated within the busy timeout.
func connect(ctx context.Context, writer *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		err := writer.PingContext(ctx)
		if err == nil || !errors.Is(err, sqlite3.BUSY) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// busyTimeout is how long a statement waits for another connection's lock.
const busyTimeout = 10 * time.Second

// dsn builds a file: URI, the only form whose options the driver reads.
// busy_timeout must come first: any _pragma otherwise resets it to 0.
func dsn(path string, readOnly bool, extra ...string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	if !readOnly {
		q.Add("_pragma", "journal_mode(wal)")
		// Deleted rows (a closed account's email, name and hash) are
		// overwritten, not left in free pages of the file.
		q.Add("_pragma", "secure_delete(on)")
	}
	q.Add("_pragma", "foreign_keys(on)")
	q.Add("_pragma", "synchronous(normal)")
	// Temporary tables and sort spills stay in memory, so the service needs no
	// writable directory besides the database's own.
	q.Add("_pragma", "temp_store(memory)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	}
	q.Set("_txlock", "immediate")
	q.Set("_timefmt", TimeFormat)
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return fileURL(path, q)
}

// fileURL is path as a SQLite file: URI with query q.
func fileURL(path string, q url.Values) string {
	u := url.URL{Scheme: "file", OmitHost: true, Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// Tx runs fn in one write transaction, committed if fn returns nil. It
// succeeds only if, after the commit, the path still names the file this
// Store writes: a commit into a file that was deleted or replaced meanwhile
// would be lost at the next start, so it is reported as a failure (and
// VerifyFile stops every later write).
func (s *Store) Tx(ctx context.Context, fn func(q *Queries) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(s.Write.WithTx(tx)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return s.VerifyFile(ctx)
}

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close closes both pools and folds the write-ahead log back into the
// database file, so a copied or snapshotted file is complete on its own.
func (s *Store) Close() error {
	var errs []error
	if s.Read != nil {
		errs = append(errs, s.Read.Close())
	}
	if s.Write != nil {
		errs = append(errs, s.Write.Close())
	}
	if s.watch != nil {
		errs = append(errs, s.watch.Close())
	}
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	if s.writer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := s.writer.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			errs = append(errs, fmt.Errorf("checkpoint: %w", err))
		}
		errs = append(errs, s.writer.Close())
	}
	return errors.Join(errs...)
}

// ReadDB and WriteDB expose the pools for what sqlc cannot express
// (pragmas, backups) and for tests.
func (s *Store) ReadDB() *sql.DB  { return s.reader }
func (s *Store) WriteDB() *sql.DB { return s.writer }
