// Package postgres is spaceauth's PostgreSQL engine: sqlc's queries over
// database/sql through pgx's stdlib driver, the schema applied and upgraded
// at start under an advisory lock, and the adapter that makes it an
// auth.Store. Several replicas may share one database.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"spaceauth/auth"
	"spaceauth/schema"
)

// Store is an open PostgreSQL database.
type Store struct {
	pool    *sql.DB
	queries *Queries
	// Applied lists the upgrade steps this start applied.
	Applied []string
}

// Open connects to the database at url (postgres:// or postgresql://),
// creates or upgrades the schema and returns a ready Store. Errors never
// show the URL's password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", Redact(dsn), err)
	}
	pool.SetMaxOpenConns(20)
	pool.SetMaxIdleConns(20)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{pool: pool}
	if s.Applied, err = migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database %s: %w", Redact(dsn), err)
	}
	if s.queries, err = Prepare(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database %s: %w", Redact(dsn), err)
	}
	return s, nil
}

// Close closes the pool.
func (s *Store) Close() error { return errors.Join(s.queries.Close(), s.pool.Close()) }

// DB is the pool, for tests and tools.
func (s *Store) DB() *sql.DB { return s.pool }

// Redact returns url with its password replaced, for logs and errors.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// AuthStore is s as the domain's store.
func (s *Store) AuthStore() auth.Store { return authStore{reader{s.queries}, s} }

type authStore struct {
	reader
	s *Store
}

// maxAttempts bounds the retries of a transaction that lost a
// serialization conflict to a concurrent one.
const maxAttempts = 10

// InTx runs fn in a SERIALIZABLE transaction, retried when PostgreSQL
// aborts it for a conflict with a concurrent one: the rules that hold on
// SQLite because it has one writer (the last admin, re-reading a user
// before writing it) then hold here too.
func (a authStore) InTx(ctx context.Context, fn func(auth.Tx) error) error {
	var err error
	for attempt := range maxAttempts {
		if err = a.try(ctx, fn); !retryable(err) {
			return domainErr(err)
		}
		// A short, growing, jittered pause lets the winner finish and keeps
		// the losers from colliding again in step.
		pause := time.Duration(attempt+1)*time.Millisecond + rand.N(2*time.Millisecond)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
	return domainErr(err)
}

func (a authStore) try(ctx context.Context, fn func(auth.Tx) error) error {
	t, err := a.s.pool.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
	if err != nil {
		return err
	}
	defer t.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx{reader{a.s.queries.WithTx(t)}}); err != nil {
		return err
	}
	return t.Commit()
}

func (a authStore) Ping(ctx context.Context) error { return domainErr(a.s.pool.PingContext(ctx)) }

// WritesRefused is always false: a server does not vanish like a file.
func (a authStore) WritesRefused() bool { return false }

func (a authStore) SchemaVersion() int { return schema.Version }

// retryable reports a serialization failure or deadlock: the transaction
// did nothing and may run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// domainErr marks err with the domain's error for it, keeping the cause.
func domainErr(err error) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %w", auth.ErrNotFound, err)
	case errors.As(err, &pgErr) && pgErr.Code == "23505":
		return fmt.Errorf("%w: %w", auth.ErrDuplicate, err)
	case retryable(err):
		// Still conflicting after every retry: a hot row (one account
		// flooded with logins); the client may try again.
		return fmt.Errorf("%w: %w", auth.ErrUnavailable, err)
	case errors.As(err, &pgErr) && pgErr.Code == "22021":
		// A NUL or invalid UTF-8 in a key (a looked-up email or id): no row
		// can hold one, as SQLite would find none.
		return fmt.Errorf("%w: %w", auth.ErrNotFound, err)
	case errors.As(err, &pgErr):
		// Class 08 is a lost connection, 53 insufficient resources, 57 an
		// operator intervention such as a shutdown: the server, not the
		// request.
		if class := pgErr.Code[:2]; class == "08" || class == "53" || class == "57" {
			return fmt.Errorf("%w: %w", auth.ErrUnavailable, err)
		}
		return err
	case pgconn.Timeout(err), errors.Is(err, sql.ErrConnDone):
		return fmt.Errorf("%w: %w", auth.ErrUnavailable, err)
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return fmt.Errorf("%w: %w", auth.ErrUnavailable, err)
	}
	return err
}
