package auth

import (
	"context"
	"errors"
)

// UserChanges are the fields an admin may change; nil means unchanged.
type UserChanges struct {
	Name     *string
	Email    *string
	Role     *string
	Disabled *bool
	Password *string
}

// UserByID returns one account.
func (s *Service) UserByID(ctx context.Context, id string) (User, error) {
	u, err := s.store.GetUserByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return User{}, errNoSuchUser
	}
	return u, err
}

// ListUsers returns up to limit accounts after the id after (empty: from
// the first), oldest first, whose email or name contains search.
func (s *Service) ListUsers(ctx context.Context, search, after string, limit int) ([]User, error) {
	return s.store.ListUsers(ctx, ListUsersParams{After: after, Search: search, Limit: int64(limit)})
}

// ChangeUser applies c to the user with id. Disabling a user or setting its
// password ends all its sessions; the last enabled admin cannot lose that.
func (s *Service) ChangeUser(ctx context.Context, id string, c UserChanges, by Actor) (User, error) {
	current, err := s.UserByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	var p Problems
	if c.Name != nil {
		c.Name = new(normalizeName(*c.Name))
		p.Check("name", nameProblem(*c.Name))
	}
	if c.Email != nil {
		c.Email = new(NormalizeEmail(*c.Email))
		p.Check("email", emailProblem(*c.Email))
		current.Email = *c.Email
	}
	if c.Role != nil {
		p.Check("role", roleProblem(*c.Role))
	}
	if c.Password != nil {
		c.Password = new(NormalizePassword(*c.Password))
		p.Check("password", passwordProblem(*c.Password, current.Email, s.cfg.PasswordMinLength))
	}
	if err := p.Err(); err != nil {
		return User{}, err
	}
	hash := ""
	if c.Password != nil {
		if hash, err = s.hasher.hash(ctx, *c.Password); err != nil {
			return User{}, err
		}
	}
	var updated User
	err = s.store.InTx(ctx, func(q Tx) error {
		// Re-read inside the write transaction: nothing can change it now.
		before, err := q.GetUserByID(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return errNoSuchUser
		}
		if err != nil {
			return err
		}
		after := before
		if c.Name != nil {
			after.Name = *c.Name
		}
		if c.Email != nil {
			after.Email = *c.Email
		}
		if c.Role != nil {
			after.Role = *c.Role
		}
		if c.Disabled != nil {
			after.Disabled = *c.Disabled
		}
		if after.Role != "admin" || after.Disabled {
			if err := refuseLastAdmin(ctx, q, before); err != nil {
				return err
			}
		}
		now := s.now()
		updated, err = q.UpdateUser(ctx, UpdateUserParams{
			Email: after.Email, Name: after.Name, Role: after.Role, Disabled: after.Disabled, UpdatedAt: now, ID: id,
		})
		if errors.Is(err, ErrDuplicate) {
			return errEmailTaken
		}
		if err != nil {
			return err
		}
		if hash != "" {
			if err := q.UpdateUserPasswordHash(ctx, UpdateUserPasswordHashParams{PasswordHash: hash, UpdatedAt: now, ID: id}); err != nil {
				return err
			}
		}
		if hash != "" || (after.Disabled && !before.Disabled) {
			if err := q.DeleteUserSessions(ctx, id); err != nil {
				return err
			}
		}
		return s.audit(ctx, q, by, eventAdminUserUpdate, id)
	})
	return updated, err
}

// DeleteUser removes a user and its sessions, unless it is the last admin.
func (s *Service) DeleteUser(ctx context.Context, id string, by Actor) error {
	return s.store.InTx(ctx, func(q Tx) error {
		u, err := q.GetUserByID(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return errNoSuchUser
		}
		if err != nil {
			return err
		}
		if err := refuseLastAdmin(ctx, q, u); err != nil {
			return err
		}
		if _, err := q.DeleteUser(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, q, by, eventAdminUserDelete, id)
	})
}

// RevokeUserSessions ends every session of a user.
func (s *Service) RevokeUserSessions(ctx context.Context, id string, by Actor) error {
	return s.store.InTx(ctx, func(q Tx) error {
		if _, err := q.GetUserByID(ctx, id); errors.Is(err, ErrNotFound) {
			return errNoSuchUser
		} else if err != nil {
			return err
		}
		if err := q.DeleteUserSessions(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, q, by, eventAdminSessionsRevoke, id)
	})
}
