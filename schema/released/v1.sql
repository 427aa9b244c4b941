-- Frozen copy of schema.sql as released at schema version 1. Never edit: a
-- database of any older version is this plus the upgrade steps up to it, which
-- is how restore recognises one (and the upgrade test builds one).

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
    updated_at    DATETIME NOT NULL
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
