package auth

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// touchInterval bounds how often a session's use is recorded at all (a
// quarter of the idle timeout when that is shorter).
const touchInterval = time.Minute

// Principal is an authenticated caller. Its user carries no password hash:
// checkPassword reads it when an operation needs it.
type Principal struct {
	User      User
	SessionID string
}

// Authenticate returns the caller a token (given by its hash) belongs to.
func (s *Service) Authenticate(ctx context.Context, tokenHash []byte) (Principal, error) {
	if s.store.WritesRefused() {
		// Logout and revocation cannot be written: honouring tokens anyway
		// would keep a revoked one working. Fail closed.
		return Principal{}, ErrWritesRefused
	}
	now := s.now()
	pending := s.touches.pendingUse(tokenHash)
	row, err := s.store.AuthenticateToken(ctx, AuthenticateTokenParams{TokenHash: tokenHash, Now: now})
	if errors.Is(err, ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	if row.Disabled {
		return Principal{}, errDisabled
	}
	lastUsed := row.LastUsedAt
	if pending.After(lastUsed) {
		lastUsed = pending
	}
	if !lastUsed.After(now.Add(-s.cfg.SessionIdleTimeout)) {
		return Principal{}, ErrUnauthenticated
	}
	if now.Sub(lastUsed) >= min(touchInterval, s.cfg.SessionIdleTimeout/4) {
		s.touches.record(tokenHash, row.SessionID, now)
	}
	return Principal{SessionID: row.SessionID, User: User{
		ID: row.ID, Email: row.Email, Name: row.Name, Role: row.Role, Disabled: row.Disabled,
		CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, LastLoginAt: row.LastLoginAt,
	}}, nil
}

// NewAccount is an account to create; a nil Password is reported missing.
type NewAccount struct {
	Email    string
	Password *string
	Name     string
	Role     string
}

// Register creates an account with the user role for a visitor.
func (s *Service) Register(ctx context.Context, a NewAccount, by Actor) (User, error) {
	a.Role = "user"
	return s.createUser(ctx, a, by, eventRegister)
}

// CreateUser creates an account on an admin's behalf.
func (s *Service) CreateUser(ctx context.Context, a NewAccount, by Actor) (User, error) {
	return s.createUser(ctx, a, by, eventAdminUserCreate)
}

// createUser validates and stores a new account, recording event by a.
func (s *Service) createUser(ctx context.Context, a NewAccount, by Actor, event string) (User, error) {
	var p Problems
	email := NormalizeEmail(a.Email)
	p.Check("email", emailProblem(email))
	password := NormalizePassword(deref(a.Password))
	if a.Password == nil {
		p.Check("password", "is required")
	} else {
		p.Check("password", passwordProblem(password, email, s.cfg.PasswordMinLength))
	}
	name := normalizeName(a.Name)
	p.Check("name", nameProblem(name))
	p.Check("role", roleProblem(a.Role))
	if err := p.Err(); err != nil {
		return User{}, err
	}
	if s.hasher.full(ctx) {
		return User{}, errOverloaded
	}
	// Refuse a taken email before spending a hash on it.
	if _, err := s.store.GetUserByEmail(ctx, email); err == nil {
		return User{}, errEmailTaken
	} else if !errors.Is(err, ErrNotFound) {
		return User{}, err
	}
	hash, err := s.hasher.hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	var u User
	err = s.store.InTx(ctx, func(q Tx) error {
		u, err = q.CreateUser(ctx, CreateUserParams{
			ID: NewID(now), Email: email, Name: name, PasswordHash: hash, Role: a.Role, CreatedAt: now, UpdatedAt: now,
		})
		if errors.Is(err, ErrDuplicate) {
			return errEmailTaken
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, q, by, event, u.ID)
	})
	return u, err
}

// Login is a password login. Email and Password are normalised
// (NormalizeEmail, NormalizePassword) and within MaxEmailLength and
// MaxPasswordLength; DeviceToken is what an earlier login returned, if any.
type Login struct {
	Email, Password, DeviceToken string
}

// NewSession is a session just opened, with its bearer token, known only to
// the caller.
type NewSession struct {
	Token     string
	Lifetime  time.Duration
	ExpiresAt time.Time
	// DeviceToken, sent with later logins, keeps this client's failed
	// attempts apart from a stranger's: see loginThrottle.
	DeviceToken string
	User        User
}

// LogIn checks a password and opens a session. Unknown emails and wrong
// passwords fail the same way, in about the same time.
func (s *Service) LogIn(ctx context.Context, l Login, by Actor) (NewSession, error) {
	if s.hasher.full(ctx) {
		return NewSession{}, errOverloaded
	}
	u, err := s.store.GetUserByEmail(ctx, l.Email)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return NewSession{}, err
	}
	attempt := passwordAttempt{account: "e:" + l.Email, client: "n:" + ClientNetworkOf(ctx)}
	hash := s.hasher.dummyHash()
	if found {
		attempt.account, hash = "u:"+u.ID, u.PasswordHash
		device, err := s.throttle.device(ctx, l.DeviceToken, u.ID)
		if err != nil {
			return NewSession{}, err
		}
		if device != "" {
			attempt.client, attempt.known = "d:"+device, true
		}
	}
	ok, rehash, err := s.verifyPassword(ctx, attempt, l.Password, hash)
	if err != nil {
		return NewSession{}, err
	}
	if !found || !ok {
		if err := s.store.InTx(ctx, func(q Tx) error { return s.audit(ctx, q, by, eventLoginFailed, u.ID) }); err != nil {
			return NewSession{}, err
		}
		return NewSession{}, ErrBadCredentials
	}
	if u.Disabled {
		return NewSession{}, errDisabled
	}
	device, err := s.throttle.deviceToken(ctx, u.ID)
	if err != nil {
		return NewSession{}, err
	}
	newHash := ""
	if rehash {
		if newHash, err = s.hasher.hash(ctx, l.Password); err != nil {
			s.logger.Warn("could not upgrade password hash; will retry at next login", "err", err)
		}
	}
	now := s.now()
	token, tokenHash := NewToken()
	expires := now.Add(s.cfg.SessionTTL)
	err = s.store.InTx(ctx, func(q Tx) error {
		if err := q.CreateSession(ctx, CreateSessionParams{
			ID: NewID(now), UserID: u.ID, TokenHash: tokenHash, CreatedAt: now, LastUsedAt: now, ExpiresAt: expires,
			UserAgent: truncate(by.UserAgent, MaxUserAgent), Ip: by.IP,
		}); err != nil {
			return err
		}
		if newHash != "" {
			if err := q.RehashUserPassword(ctx, RehashUserPasswordParams{PasswordHash: newHash, ID: u.ID}); err != nil {
				return err
			}
		}
		u.LastLoginAt = sql.NullTime{Time: now, Valid: true}
		if err := q.RecordUserLogin(ctx, RecordUserLoginParams{LastLoginAt: u.LastLoginAt, ID: u.ID}); err != nil {
			return err
		}
		return s.audit(ctx, q, by, eventLogin, u.ID)
	})
	if err != nil {
		return NewSession{}, err
	}
	return NewSession{Token: token, Lifetime: s.cfg.SessionTTL, ExpiresAt: expires, DeviceToken: device, User: u}, nil
}

// LogOut ends the caller's session.
func (s *Service) LogOut(ctx context.Context, p Principal, by Actor) error {
	return s.store.InTx(ctx, func(q Tx) error {
		if _, err := q.DeleteSession(ctx, DeleteSessionParams{ID: p.SessionID, UserID: p.User.ID}); err != nil {
			return err
		}
		return s.audit(ctx, q, by, eventLogout, p.User.ID)
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
