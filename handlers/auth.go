package handlers

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"spaceauth/db"
)

// touchInterval bounds how often a session's use is recorded at all (a
// quarter of the idle timeout when that is shorter).
const touchInterval = time.Minute

var errWritesRefused = retryLater(codeUnavailable, 5*time.Second, "the database file was removed or made read-only; restart the service")

var errBadCredentials = newError(codeUnauthorized, "the email or password is incorrect")

// principal is the authenticated caller. user carries no password hash:
// checkPassword reads it when a handler needs it.
type principal struct {
	user      db.User
	sessionID string
}

type authedFunc func(w http.ResponseWriter, r *http.Request, p principal) error

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

func (s *server) authenticate(r *http.Request) (principal, error) {
	hash, ok := bearerTokenHash(r)
	if !ok {
		return principal{}, errUnauthenticated
	}
	if s.store.WritesRefused() {
		// Logout and revocation cannot be written: honouring tokens anyway
		// would keep a revoked one working. Fail closed.
		return principal{}, errWritesRefused
	}
	ctx, now := r.Context(), s.now()
	pending := s.touches.pendingUse(hash)
	row, err := s.store.Read.AuthenticateToken(ctx, db.AuthenticateTokenParams{TokenHash: hash, Now: now})
	if db.IsNotFound(err) {
		return principal{}, errUnauthenticated
	}
	if err != nil {
		return principal{}, err
	}
	if row.Disabled {
		return principal{}, newError(codeForbidden, "this account is disabled")
	}
	lastUsed := row.LastUsedAt
	if pending.After(lastUsed) {
		lastUsed = pending
	}
	if !lastUsed.After(now.Add(-s.cfg.SessionIdleTimeout)) {
		return principal{}, errUnauthenticated
	}
	if now.Sub(lastUsed) >= min(touchInterval, s.cfg.SessionIdleTimeout/4) {
		s.touches.record(hash, row.SessionID, now)
	}
	return principal{sessionID: row.SessionID, user: db.User{
		ID: row.ID, Email: row.Email, Name: row.Name, Role: row.Role, Disabled: row.Disabled,
		CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, LastLoginAt: row.LastLoginAt,
	}}, nil
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
	u, err := s.createUser(r.Context(), newAccount{
		Email: deref(req.Email), Password: req.Password, Name: deref(req.Name), Role: "user",
	}, s.requestActor(r, ""), eventRegister)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newUser(u))
	return nil
}

type newAccount struct {
	Email    string
	Password *string
	Name     string
	Role     string
}

// createUser validates and stores a new account, recording event by a.
func (s *server) createUser(ctx context.Context, a newAccount, by actor, event string) (db.User, error) {
	var p problems
	email := NormalizeEmail(a.Email)
	p.check("email", emailProblem(email))
	password := normalizePassword(deref(a.Password))
	if a.Password == nil {
		p.check("password", "is required")
	} else {
		p.check("password", passwordProblem(password, email, s.cfg.PasswordMinLength))
	}
	name := normalizeName(a.Name)
	p.check("name", nameProblem(name))
	p.check("role", roleProblem(a.Role))
	if err := p.err(); err != nil {
		return db.User{}, err
	}
	if s.hasher.full(ctx) {
		return db.User{}, errOverloaded
	}
	// Refuse a taken email before spending a hash on it.
	if _, err := s.store.Read.GetUserByEmail(ctx, email); err == nil {
		return db.User{}, errEmailTaken
	} else if !db.IsNotFound(err) {
		return db.User{}, err
	}
	hash, err := s.hasher.hash(ctx, password)
	if err != nil {
		return db.User{}, err
	}
	now := s.now()
	var u db.User
	err = s.store.Tx(ctx, func(q *db.Queries) error {
		u, err = q.CreateUser(ctx, db.CreateUserParams{
			ID: newID(now), Email: email, Name: name, PasswordHash: hash, Role: a.Role, CreatedAt: now, UpdatedAt: now,
		})
		if db.IsUniqueViolation(err) {
			return errEmailTaken
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, q, by, event, u.ID)
	})
	return u, err
}

var errEmailTaken = newError(codeConflict, "an account with this email already exists")

type loginResponse struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	ExpiresIn   int64     `json:"expires_in"`
	ExpiresAt   time.Time `json:"expires_at"`
	// DeviceToken, sent with later logins, keeps this client's failed
	// attempts apart from a stranger's: see loginThrottle.
	DeviceToken string `json:"device_token"`
	User        user   `json:"user"`
}

type loginRequest struct {
	email, password, deviceToken string
}

// handleLogin serves POST /auth/login, with a JSON body or the OAuth2
// password form (username, password) that FastAPI clients send.
func (s *server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	req, err := readLogin(w, r)
	if err != nil {
		return err
	}
	ctx, now := r.Context(), s.now()
	if s.hasher.full(ctx) {
		return errOverloaded
	}
	u, err := s.store.Read.GetUserByEmail(ctx, req.email)
	found := err == nil
	if err != nil && !db.IsNotFound(err) {
		return err
	}
	attempt := passwordAttempt{account: "e:" + req.email, client: "n:" + clientNetworkOf(ctx)}
	hash := s.hasher.dummyHash()
	if found {
		attempt.account, hash = "u:"+u.ID, u.PasswordHash
		if device := s.throttle.device(req.deviceToken, u.ID); device != "" {
			attempt.client, attempt.known = "d:"+device, true
		}
	}
	ok, rehash, err := s.verifyPassword(ctx, attempt, req.password, hash)
	if err != nil {
		return err
	}
	if !found || !ok {
		if err := s.audit(ctx, s.store.Write, s.requestActor(r, ""), eventLoginFailed, u.ID); err != nil {
			return err
		}
		return errBadCredentials
	}
	if u.Disabled {
		return newError(codeForbidden, "this account is disabled")
	}
	newHash := ""
	if rehash {
		if newHash, err = s.hasher.hash(ctx, req.password); err != nil {
			s.logger.Warn("could not upgrade password hash; will retry at next login", "err", err)
		}
	}
	token, tokenHash := newToken()
	expires := now.Add(s.cfg.SessionTTL)
	err = s.store.Tx(ctx, func(q *db.Queries) error {
		if err := q.CreateSession(ctx, db.CreateSessionParams{
			ID: newID(now), UserID: u.ID, TokenHash: tokenHash, CreatedAt: now, LastUsedAt: now, ExpiresAt: expires,
			UserAgent: truncate(r.UserAgent(), maxUserAgent), Ip: s.clientIP(r),
		}); err != nil {
			return err
		}
		if newHash != "" {
			if err := q.RehashUserPassword(ctx, db.RehashUserPasswordParams{PasswordHash: newHash, ID: u.ID}); err != nil {
				return err
			}
		}
		u.LastLoginAt = sql.NullTime{Time: now, Valid: true}
		if err := q.RecordUserLogin(ctx, db.RecordUserLoginParams{LastLoginAt: u.LastLoginAt, ID: u.ID}); err != nil {
			return err
		}
		return s.audit(ctx, q, s.requestActor(r, ""), eventLogin, u.ID)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, loginResponse{
		AccessToken: token, TokenType: "bearer", ExpiresIn: int64(s.cfg.SessionTTL / time.Second), ExpiresAt: expires,
		DeviceToken: s.throttle.deviceToken(u.ID), User: newUser(u),
	})
	return nil
}

// readLogin reads a login request, normalised. Emails and passwords too
// long for any account are refused here, before they cost memory in the
// throttle or time in a hash.
func readLogin(w http.ResponseWriter, r *http.Request) (loginRequest, error) {
	var emailField, passwordField = "email", "password"
	var rawEmail, rawPassword, deviceToken *string
	if hasMediaType(r, "application/x-www-form-urlencoded") {
		emailField = "username"
		body, err := readBody(w, r)
		if err != nil {
			return loginRequest{}, err
		}
		form, err := url.ParseQuery(string(body))
		if err != nil || !utf8.Valid(body) {
			return loginRequest{}, newError(codeBadRequest, "malformed form body")
		}
		for _, key := range []string{"username", "password", "device_token"} {
			if len(form[key]) > 1 {
				return loginRequest{}, newError(codeBadRequest, "field %q is given more than once", key)
			}
		}
		if form.Has("username") {
			rawEmail = new(form.Get("username"))
		}
		if form.Has("password") {
			rawPassword = new(form.Get("password"))
		}
		deviceToken = new(form.Get("device_token"))
	} else {
		req, err := decode[struct {
			Email       *string `json:"email"`
			Password    *string `json:"password"`
			DeviceToken *string `json:"device_token"`
		}](w, r)
		if err != nil {
			return loginRequest{}, err
		}
		rawEmail, rawPassword, deviceToken = req.Email, req.Password, req.DeviceToken
	}
	var p problems
	email, password := NormalizeEmail(deref(rawEmail)), normalizePassword(deref(rawPassword))
	switch {
	case email == "":
		p.check(emailField, "is required")
	case len(email) > maxEmailLength:
		p.check(emailField, fmt.Sprintf("must be at most %d characters", maxEmailLength))
	}
	switch {
	case password == "":
		p.check(passwordField, "is required")
	case utf8.RuneCountInString(password) > maxPasswordLength:
		p.check(passwordField, fmt.Sprintf("must be at most %d characters", maxPasswordLength))
	}
	if err := p.err(); err != nil {
		return loginRequest{}, err
	}
	return loginRequest{email: email, password: password, deviceToken: deref(deviceToken)}, nil
}

// handleLogout serves POST /auth/logout.
func (s *server) handleLogout(w http.ResponseWriter, r *http.Request, p principal) error {
	ctx := r.Context()
	err := s.store.Tx(ctx, func(q *db.Queries) error {
		if _, err := q.DeleteSession(ctx, db.DeleteSessionParams{ID: p.sessionID, UserID: p.user.ID}); err != nil {
			return err
		}
		return s.audit(r.Context(), q, s.requestActor(r, ""), eventLogout, p.user.ID)
	})
	if err != nil {
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
