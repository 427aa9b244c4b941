-- The login throttle's records (auth/throttle.go), read and written in one
-- transaction per password check.

-- name: GetLoginFailure :one
SELECT * FROM login_failures WHERE key = sqlc.arg(key);

-- name: PutLoginFailure :exec
INSERT INTO login_failures (key, score, at, expires_at)
VALUES (sqlc.arg(key), sqlc.arg(score), sqlc.arg(at), sqlc.arg(expires_at))
ON CONFLICT (key) DO UPDATE SET score = excluded.score, at = excluded.at, expires_at = excluded.expires_at;

-- name: DeleteLoginFailure :exec
DELETE FROM login_failures WHERE key = sqlc.arg(key);

-- name: DeleteExpiredLoginFailures :execrows
DELETE FROM login_failures WHERE expires_at <= sqlc.arg(now);

-- CreateServiceKey stores secret under name unless one is there already.
-- name: CreateServiceKey :exec
INSERT INTO service_keys (name, secret) VALUES (sqlc.arg(name), sqlc.arg(secret))
ON CONFLICT (name) DO NOTHING;

-- name: GetServiceKey :one
SELECT secret FROM service_keys WHERE name = sqlc.arg(name);
