package auth

import (
	"context"
	"errors"
	"time"
)

// ProfileChanges are what users may change of their own account; nil means
// unchanged. Changing the email needs the current password.
type ProfileChanges struct {
	Name            *string
	Email           *string
	CurrentPassword *string
}

// UpdateProfile changes the caller's name or email.
func (s *Service) UpdateProfile(ctx context.Context, p Principal, c ProfileChanges, by Actor) (User, error) {
	var probs Problems
	if c.Name != nil {
		c.Name = new(normalizeName(*c.Name))
		probs.Check("name", nameProblem(*c.Name))
	}
	emailChanged := false
	if c.Email != nil {
		c.Email = new(NormalizeEmail(*c.Email))
		probs.Check("email", emailProblem(*c.Email))
		emailChanged = *c.Email != p.User.Email
		if emailChanged && c.CurrentPassword == nil {
			probs.Check("current_password", "is required to change the email")
		}
	}
	if err := probs.Err(); err != nil {
		return User{}, err
	}
	if emailChanged {
		if err := s.checkPassword(ctx, p, *c.CurrentPassword, "current_password"); err != nil {
			return User{}, err
		}
	}
	var updated User
	err := s.store.InTx(ctx, func(q Tx) error {
		// Re-read inside the write transaction: an admin may have changed
		// the account since the token was checked.
		u, err := q.GetUserByID(ctx, p.User.ID)
		if errors.Is(err, ErrNotFound) {
			return ErrUnauthenticated
		}
		if err != nil {
			return err
		}
		before := u
		if c.Name != nil {
			u.Name = *c.Name
		}
		if c.Email != nil {
			u.Email = *c.Email
		}
		if u == before { // nothing changes: updated_at stays, and no event
			updated = u
			return nil
		}
		updated, err = q.UpdateUserProfile(ctx, UpdateUserProfileParams{Email: u.Email, Name: u.Name, UpdatedAt: s.now(), ID: u.ID})
		if errors.Is(err, ErrDuplicate) {
			return errEmailTaken
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, q, by, eventProfileUpdate, u.ID)
	})
	return updated, err
}

// checkPassword verifies the caller's password, reporting a mismatch as a
// validation failure on field. The throttle counts it against the session:
// a stolen token buys no more guesses than a stranger's network gets.
func (s *Service) checkPassword(ctx context.Context, p Principal, password, field string) error {
	u, err := s.store.GetUserByID(ctx, p.User.ID)
	if err != nil {
		return err
	}
	attempt := passwordAttempt{account: "u:" + u.ID, client: "s:" + p.SessionID, known: true}
	ok, _, err := s.verifyPassword(ctx, attempt, NormalizePassword(password), u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		return InvalidField(field, "is incorrect")
	}
	return nil
}

// ChangePassword replaces the caller's password and ends the account's
// other sessions.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, replacement *string, by Actor) error {
	var probs Problems
	if current == nil {
		probs.Check("current_password", "is required")
	}
	newPassword := NormalizePassword(deref(replacement))
	if replacement == nil {
		probs.Check("new_password", "is required")
	} else {
		probs.Check("new_password", passwordProblem(newPassword, p.User.Email, s.cfg.PasswordMinLength))
	}
	if err := probs.Err(); err != nil {
		return err
	}
	if err := s.checkPassword(ctx, p, *current, "current_password"); err != nil {
		return err
	}
	hash, err := s.hasher.hash(ctx, newPassword)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(q Tx) error {
		if err := q.UpdateUserPasswordHash(ctx, UpdateUserPasswordHashParams{PasswordHash: hash, UpdatedAt: s.now(), ID: p.User.ID}); err != nil {
			return err
		}
		// Whoever else holds a session may be the reason for the change.
		if err := q.DeleteOtherUserSessions(ctx, DeleteOtherUserSessionsParams{UserID: p.User.ID, KeepID: p.SessionID}); err != nil {
			return err
		}
		return s.audit(ctx, q, by, eventPasswordChange, p.User.ID)
	})
}

// DeleteAccount deletes the caller's account, given its password.
func (s *Service) DeleteAccount(ctx context.Context, p Principal, password *string, by Actor) error {
	if password == nil {
		return InvalidField("password", "is required")
	}
	if err := s.checkPassword(ctx, p, *password, "password"); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(q Tx) error {
		if err := refuseLastAdmin(ctx, q, p.User); err != nil {
			return err
		}
		if _, err := q.DeleteUser(ctx, p.User.ID); err != nil { // sessions go with it (ON DELETE CASCADE)
			return err
		}
		return s.audit(ctx, q, by, eventAccountDelete, p.User.ID)
	})
}

// refuseLastAdmin fails if u is the only enabled admin. Run it inside the
// write transaction that removes u's admin powers, so two admins cannot
// both remove themselves at once.
func refuseLastAdmin(ctx context.Context, q Tx, u User) error {
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

// Session is a live session of an account.
type Session struct {
	ID         string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	IP         string
	Current    bool // the caller's own
}

// Sessions lists the caller's live sessions.
func (s *Service) Sessions(ctx context.Context, p Principal) ([]Session, error) {
	now := s.now()
	rows, err := s.store.ListLiveSessions(ctx, ListLiveSessionsParams{
		UserID: p.User.ID, Now: now, IdleSince: now.Add(-s.cfg.SessionIdleTimeout),
	})
	if err != nil {
		return nil, err
	}
	out := make([]Session, 0, len(rows))
	for _, row := range rows {
		out = append(out, Session{
			ID: row.ID, CreatedAt: row.CreatedAt.UTC(), LastUsedAt: row.LastUsedAt.UTC(), ExpiresAt: row.ExpiresAt.UTC(),
			UserAgent: row.UserAgent, IP: row.Ip, Current: row.ID == p.SessionID,
		})
	}
	return out, nil
}

// RevokeSession ends one of the caller's sessions.
func (s *Service) RevokeSession(ctx context.Context, p Principal, id string, by Actor) error {
	return s.store.InTx(ctx, func(q Tx) error {
		n, err := q.DeleteSession(ctx, DeleteSessionParams{ID: id, UserID: p.User.ID})
		if err != nil {
			return err
		}
		if n == 0 { // another user's session looks exactly like a missing one
			return Errorf(CodeNotFound, "no such session")
		}
		return s.audit(ctx, q, by, eventSessionRevoke, p.User.ID)
	})
}

// RevokeOtherSessions ends every session of the caller's but this one.
func (s *Service) RevokeOtherSessions(ctx context.Context, p Principal, by Actor) error {
	return s.store.InTx(ctx, func(q Tx) error {
		if err := q.DeleteOtherUserSessions(ctx, DeleteOtherUserSessionsParams{UserID: p.User.ID, KeepID: p.SessionID}); err != nil {
			return err
		}
		return s.audit(ctx, q, by, eventOtherSessionRevoke, p.User.ID)
	})
}
