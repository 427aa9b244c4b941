package auth

import (
	"context"
	"fmt"
)

// Copied counts the rows Copy moved.
type Copied struct {
	Users, Sessions, AuditEvents int
}

// copyBatch rows go in one transaction of the target.
const copyBatch = 500

// Copy moves every user, session and audit event from one store to another,
// which must be empty, keeping ids, hashes and times: the way from SQLite
// to PostgreSQL and back. Run it while nothing writes to from.
func Copy(ctx context.Context, from, to Store) (c Copied, err error) {
	n, err := to.CountRows(ctx)
	if err != nil {
		return c, err
	}
	if n > 0 {
		return c, fmt.Errorf("the target is not empty (%d rows): copy only into a new database", n)
	}
	c.Users, err = copyPages(ctx, to,
		func(after string) ([]User, error) {
			return from.ListUsers(ctx, ListUsersParams{After: after, Limit: copyBatch})
		},
		func(u User) string { return u.ID },
		func(q Tx, u User) error {
			return q.CopyUser(ctx, CopyUserParams{
				ID: u.ID, Email: u.Email, Name: u.Name, PasswordHash: u.PasswordHash, Role: u.Role, Disabled: u.Disabled,
				CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, LastLoginAt: u.LastLoginAt,
			})
		})
	if err != nil {
		return c, fmt.Errorf("users: %w", err)
	}
	c.Sessions, err = copyPages(ctx, to,
		func(after string) ([]SessionRow, error) {
			return from.ListSessionsAfter(ctx, ListSessionsAfterParams{After: after, Limit: copyBatch})
		},
		func(s SessionRow) string { return s.ID },
		func(q Tx, s SessionRow) error {
			return q.CreateSession(ctx, CreateSessionParams{
				ID: s.ID, UserID: s.UserID, TokenHash: s.TokenHash, CreatedAt: s.CreatedAt, LastUsedAt: s.LastUsedAt,
				ExpiresAt: s.ExpiresAt, UserAgent: s.UserAgent, Ip: s.Ip,
			})
		})
	if err != nil {
		return c, fmt.Errorf("sessions: %w", err)
	}
	c.AuditEvents, err = copyPages(ctx, to,
		func(after int64) ([]AuditEvent, error) {
			return from.ListAuditEventsAfter(ctx, ListAuditEventsAfterParams{After: after, Limit: copyBatch})
		},
		func(e AuditEvent) int64 { return e.ID },
		func(q Tx, e AuditEvent) error { return q.CopyAuditEvent(ctx, CopyAuditEventParams(e)) })
	if err != nil {
		return c, fmt.Errorf("audit events: %w", err)
	}
	return c, to.InTx(ctx, func(q Tx) error { return q.ContinueAuditIDs(ctx) })
}

// copyPages reads pages with next, each after the key of the last row of
// the one before, and writes each page in one transaction of to.
func copyPages[Row any, Key comparable](ctx context.Context, to Store, next func(after Key) ([]Row, error), key func(Row) Key, write func(Tx, Row) error) (int, error) {
	var after Key
	copied := 0
	for {
		page, err := next(after)
		if err != nil || len(page) == 0 {
			return copied, err
		}
		err = to.InTx(ctx, func(q Tx) error {
			for _, row := range page {
				if err := write(q, row); err != nil {
					return fmt.Errorf("%v: %w", key(row), err)
				}
			}
			return nil
		})
		if err != nil {
			return copied, err
		}
		copied += len(page)
		after = key(page[len(page)-1])
	}
}
