package auth

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Store is what the domain needs of a database engine. Each engine's
// adapter implements it over its sqlc-generated queries; the row and
// parameter types below have the generated structs' fields, so adapters
// convert them with plain struct conversions.
type Store interface {
	Reader
	// InTx runs fn in one write transaction, serializable, and commits it
	// when fn returns nil: a nil error means the writes are durable.
	InTx(ctx context.Context, fn func(Tx) error) error
	Ping(ctx context.Context) error
	// WritesRefused reports that the store stopped taking writes for good
	// (its file vanished or became read-only): tokens then fail closed.
	WritesRefused() bool
	SchemaVersion() int
}

// Errors adapters return (wrapped) for the domain to act on.
var (
	ErrNotFound  = errors.New("no such row")
	ErrDuplicate = errors.New("unique constraint violated")
	// ErrUnavailable is the storage failing rather than the request: a full
	// disk, a vanished file, lock contention, an I/O error.
	ErrUnavailable = errors.New("storage unavailable")
)

// Reader is the queries that read.
type Reader interface {
	ListAuditEvents(ctx context.Context, arg ListAuditEventsParams) ([]AuditEvent, error)
	AuthenticateToken(ctx context.Context, arg AuthenticateTokenParams) (TokenOwner, error)
	ListLiveSessions(ctx context.Context, arg ListLiveSessionsParams) ([]SessionRow, error)
	CountEnabledAdmins(ctx context.Context) (int64, error)
	GetUserByEmail(ctx context.Context, email string) (User, error)
	GetUserByID(ctx context.Context, id string) (User, error)
	ListUsers(ctx context.Context, arg ListUsersParams) ([]User, error)
	CountRows(ctx context.Context) (int64, error)
	ListSessionsAfter(ctx context.Context, arg ListSessionsAfterParams) ([]SessionRow, error)
	ListAuditEventsAfter(ctx context.Context, arg ListAuditEventsAfterParams) ([]AuditEvent, error)
	GetLoginFailure(ctx context.Context, key string) (LoginFailure, error)
	GetServiceKey(ctx context.Context, name string) ([]byte, error)
}

// Tx is the queries of a write transaction.
type Tx interface {
	Reader
	CreateAuditEvent(ctx context.Context, arg CreateAuditEventParams) error
	DeleteAuditEventsBefore(ctx context.Context, createdAt time.Time) (int64, error)
	CreateSession(ctx context.Context, arg CreateSessionParams) error
	DeleteDeadSessions(ctx context.Context, arg DeleteDeadSessionsParams) (int64, error)
	DeleteOtherUserSessions(ctx context.Context, arg DeleteOtherUserSessionsParams) error
	DeleteSession(ctx context.Context, arg DeleteSessionParams) (int64, error)
	DeleteUserSessions(ctx context.Context, userID string) error
	TouchSession(ctx context.Context, arg TouchSessionParams) error
	CreateUser(ctx context.Context, arg CreateUserParams) (User, error)
	DeleteUser(ctx context.Context, id string) (int64, error)
	RecordUserLogin(ctx context.Context, arg RecordUserLoginParams) error
	RehashUserPassword(ctx context.Context, arg RehashUserPasswordParams) error
	UpdateUser(ctx context.Context, arg UpdateUserParams) (User, error)
	UpdateUserPasswordHash(ctx context.Context, arg UpdateUserPasswordHashParams) error
	UpdateUserProfile(ctx context.Context, arg UpdateUserProfileParams) (User, error)
	CopyUser(ctx context.Context, arg CopyUserParams) error
	CopyAuditEvent(ctx context.Context, arg CopyAuditEventParams) error
	ContinueAuditIDs(ctx context.Context) error
	PutLoginFailure(ctx context.Context, arg PutLoginFailureParams) error
	DeleteLoginFailure(ctx context.Context, key string) error
	DeleteExpiredLoginFailures(ctx context.Context, now time.Time) (int64, error)
	CreateServiceKey(ctx context.Context, arg CreateServiceKeyParams) error
}

// User is an account. PasswordHash is empty where it was not read.
type User struct {
	ID           string
	Email        string
	Name         string
	PasswordHash string
	Role         string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastLoginAt  sql.NullTime
}

// AuditEvent is one entry of the audit trail.
type AuditEvent struct {
	ID        int64
	Event     string
	UserID    sql.NullString
	ActorID   sql.NullString
	Ip        string
	UserAgent string
	CreatedAt time.Time
}

// SessionRow is a stored session; TokenHash is the SHA-256 of its token.
type SessionRow struct {
	ID         string
	UserID     string
	TokenHash  []byte
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	Ip         string
}

// TokenOwner is the session a token opens and its user, without the
// password hash.
type TokenOwner struct {
	SessionID   string
	LastUsedAt  time.Time
	ID          string
	Email       string
	Name        string
	Role        string
	Disabled    bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastLoginAt sql.NullTime
}

// The parameters of the queries, named after them.

type CreateAuditEventParams struct {
	Event     string
	UserID    sql.NullString
	ActorID   sql.NullString
	Ip        string
	UserAgent string
	CreatedAt time.Time
}

type ListAuditEventsParams struct {
	Before int64
	UserID string
	Event  string
	Limit  int64
}

type AuthenticateTokenParams struct {
	TokenHash []byte
	Now       time.Time
}

type CreateSessionParams struct {
	ID         string
	UserID     string
	TokenHash  []byte
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	Ip         string
}

type DeleteDeadSessionsParams struct {
	Now       time.Time
	IdleSince time.Time
}

type DeleteOtherUserSessionsParams struct {
	UserID string
	KeepID string
}

type DeleteSessionParams struct {
	ID     string
	UserID string
}

type ListLiveSessionsParams struct {
	UserID    string
	Now       time.Time
	IdleSince time.Time
}

type TouchSessionParams struct {
	LastUsedAt time.Time
	ID         string
}

type CreateUserParams struct {
	ID           string
	Email        string
	Name         string
	PasswordHash string
	Role         string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

type ListUsersParams struct {
	After  string
	Search string
	Limit  int64
}

type RecordUserLoginParams struct {
	LastLoginAt sql.NullTime
	ID          string
}

type RehashUserPasswordParams struct {
	PasswordHash string
	ID           string
}

type UpdateUserParams struct {
	Email     string
	Name      string
	Role      string
	Disabled  bool
	UpdatedAt time.Time
	ID        string
}

type UpdateUserPasswordHashParams struct {
	PasswordHash string
	UpdatedAt    time.Time
	ID           string
}

type UpdateUserProfileParams struct {
	Email     string
	Name      string
	UpdatedAt time.Time
	ID        string
}

type ListSessionsAfterParams struct {
	After string
	Limit int64
}

type ListAuditEventsAfterParams struct {
	After int64
	Limit int64
}

type CopyUserParams struct {
	ID           string
	Email        string
	Name         string
	PasswordHash string
	Role         string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastLoginAt  sql.NullTime
}

type CopyAuditEventParams struct {
	ID        int64
	Event     string
	UserID    sql.NullString
	ActorID   sql.NullString
	Ip        string
	UserAgent string
	CreatedAt time.Time
}

// LoginFailure is one of the login throttle's records.
type LoginFailure struct {
	Key       string
	Score     float64
	At        time.Time
	ExpiresAt time.Time
}

type PutLoginFailureParams struct {
	Key       string
	Score     float64
	At        time.Time
	ExpiresAt time.Time
}

type CreateServiceKeyParams struct {
	Name   string
	Secret []byte
}
