package db

import (
	"context"
	"fmt"

	"spaceauth/auth"
)

// AuthStore is s as the domain's store.
func AuthStore(s *Store) auth.Store { return authStore{reader{s.Read}, s} }

type authStore struct {
	reader
	s *Store
}

func (a authStore) InTx(ctx context.Context, fn func(auth.Tx) error) error {
	return domainErr(a.s.Tx(ctx, func(q *Queries) error { return fn(tx{reader{q}}) }))
}

func (a authStore) Ping(ctx context.Context) error { return domainErr(a.s.Ping(ctx)) }
func (a authStore) WritesRefused() bool            { return a.s.WritesRefused() }
func (a authStore) SchemaVersion() int             { return a.s.SchemaVersion }

// domainErr marks err with the domain's error for it, keeping the cause.
func domainErr(err error) error {
	switch {
	case err == nil:
		return nil
	case IsNotFound(err):
		return fmt.Errorf("%w: %w", auth.ErrNotFound, err)
	case IsUniqueViolation(err):
		return fmt.Errorf("%w: %w", auth.ErrDuplicate, err)
	case IsUnavailable(err):
		return fmt.Errorf("%w: %w", auth.ErrUnavailable, err)
	}
	return err
}
