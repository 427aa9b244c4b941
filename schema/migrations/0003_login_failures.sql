-- The login throttle's failure counts and the key that signs device
-- tokens move into the database, so replicas share them.
CREATE TABLE IF NOT EXISTS login_failures (
    key        TEXT PRIMARY KEY NOT NULL,
    score      REAL NOT NULL,
    at         DATETIME NOT NULL,
    expires_at DATETIME NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_expires_at ON login_failures (expires_at);
CREATE TABLE IF NOT EXISTS service_keys (
    name   TEXT PRIMARY KEY NOT NULL,
    secret BLOB NOT NULL
);
