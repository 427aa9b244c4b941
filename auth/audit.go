package auth

import (
	"context"
	"database/sql"
)

// Audit event names, as stored in audit_events.event.
const (
	eventRegister            = "register"
	eventLogin               = "login"
	eventLoginFailed         = "login_failed"
	eventLogout              = "logout"
	eventProfileUpdate       = "profile_update"
	eventPasswordChange      = "password_change"
	eventSessionRevoke       = "session_revoke"
	eventOtherSessionRevoke  = "sessions_revoke_others"
	eventAccountDelete       = "account_delete"
	eventAdminUserCreate     = "admin_user_create"
	eventAdminUserUpdate     = "admin_user_update"
	eventAdminUserDelete     = "admin_user_delete"
	eventAdminSessionsRevoke = "admin_sessions_revoke"
)

// Events are the audit event names, for filtering the trail.
var Events = []string{
	eventRegister, eventLogin, eventLoginFailed, eventLogout, eventProfileUpdate, eventPasswordChange,
	eventSessionRevoke, eventOtherSessionRevoke, eventAccountDelete,
	eventAdminUserCreate, eventAdminUserUpdate, eventAdminUserDelete, eventAdminSessionsRevoke,
}

// MaxUserAgent is how much of a client's User-Agent is kept.
const MaxUserAgent = 512

// Actor is who did something and from where, for the audit trail.
type Actor struct {
	ID        string // the acting admin; empty when users act on their own account
	IP        string
	UserAgent string
}

// Actions from the command line and from start-up have no user behind them.
var (
	cliActor       = Actor{ID: "cli", UserAgent: "spaceauth cli"}
	bootstrapActor = Actor{ID: "bootstrap", UserAgent: "spaceauth start-up"}
)

// audit records event about userID (may be empty), done by a.
func (s *Service) audit(ctx context.Context, q Tx, a Actor, event, userID string) error {
	return q.CreateAuditEvent(ctx, CreateAuditEventParams{
		Event:     event,
		UserID:    sql.NullString{String: userID, Valid: userID != ""},
		ActorID:   sql.NullString{String: a.ID, Valid: a.ID != ""},
		Ip:        a.IP,
		UserAgent: truncate(a.UserAgent, MaxUserAgent),
		CreatedAt: s.now(),
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// AuditFilter selects audit events, newest first, before the id Before
// (0: from the newest).
type AuditFilter struct {
	Before int64
	UserID string
	Event  string
	Limit  int
}

// AuditEvents lists audit events.
func (s *Service) AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	return s.store.ListAuditEvents(ctx, ListAuditEventsParams{
		Before: f.Before, UserID: f.UserID, Event: f.Event, Limit: int64(f.Limit),
	})
}
