package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Operator runs account administration outside HTTP: the command line and
// the start-up bootstrap. It applies the same rules as the API and records
// the same audit events, with actor "cli" or "bootstrap".
type Operator struct {
	s     *Service
	actor Actor
}

// Operator returns the Operator of s, acting from the command line.
func (s *Service) Operator() *Operator {
	return &Operator{s: s, actor: cliActor}
}

// CreateUser creates an account; admin gives it the admin role.
func (o *Operator) CreateUser(ctx context.Context, email, password, name string, admin bool) (User, error) {
	role := "user"
	if admin {
		role = "admin"
	}
	return o.s.createUser(ctx, NewAccount{Email: email, Password: &password, Name: name, Role: role}, o.actor, eventAdminUserCreate)
}

// SetPassword replaces a user's password and ends its sessions.
func (o *Operator) SetPassword(ctx context.Context, email, password string) error {
	return o.change(ctx, email, UserChanges{Password: &password})
}

// SetRole makes a user "admin" or "user".
func (o *Operator) SetRole(ctx context.Context, email, role string) error {
	return o.change(ctx, email, UserChanges{Role: &role})
}

// SetDisabled disables (ending its sessions) or enables a user.
func (o *Operator) SetDisabled(ctx context.Context, email string, disabled bool) error {
	return o.change(ctx, email, UserChanges{Disabled: &disabled})
}

func (o *Operator) change(ctx context.Context, email string, c UserChanges) error {
	u, err := o.userByEmail(ctx, email)
	if err != nil {
		return err
	}
	_, err = o.s.ChangeUser(ctx, u.ID, c, o.actor)
	return err
}

func (o *Operator) userByEmail(ctx context.Context, email string) (User, error) {
	email = NormalizeEmail(email)
	u, err := o.s.store.GetUserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return u, fmt.Errorf("no user with email %q", email)
	}
	return u, err
}

// listPage is how many users ListUsers reads at a time.
const listPage = 200

// ListUsers calls fn for every user, oldest first.
func (o *Operator) ListUsers(ctx context.Context, fn func(User) error) error {
	after := ""
	for {
		page, err := o.s.store.ListUsers(ctx, ListUsersParams{After: after, Limit: listPage})
		if err != nil {
			return err
		}
		for _, u := range page {
			if err := fn(u); err != nil {
				return err
			}
		}
		if len(page) < listPage {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// EnsureAdmin makes sure email is an admin account: created with password if
// missing, promoted if not an admin. Someone else may have registered the
// address first, so an existing account is promoted only when password is
// already its password, or with resetPassword, which also sets it. It says
// what it did, never the password.
func (o *Operator) EnsureAdmin(ctx context.Context, email, password string, resetPassword bool) (string, error) {
	o = &Operator{s: o.s, actor: bootstrapActor}
	u, err := o.s.store.GetUserByEmail(ctx, NormalizeEmail(email))
	if errors.Is(err, ErrNotFound) {
		if _, err := o.CreateUser(ctx, email, password, "", true); err != nil {
			return "", err
		}
		return "created", nil
	}
	if err != nil {
		return "", err
	}
	var c UserChanges
	var did []string
	if u.Role != "admin" {
		if !resetPassword {
			ok, _, err := o.s.hasher.verify(ctx, NormalizePassword(password), u.PasswordHash)
			if err != nil {
				return "", err
			}
			if !ok {
				return "", fmt.Errorf("%s is already registered with a password other than ADMIN_PASSWORD, so it was not made an admin: "+
					"whoever registered it may not be you. Set ADMIN_PASSWORD to that account's password, or ADMIN_PASSWORD_RESET=1 "+
					"to take the account over (this replaces its password and ends its sessions)", u.Email)
			}
		}
		c.Role = new("admin")
		did = append(did, "promoted")
	}
	if resetPassword {
		c.Password = &password
		did = append(did, "password reset")
	}
	if u.Disabled {
		did = append(did, "left disabled (enable it with: spaceauth users enable)")
	}
	if c == (UserChanges{}) {
		return strings.Join(append([]string{"unchanged"}, did...), ", "), nil
	}
	if _, err := o.s.ChangeUser(ctx, u.ID, c, o.actor); err != nil {
		return "", err
	}
	return strings.Join(did, ", "), nil
}
