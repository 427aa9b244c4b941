package handlers

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"spaceauth/auth"
)

// Codes of failures only HTTP has, beside the domain's.
const (
	codeBadRequest       = auth.CodeBadRequest
	codeForbidden        = auth.CodeForbidden
	codeNotFound         = auth.CodeNotFound
	codeConflict         = auth.CodeConflict
	codeTooManyRequests  = auth.CodeTooManyRequests
	codeInternal         = auth.CodeInternal
	codeUnavailable      = auth.CodeUnavailable
	codeMethodNotAllowed = auth.Code("method-not-allowed")
	codeTooLarge         = auth.Code("payload-too-large")
	codeUnsupportedMedia = auth.Code("unsupported-media-type")
)

// statuses maps each code to its HTTP status.
var statuses = map[auth.Code]int{
	auth.CodeBadRequest:      http.StatusBadRequest,
	auth.CodeUnauthorized:    http.StatusUnauthorized,
	auth.CodeForbidden:       http.StatusForbidden,
	auth.CodeNotFound:        http.StatusNotFound,
	auth.CodeConflict:        http.StatusConflict,
	auth.CodeValidation:      http.StatusUnprocessableEntity,
	auth.CodeTooManyRequests: http.StatusTooManyRequests,
	auth.CodeInternal:        http.StatusInternalServerError,
	auth.CodeUnavailable:     http.StatusServiceUnavailable,
	codeMethodNotAllowed:     http.StatusMethodNotAllowed,
	codeTooLarge:             http.StatusRequestEntityTooLarge,
	codeUnsupportedMedia:     http.StatusUnsupportedMediaType,
}

var (
	newError   = auth.Errorf
	retryLater = auth.RetryLater
)

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// problem is the RFC 9457 body of every error response.
type problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail"`
	Errors []fieldError `json:"errors,omitempty"`
	// OAuth and OAuthDescription are RFC 6749 §5.2's error members, on the
	// token endpoint's errors, for OAuth clients.
	OAuth            string `json:"error,omitempty"`
	OAuthDescription string `json:"error_description,omitempty"`
}

// oauthError is an error of the OAuth 2.0 token endpoint (/auth/login):
// its problem also carries code as RFC 6749 §5.2's error.
type oauthError struct {
	code string // invalid_grant, unsupported_grant_type
	err  error
}

func (e *oauthError) Error() string { return e.err.Error() }
func (e *oauthError) Unwrap() error { return e.err }

// writeError is the one place an error becomes a response. Errors that are
// not auth.Errors are logged and shown to the client only as "internal error".
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	var apiErr *auth.Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &apiErr):
	case errors.As(err, &tooBig):
		apiErr = newError(codeTooLarge, "the request body is larger than %d bytes", tooBig.Limit)
	case errors.Is(err, auth.ErrUnavailable):
		logger.Error("storage unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		apiErr = retryLater(codeUnavailable, 5*time.Second, "storage is temporarily unavailable; try again shortly")
	case errors.Is(err, r.Context().Err()) && r.Context().Err() != nil:
		return // the client went away; nobody is listening
	default:
		logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		apiErr = newError(codeInternal, "internal error")
	}
	status := statuses[apiErr.Code]
	if apiErr.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(apiErr.RetryAfter.Seconds()))))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="spaceauth"`)
	}
	fields := make([]fieldError, len(apiErr.Fields))
	for i, f := range apiErr.Fields {
		fields[i] = fieldError(f)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	body := problem{
		Type:   "urn:spaceauth:problem:" + string(apiErr.Code),
		Title:  http.StatusText(status),
		Status: status,
		Detail: apiErr.Detail,
		Errors: fields,
	}
	if oauth, ok := errors.AsType[*oauthError](err); ok {
		body.OAuth, body.OAuthDescription = oauth.code, apiErr.Detail
	}
	writeJSON(w, status, body)
}
