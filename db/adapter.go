package db

import (
	"context"
	"fmt"
	"time"

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

type reader struct{ q *Queries }

type tx struct{ reader }

func (t tx) CreateAuditEvent(ctx context.Context, arg auth.CreateAuditEventParams) error {
	return domainErr(t.q.CreateAuditEvent(ctx, CreateAuditEventParams(arg)))
}

func (t tx) DeleteAuditEventsBefore(ctx context.Context, createdAt time.Time) (int64, error) {
	n, err := t.q.DeleteAuditEventsBefore(ctx, createdAt)
	return n, domainErr(err)
}

func (r reader) ListAuditEvents(ctx context.Context, arg auth.ListAuditEventsParams) ([]auth.AuditEvent, error) {
	rows, err := r.q.ListAuditEvents(ctx, ListAuditEventsParams(arg))
	out := make([]auth.AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = auth.AuditEvent(r)
	}
	return out, domainErr(err)
}

func (r reader) AuthenticateToken(ctx context.Context, arg auth.AuthenticateTokenParams) (auth.TokenOwner, error) {
	row, err := r.q.AuthenticateToken(ctx, AuthenticateTokenParams(arg))
	return auth.TokenOwner(row), domainErr(err)
}

func (t tx) CreateSession(ctx context.Context, arg auth.CreateSessionParams) error {
	return domainErr(t.q.CreateSession(ctx, CreateSessionParams(arg)))
}

func (t tx) DeleteDeadSessions(ctx context.Context, arg auth.DeleteDeadSessionsParams) (int64, error) {
	n, err := t.q.DeleteDeadSessions(ctx, DeleteDeadSessionsParams(arg))
	return n, domainErr(err)
}

func (t tx) DeleteOtherUserSessions(ctx context.Context, arg auth.DeleteOtherUserSessionsParams) error {
	return domainErr(t.q.DeleteOtherUserSessions(ctx, DeleteOtherUserSessionsParams(arg)))
}

func (t tx) DeleteSession(ctx context.Context, arg auth.DeleteSessionParams) (int64, error) {
	n, err := t.q.DeleteSession(ctx, DeleteSessionParams(arg))
	return n, domainErr(err)
}

func (t tx) DeleteUserSessions(ctx context.Context, userID string) error {
	return domainErr(t.q.DeleteUserSessions(ctx, userID))
}

func (r reader) ListLiveSessions(ctx context.Context, arg auth.ListLiveSessionsParams) ([]auth.SessionRow, error) {
	rows, err := r.q.ListLiveSessions(ctx, ListLiveSessionsParams(arg))
	out := make([]auth.SessionRow, len(rows))
	for i, r := range rows {
		out[i] = auth.SessionRow(r)
	}
	return out, domainErr(err)
}

func (t tx) TouchSession(ctx context.Context, arg auth.TouchSessionParams) error {
	return domainErr(t.q.TouchSession(ctx, TouchSessionParams(arg)))
}

func (r reader) CountEnabledAdmins(ctx context.Context) (int64, error) {
	n, err := r.q.CountEnabledAdmins(ctx)
	return n, domainErr(err)
}

func (t tx) CreateUser(ctx context.Context, arg auth.CreateUserParams) (auth.User, error) {
	row, err := t.q.CreateUser(ctx, CreateUserParams(arg))
	return auth.User(row), domainErr(err)
}

func (t tx) DeleteUser(ctx context.Context, id string) (int64, error) {
	n, err := t.q.DeleteUser(ctx, id)
	return n, domainErr(err)
}

func (r reader) GetUserByEmail(ctx context.Context, email string) (auth.User, error) {
	row, err := r.q.GetUserByEmail(ctx, email)
	return auth.User(row), domainErr(err)
}

func (r reader) GetUserByID(ctx context.Context, id string) (auth.User, error) {
	row, err := r.q.GetUserByID(ctx, id)
	return auth.User(row), domainErr(err)
}

func (r reader) ListUsers(ctx context.Context, arg auth.ListUsersParams) ([]auth.User, error) {
	rows, err := r.q.ListUsers(ctx, ListUsersParams(arg))
	out := make([]auth.User, len(rows))
	for i, r := range rows {
		out[i] = auth.User(r)
	}
	return out, domainErr(err)
}

func (t tx) RecordUserLogin(ctx context.Context, arg auth.RecordUserLoginParams) error {
	return domainErr(t.q.RecordUserLogin(ctx, RecordUserLoginParams(arg)))
}

func (t tx) RehashUserPassword(ctx context.Context, arg auth.RehashUserPasswordParams) error {
	return domainErr(t.q.RehashUserPassword(ctx, RehashUserPasswordParams(arg)))
}

func (t tx) UpdateUser(ctx context.Context, arg auth.UpdateUserParams) (auth.User, error) {
	row, err := t.q.UpdateUser(ctx, UpdateUserParams(arg))
	return auth.User(row), domainErr(err)
}

func (t tx) UpdateUserPasswordHash(ctx context.Context, arg auth.UpdateUserPasswordHashParams) error {
	return domainErr(t.q.UpdateUserPasswordHash(ctx, UpdateUserPasswordHashParams(arg)))
}

func (t tx) UpdateUserProfile(ctx context.Context, arg auth.UpdateUserProfileParams) (auth.User, error) {
	row, err := t.q.UpdateUserProfile(ctx, UpdateUserProfileParams(arg))
	return auth.User(row), domainErr(err)
}
