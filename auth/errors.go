package auth

import (
	"fmt"
	"strings"
	"time"
)

// Code names a kind of failure. The HTTP layer maps each to a status; the
// command line prints the detail.
type Code string

const (
	CodeBadRequest      Code = "bad-request"
	CodeUnauthorized    Code = "unauthorized"
	CodeForbidden       Code = "forbidden"
	CodeNotFound        Code = "not-found"
	CodeConflict        Code = "conflict"
	CodeValidation      Code = "validation-failed"
	CodeTooManyRequests Code = "too-many-requests"
	CodeUnavailable     Code = "service-unavailable"
	CodeInternal        Code = "internal-error"
)

// Error is a failure whose detail is safe to show to the caller.
type Error struct {
	Code       Code
	Detail     string
	Fields     []FieldError
	RetryAfter time.Duration // when positive, the caller may retry after it
}

// FieldError is one invalid field of a request.
type FieldError struct {
	Field   string
	Message string
}

// Error reads well on its own, for the command line.
func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Detail
	}
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Field + " " + f.Message
	}
	return strings.Join(msgs, "; ")
}

// Errorf returns an Error of code with a formatted detail.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// InvalidField reports one invalid field.
func InvalidField(field, message string) *Error {
	return validationFailed([]FieldError{{field, message}})
}

func validationFailed(fields []FieldError) *Error {
	return &Error{Code: CodeValidation, Detail: "the request has invalid fields", Fields: fields}
}

// RetryLater is an Error the caller may retry after the given time.
func RetryLater(code Code, after time.Duration, detail string) *Error {
	return &Error{Code: code, Detail: detail, RetryAfter: after}
}

var (
	ErrUnauthenticated = Errorf(CodeUnauthorized, "a valid bearer token is required")
	ErrWritesRefused   = RetryLater(CodeUnavailable, 5*time.Second, "the database file was removed or made read-only; restart the service")
	// ErrBadCredentials is a failed login: an unknown email or a wrong password.
	ErrBadCredentials = Errorf(CodeUnauthorized, "the email or password is incorrect")

	errDisabled   = Errorf(CodeForbidden, "this account is disabled")
	errEmailTaken = Errorf(CodeConflict, "an account with this email already exists")
	errLastAdmin  = Errorf(CodeConflict, "this is the last enabled admin; make another admin first")
	errNoSuchUser = Errorf(CodeNotFound, "no such user")
)

// Problems collects field errors so a request hears about all of them at once.
type Problems []FieldError

func (p *Problems) Check(field, problem string) {
	if problem != "" {
		*p = append(*p, FieldError{Field: field, Message: problem})
	}
}

func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return validationFailed(p)
}
