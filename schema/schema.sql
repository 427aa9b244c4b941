-- The full current schema. It runs on every start, so every statement must be
-- idempotent (IF NOT EXISTS). A change to an existing table also needs an
-- upgrade step in migrations/ (see schema.go).
--
-- Times are written from Go in UTC as "YYYY-MM-DDTHH:MM:SS.sss" (fixed width,
-- so text order is time order) and compared with a "now" bound from Go; SQL
-- clock functions are never used.

CREATE TABLE IF NOT EXISTS users (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    last_login_at DATETIME
);

CREATE TABLE IF NOT EXISTS sessions (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT ''
);

CREATE INDEX IF NOT EXISTS sessions_user_id ON sessions (user_id);
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);
CREATE INDEX IF NOT EXISTS sessions_last_used_at ON sessions (last_used_at);

-- user_id and actor_id are not foreign keys: the trail outlives the account.
CREATE TABLE IF NOT EXISTS audit_events (
    id         INTEGER PRIMARY KEY,
    event      TEXT NOT NULL,
    user_id    TEXT,
    actor_id   TEXT,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL
);

CREATE INDEX IF NOT EXISTS audit_events_created_at ON audit_events (created_at);
CREATE INDEX IF NOT EXISTS audit_events_user_id ON audit_events (user_id, id);
CREATE INDEX IF NOT EXISTS audit_events_event ON audit_events (event, id);

-- The login throttle's decaying failure counts (see auth/throttle.go), by
-- account and client; a row is dead from expires_at, when its count has
-- decayed to zero.
CREATE TABLE IF NOT EXISTS login_failures (
    key        TEXT PRIMARY KEY NOT NULL,
    score      REAL NOT NULL,
    at         DATETIME NOT NULL,
    expires_at DATETIME NOT NULL
);

CREATE INDEX IF NOT EXISTS login_failures_expires_at ON login_failures (expires_at);

-- Secrets every replica must share, such as the key that signs device tokens.
CREATE TABLE IF NOT EXISTS service_keys (
    name   TEXT PRIMARY KEY NOT NULL,
    secret BLOB NOT NULL
);
