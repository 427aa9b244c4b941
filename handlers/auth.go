package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"spaceauth/auth"
)

type authedFunc func(w http.ResponseWriter, r *http.Request, p auth.Principal) error

// authed runs h for a caller with a live session, and answers 401 otherwise.
func (s *server) authed(h authedFunc) http.HandlerFunc {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		return h(w, r, p)
	})
}

func (s *server) authenticate(r *http.Request) (auth.Principal, error) {
	hash, ok := bearerTokenHash(r)
	if !ok {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	return s.auth.Authenticate(r.Context(), hash)
}

type credentials struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
	Name     *string `json:"name"`
}

// handleRegister serves POST /auth/register.
func (s *server) handleRegister(w http.ResponseWriter, r *http.Request) error {
	req, err := decode[credentials](w, r)
	if err != nil {
		return err
	}
	u, err := s.auth.Register(r.Context(), auth.NewAccount{
		Email: deref(req.Email), Password: req.Password, Name: deref(req.Name),
	}, s.requestActor(r, ""))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newUser(u))
	return nil
}

type loginResponse struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	ExpiresIn   int64     `json:"expires_in"`
	ExpiresAt   time.Time `json:"expires_at"`
	DeviceToken string    `json:"device_token"`
	User        user      `json:"user"`
}

// handleLogin serves POST /auth/login, with a JSON body or the OAuth2
// password form (username, password) that FastAPI clients send.
func (s *server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	req, err := readLogin(w, r)
	if err != nil {
		return err
	}
	session, err := s.auth.LogIn(r.Context(), req, s.requestActor(r, ""))
	if errors.Is(err, auth.ErrBadCredentials) {
		return &oauthError{code: "invalid_grant", err: err}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, loginResponse{
		AccessToken: session.Token, TokenType: "bearer", ExpiresIn: int64(session.Lifetime / time.Second),
		ExpiresAt: session.ExpiresAt, DeviceToken: session.DeviceToken, User: newUser(session.User),
	})
	return nil
}

// readLogin reads a login request, normalised. Emails and passwords too
// long for any account are refused here, before they cost memory in the
// throttle or time in a hash.
func readLogin(w http.ResponseWriter, r *http.Request) (auth.Login, error) {
	var emailField, passwordField = "email", "password"
	var rawEmail, rawPassword, deviceToken *string
	if hasMediaType(r, "application/x-www-form-urlencoded") {
		emailField = "username"
		body, err := readBody(w, r)
		if err != nil {
			return auth.Login{}, err
		}
		form, err := url.ParseQuery(string(body))
		if err != nil || !utf8.Valid(body) {
			return auth.Login{}, newError(codeBadRequest, "malformed form body")
		}
		for _, key := range []string{"username", "password", "device_token", "grant_type"} {
			if len(form[key]) > 1 {
				return auth.Login{}, newError(codeBadRequest, "field %q is given more than once", key)
			}
		}
		// The password grant's form; FastAPI clients may leave grant_type out.
		if form.Has("grant_type") && form.Get("grant_type") != "password" {
			return auth.Login{}, &oauthError{code: "unsupported_grant_type", err: newError(codeBadRequest, `grant_type must be "password"`)}
		}
		if form.Has("username") {
			rawEmail = new(form.Get("username"))
		}
		if form.Has("password") {
			rawPassword = new(form.Get("password"))
		}
		deviceToken = new(form.Get("device_token"))
	} else {
		if !hasMediaType(r, "application/json") {
			return auth.Login{}, newError(codeUnsupportedMedia, "send the login as application/json or application/x-www-form-urlencoded")
		}
		req, err := decode[struct {
			Email       *string `json:"email"`
			Password    *string `json:"password"`
			DeviceToken *string `json:"device_token"`
		}](w, r)
		if err != nil {
			return auth.Login{}, err
		}
		rawEmail, rawPassword, deviceToken = req.Email, req.Password, req.DeviceToken
	}
	var p auth.Problems
	email, password := auth.NormalizeEmail(deref(rawEmail)), auth.NormalizePassword(deref(rawPassword))
	switch {
	case email == "":
		p.Check(emailField, "is required")
	case len(email) > auth.MaxEmailLength:
		p.Check(emailField, fmt.Sprintf("must be at most %d characters", auth.MaxEmailLength))
	}
	switch {
	case password == "":
		p.Check(passwordField, "is required")
	case utf8.RuneCountInString(password) > auth.MaxPasswordLength:
		p.Check(passwordField, fmt.Sprintf("must be at most %d characters", auth.MaxPasswordLength))
	}
	if err := p.Err(); err != nil {
		return auth.Login{}, err
	}
	return auth.Login{Email: email, Password: password, DeviceToken: deref(deviceToken)}, nil
}

// handleLogout serves POST /auth/logout.
func (s *server) handleLogout(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := s.auth.LogOut(r.Context(), p, s.requestActor(r, "")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
