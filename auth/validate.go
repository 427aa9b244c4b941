package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

const (
	// MaxEmailLength is the longest address SMTP allows.
	MaxEmailLength = 254
	maxNameLength  = 100
)

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
	case len(email) > MaxEmailLength:
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
