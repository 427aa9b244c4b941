package handlers

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"

	"spaceauth/db"
)

// Audit event names, as stored in audit_events.event.
const (
	eventRegister           = "register"
	eventLogin              = "login"
	eventLoginFailed        = "login_failed"
	eventLogout             = "logout"
	eventProfileUpdate      = "profile_update"
	eventPasswordChange     = "password_change"
	eventSessionRevoke      = "session_revoke"
	eventOtherSessionRevoke = "sessions_revoke_others"
	eventAccountDelete      = "account_delete"
)

const maxUserAgent = 512

// actor is who did something and from where, for the audit trail.
type actor struct {
	id        string // the acting admin; empty when users act on their own account
	ip        string
	userAgent string
}

// Actions from the command line and from start-up have no user behind them.
var (
	cliActor       = actor{id: "cli", userAgent: "spaceauth cli"}
	bootstrapActor = actor{id: "bootstrap", userAgent: "spaceauth start-up"}
)

func (s *server) requestActor(r *http.Request, actorID string) actor {
	return actor{id: actorID, ip: s.clientIP(r), userAgent: truncate(r.UserAgent(), maxUserAgent)}
}

// audit records event about userID (may be empty), done by a.
func (s *server) audit(ctx context.Context, q *db.Queries, a actor, event, userID string) error {
	return q.CreateAuditEvent(ctx, db.CreateAuditEventParams{
		Event:     event,
		UserID:    sql.NullString{String: userID, Valid: userID != ""},
		ActorID:   sql.NullString{String: a.id, Valid: a.id != ""},
		Ip:        a.ip,
		UserAgent: a.userAgent,
		CreatedAt: s.now(),
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// prune writes the pending session uses, so the idle timeout is judged on
// current times, then deletes sessions past their lifetime or idle timeout
// and audit events older than the retention period.
func (s *server) prune(ctx context.Context) (sessions, events int64, err error) {
	if err := s.touches.flush(ctx); err != nil {
		return 0, 0, fmt.Errorf("write session uses before pruning: %w", err)
	}
	at := s.now()
	sessions, err = s.store.Write.DeleteDeadSessions(ctx, db.DeleteDeadSessionsParams{Now: at, IdleSince: at.Add(-s.cfg.SessionIdleTimeout)})
	if err != nil {
		return 0, 0, err
	}
	events, err = s.store.Write.DeleteAuditEventsBefore(ctx, at.Add(-s.cfg.AuditRetention))
	return sessions, events, err
}
