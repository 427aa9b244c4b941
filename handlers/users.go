package handlers

import (
	"time"

	"spaceauth/auth"
)

// user is the User object of every response; it never carries a hash.
type user struct {
	ID          string     `json:"id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	Disabled    bool       `json:"disabled"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	LastLoginAt *time.Time `json:"last_login_at"`
}

func newUser(u auth.User) user {
	out := user{
		ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.Disabled,
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
	if u.LastLoginAt.Valid {
		t := u.LastLoginAt.Time.UTC()
		out.LastLoginAt = &t
	}
	return out
}
