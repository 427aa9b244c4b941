package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"spaceauth/db"
)

// errorCode names a kind of failure; codes maps each to its HTTP status.
type errorCode string

const (
	codeBadRequest       errorCode = "bad-request"
	codeUnauthorized     errorCode = "unauthorized"
	codeForbidden        errorCode = "forbidden"
	codeNotFound         errorCode = "not-found"
	codeMethodNotAllowed errorCode = "method-not-allowed"
	codeConflict         errorCode = "conflict"
	codeTooLarge         errorCode = "payload-too-large"
	codeUnsupportedMedia errorCode = "unsupported-media-type"
	codeValidation       errorCode = "validation-failed"
	codeTooManyRequests  errorCode = "too-many-requests"
	codeInternal         errorCode = "internal-error"
	codeUnavailable      errorCode = "service-unavailable"
)

var codes = map[errorCode]int{
	codeBadRequest:       http.StatusBadRequest,
	codeUnauthorized:     http.StatusUnauthorized,
	codeForbidden:        http.StatusForbidden,
	codeNotFound:         http.StatusNotFound,
	codeMethodNotAllowed: http.StatusMethodNotAllowed,
	codeConflict:         http.StatusConflict,
	codeTooLarge:         http.StatusRequestEntityTooLarge,
	codeUnsupportedMedia: http.StatusUnsupportedMediaType,
	codeValidation:       http.StatusUnprocessableEntity,
	codeTooManyRequests:  http.StatusTooManyRequests,
	codeInternal:         http.StatusInternalServerError,
	codeUnavailable:      http.StatusServiceUnavailable,
}

// apiError is an error whose message is safe to show to the client.
type apiError struct {
	code       errorCode
	detail     string
	fields     []fieldError
	retryAfter time.Duration // sets Retry-After when positive
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error reads well on its own, for the command line.
func (e *apiError) Error() string {
	if len(e.fields) == 0 {
		return e.detail
	}
	msgs := make([]string, len(e.fields))
	for i, f := range e.fields {
		msgs[i] = f.Field + " " + f.Message
	}
	return strings.Join(msgs, "; ")
}

func newError(code errorCode, format string, args ...any) *apiError {
	return &apiError{code: code, detail: fmt.Sprintf(format, args...)}
}

func invalidField(field, message string) *apiError {
	return validationFailed([]fieldError{{field, message}})
}

func validationFailed(fields []fieldError) *apiError {
	return &apiError{code: codeValidation, detail: "the request has invalid fields", fields: fields}
}

func retryLater(code errorCode, after time.Duration, detail string) *apiError {
	return &apiError{code: code, detail: detail, retryAfter: after}
}

var errUnauthenticated = newError(codeUnauthorized, "a valid bearer token is required")

// problem is the RFC 9457 body of every error response.
type problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail"`
	Errors []fieldError `json:"errors,omitempty"`
}

// writeError is the one place an error becomes a response. Errors that are
// not apiErrors are logged and shown to the client only as "internal error".
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var apiErr *apiError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &apiErr):
	case errors.As(err, &tooBig):
		apiErr = newError(codeTooLarge, "the request body is larger than %d bytes", tooBig.Limit)
	case db.IsUnavailable(err):
		logger.Error("storage unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		apiErr = retryLater(codeUnavailable, 5*time.Second, "storage is temporarily unavailable; try again shortly")
	case errors.Is(err, r.Context().Err()) && r.Context().Err() != nil:
		return // the client went away; nobody is listening
	default:
		logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		apiErr = newError(codeInternal, "internal error")
	}
	status := codes[apiErr.code]
	if apiErr.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(apiErr.retryAfter.Seconds()))))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="spaceauth"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	writeJSON(w, status, problem{
		Type:   "urn:spaceauth:problem:" + string(apiErr.code),
		Title:  http.StatusText(status),
		Status: status,
		Detail: apiErr.detail,
		Errors: apiErr.fields,
	})
}
