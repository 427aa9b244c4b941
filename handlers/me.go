package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/julienschmidt/httprouter"

	"spaceauth/db"
)

var errLastAdmin = newError(codeConflict, "this is the last enabled admin; make another admin first")

// handleGetMe serves GET /users/me.
func (s *server) handleGetMe(w http.ResponseWriter, r *http.Request, p principal) error {
	writeJSON(w, http.StatusOK, newUser(p.user))
	return nil
}

// handleUpdateMe serves PATCH /users/me.
func (s *server) handleUpdateMe(w http.ResponseWriter, r *http.Request, p principal) error {
	req, err := decode[struct {
		Name            *string `json:"name"`
		Email           *string `json:"email"`
		CurrentPassword *string `json:"current_password"`
	}](w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var probs problems
	if req.Name != nil {
		*req.Name = normalizeName(*req.Name)
		probs.check("name", nameProblem(*req.Name))
	}
	emailChanged := false
	if req.Email != nil {
		*req.Email = NormalizeEmail(*req.Email)
		probs.check("email", emailProblem(*req.Email))
		emailChanged = *req.Email != p.user.Email
		if emailChanged && req.CurrentPassword == nil {
			probs.check("current_password", "is required to change the email")
		}
	}
	if err := probs.err(); err != nil {
		return err
	}
	if emailChanged {
		if err := s.checkPassword(ctx, p, *req.CurrentPassword, "current_password"); err != nil {
			return err
		}
	}
	var updated db.User
	err = s.store.Tx(ctx, func(q *db.Queries) error {
		// Re-read inside the write transaction: an admin may have changed
		// the account since the token was checked.
		u, err := q.GetUserByID(ctx, p.user.ID)
		if db.IsNotFound(err) {
			return errUnauthenticated
		}
		if err != nil {
			return err
		}
		if req.Name != nil {
			u.Name = *req.Name
		}
		if req.Email != nil {
			u.Email = *req.Email
		}
		updated, err = q.UpdateUserProfile(ctx, db.UpdateUserProfileParams{Email: u.Email, Name: u.Name, UpdatedAt: s.now(), ID: u.ID})
		if db.IsUniqueViolation(err) {
			return errEmailTaken
		}
		if err != nil {
			return err
		}
		return s.audit(r.Context(), q, s.requestActor(r, ""), eventProfileUpdate, u.ID)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newUser(updated))
	return nil
}

// checkPassword verifies the caller's password, reporting a mismatch as a
// validation failure on field. The throttle counts it against the session:
// a stolen token buys no more guesses than a stranger's network gets.
func (s *server) checkPassword(ctx context.Context, p principal, password, field string) error {
	u, err := s.store.Read.GetUserByID(ctx, p.user.ID)
	if err != nil {
		return err
	}
	attempt := passwordAttempt{account: "u:" + u.ID, client: "s:" + p.sessionID, known: true}
	ok, _, err := s.verifyPassword(ctx, attempt, normalizePassword(password), u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		return invalidField(field, "is incorrect")
	}
	return nil
}

// handleChangePassword serves PUT /users/me/password.
func (s *server) handleChangePassword(w http.ResponseWriter, r *http.Request, p principal) error {
	req, err := decode[struct {
		CurrentPassword *string `json:"current_password"`
		NewPassword     *string `json:"new_password"`
	}](w, r)
	if err != nil {
		return err
	}
	var probs problems
	if req.CurrentPassword == nil {
		probs.check("current_password", "is required")
	}
	newPassword := normalizePassword(deref(req.NewPassword))
	if req.NewPassword == nil {
		probs.check("new_password", "is required")
	} else {
		probs.check("new_password", passwordProblem(newPassword, p.user.Email, s.cfg.PasswordMinLength))
	}
	if err := probs.err(); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.checkPassword(ctx, p, *req.CurrentPassword, "current_password"); err != nil {
		return err
	}
	hash, err := s.hasher.hash(ctx, newPassword)
	if err != nil {
		return err
	}
	err = s.store.Tx(ctx, func(q *db.Queries) error {
		if err := q.UpdateUserPasswordHash(ctx, db.UpdateUserPasswordHashParams{PasswordHash: hash, UpdatedAt: s.now(), ID: p.user.ID}); err != nil {
			return err
		}
		// Whoever else holds a session may be the reason for the change.
		if err := q.DeleteOtherUserSessions(ctx, db.DeleteOtherUserSessionsParams{UserID: p.user.ID, KeepID: p.sessionID}); err != nil {
			return err
		}
		return s.audit(r.Context(), q, s.requestActor(r, ""), eventPasswordChange, p.user.ID)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleDeleteMe serves DELETE /users/me.
func (s *server) handleDeleteMe(w http.ResponseWriter, r *http.Request, p principal) error {
	req, err := decode[struct {
		Password *string `json:"password"`
	}](w, r)
	if err != nil {
		return err
	}
	if req.Password == nil {
		return invalidField("password", "is required")
	}
	ctx := r.Context()
	if err := s.checkPassword(ctx, p, *req.Password, "password"); err != nil {
		return err
	}
	err = s.store.Tx(ctx, func(q *db.Queries) error {
		if err := refuseLastAdmin(ctx, q, p.user); err != nil {
			return err
		}
		if _, err := q.DeleteUser(ctx, p.user.ID); err != nil { // sessions go with it (ON DELETE CASCADE)
			return err
		}
		return s.audit(r.Context(), q, s.requestActor(r, ""), eventAccountDelete, p.user.ID)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// refuseLastAdmin fails if u is the only enabled admin. Run it inside the
// write transaction that removes u's admin powers, so two admins cannot
// both remove themselves at once.
func refuseLastAdmin(ctx context.Context, q *db.Queries, u db.User) error {
	if u.Role != "admin" || u.Disabled {
		return nil
	}
	n, err := q.CountEnabledAdmins(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return errLastAdmin
	}
	return nil
}

type session struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	Current    bool      `json:"current"`
}

// handleListSessions serves GET /users/me/sessions.
func (s *server) handleListSessions(w http.ResponseWriter, r *http.Request, p principal) error {
	now := s.now()
	rows, err := s.store.Read.ListLiveSessions(r.Context(), db.ListLiveSessionsParams{
		UserID: p.user.ID, Now: now, IdleSince: now.Add(-s.cfg.SessionIdleTimeout),
	})
	if err != nil {
		return err
	}
	out := make([]session, 0, len(rows))
	for _, row := range rows {
		out = append(out, session{
			ID: row.ID, CreatedAt: row.CreatedAt.UTC(), LastUsedAt: row.LastUsedAt.UTC(), ExpiresAt: row.ExpiresAt.UTC(),
			UserAgent: row.UserAgent, IP: row.Ip, Current: row.ID == p.sessionID,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
	return nil
}

// handleRevokeSession serves DELETE /users/me/sessions/:id.
func (s *server) handleRevokeSession(w http.ResponseWriter, r *http.Request, p principal) error {
	ctx := r.Context()
	id := httprouter.ParamsFromContext(ctx).ByName("id")
	err := s.store.Tx(ctx, func(q *db.Queries) error {
		n, err := q.DeleteSession(ctx, db.DeleteSessionParams{ID: id, UserID: p.user.ID})
		if err != nil {
			return err
		}
		if n == 0 { // another user's session looks exactly like a missing one
			return newError(codeNotFound, "no such session")
		}
		return s.audit(r.Context(), q, s.requestActor(r, ""), eventSessionRevoke, p.user.ID)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleRevokeOtherSessions serves DELETE /users/me/sessions.
func (s *server) handleRevokeOtherSessions(w http.ResponseWriter, r *http.Request, p principal) error {
	ctx := r.Context()
	err := s.store.Tx(ctx, func(q *db.Queries) error {
		if err := q.DeleteOtherUserSessions(ctx, db.DeleteOtherUserSessionsParams{UserID: p.user.ID, KeepID: p.sessionID}); err != nil {
			return err
		}
		return s.audit(r.Context(), q, s.requestActor(r, ""), eventOtherSessionRevoke, p.user.ID)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
