package handlers

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"spaceauth/db"
)

const (
	maxEmailLength = 254
	maxNameLength  = 100
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

func newUser(u db.User) user {
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

// NormalizeEmail trims, NFKC-normalises and lower-cases an address, the one
// form in which emails are stored and compared.
func NormalizeEmail(email string) string {
	return strings.ToLower(norm.NFKC.String(strings.TrimSpace(email)))
}

// emailProblem says why a normalised email is refused, or "".
func emailProblem(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	switch {
	case email == "":
		return "is required"
	case len(email) > maxEmailLength:
		return "must be at most 254 characters"
	case strings.IndexFunc(email, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "must not contain spaces or control characters"
	case !ok || strings.Contains(domain, "@"):
		return "must contain exactly one @"
	case strings.IndexFunc(email, func(r rune) bool { return r > unicode.MaxASCII }) >= 0:
		// Look-alike letters from other scripts would let one address pose as another.
		return "must use ASCII characters; write an international domain in its xn-- form"
	case local == "":
		return "needs a name before the @"
	case !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return "needs a domain such as example.com after the @"
	}
	return ""
}

// normalizeName trims a display name.
func normalizeName(name string) string { return strings.TrimSpace(name) }

// nameProblem says why a normalised name is refused, or "".
func nameProblem(name string) string {
	switch {
	case utf8.RuneCountInString(name) > maxNameLength:
		return "must be at most 100 characters"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "must not contain control characters"
	}
	return ""
}

// roleProblem says why a role is refused, or "".
func roleProblem(role string) string {
	if role != "user" && role != "admin" {
		return `must be "user" or "admin"`
	}
	return ""
}

// problems collects field errors so a request hears about all of them at once.
type problems []fieldError

func (p *problems) check(field, problem string) {
	if problem != "" {
		*p = append(*p, fieldError{Field: field, Message: problem})
	}
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return validationFailed(p)
}
