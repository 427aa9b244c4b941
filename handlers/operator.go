package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"spaceauth/db"
)

// Operator runs account administration outside HTTP: the command line and
// the start-up bootstrap. It applies the same rules as the API and records
// the same audit events, with actor "cli" or "bootstrap".
type Operator struct {
	s     *server
	actor actor
}

// NewOperator returns an Operator acting from the command line.
func NewOperator(logger *slog.Logger, store *db.Store, cfg Config) *Operator {
	return &Operator{s: newServer(logger, store, cfg), actor: cliActor}
}

// User is an account as the command line shows it.
type User = db.User

// CreateUser creates an account; admin gives it the admin role.
func (o *Operator) CreateUser(ctx context.Context, email, password, name string, admin bool) (User, error) {
	role := "user"
	if admin {
		role = "admin"
	}
	return o.s.createUser(ctx, newAccount{Email: email, Password: &password, Name: name, Role: role}, o.actor, eventAdminUserCreate)
}

// SetPassword replaces a user's password and ends its sessions.
func (o *Operator) SetPassword(ctx context.Context, email, password string) error {
	return o.change(ctx, email, userChanges{Password: &password})
}

// SetRole makes a user "admin" or "user".
func (o *Operator) SetRole(ctx context.Context, email, role string) error {
	return o.change(ctx, email, userChanges{Role: &role})
}

// SetDisabled disables (ending its sessions) or enables a user.
func (o *Operator) SetDisabled(ctx context.Context, email string, disabled bool) error {
	return o.change(ctx, email, userChanges{Disabled: &disabled})
}

func (o *Operator) change(ctx context.Context, email string, c userChanges) error {
	u, err := o.userByEmail(ctx, email)
	if err != nil {
		return err
	}
	_, err = o.s.changeUser(ctx, u.ID, c, o.actor)
	return err
}

func (o *Operator) userByEmail(ctx context.Context, email string) (User, error) {
	email = NormalizeEmail(email)
	u, err := o.s.store.Read.GetUserByEmail(ctx, email)
	if db.IsNotFound(err) {
		return u, fmt.Errorf("no user with email %q", email)
	}
	return u, err
}

// ListUsers calls fn for every user, oldest first.
func (o *Operator) ListUsers(ctx context.Context, fn func(User) error) error {
	after := ""
	for {
		page, err := o.s.store.Read.ListUsers(ctx, db.ListUsersParams{After: after, Limit: maxPageSize})
		if err != nil {
			return err
		}
		for _, u := range page {
			if err := fn(u); err != nil {
				return err
			}
		}
		if len(page) < maxPageSize {
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
	u, err := o.s.store.Read.GetUserByEmail(ctx, NormalizeEmail(email))
	if db.IsNotFound(err) {
		if _, err := o.CreateUser(ctx, email, password, "", true); err != nil {
			return "", err
		}
		return "created", nil
	}
	if err != nil {
		return "", err
	}
	var c userChanges
	var did []string
	if u.Role != "admin" {
		if !resetPassword {
			ok, _, err := o.s.hasher.verify(ctx, normalizePassword(password), u.PasswordHash)
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
	if c == (userChanges{}) {
		return strings.Join(append([]string{"unchanged"}, did...), ", "), nil
	}
	if _, err := o.s.changeUser(ctx, u.ID, c, o.actor); err != nil {
		return "", err
	}
	return strings.Join(did, ", "), nil
}
