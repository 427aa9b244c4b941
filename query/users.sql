-- name: CreateUser :one
INSERT INTO users (id, email, name, password_hash, role, disabled, created_at, updated_at)
VALUES (sqlc.arg(id), sqlc.arg(email), sqlc.arg(name), sqlc.arg(password_hash), sqlc.arg(role), sqlc.arg(disabled), sqlc.arg(created_at), sqlc.arg(updated_at))
RETURNING *;

-- name: GetUserByID :one
SELECT * FROM users WHERE id = sqlc.arg(id);

-- name: GetUserByEmail :one
SELECT * FROM users WHERE email = sqlc.arg(email);

-- name: UpdateUser :one
UPDATE users
SET email = sqlc.arg(email), name = sqlc.arg(name), role = sqlc.arg(role), disabled = sqlc.arg(disabled), updated_at = sqlc.arg(updated_at)
WHERE id = sqlc.arg(id)
RETURNING *;

-- UpdateUserProfile writes only what users may change about themselves, so
-- a profile edit can never carry back a role or disabled flag read earlier.
-- name: UpdateUserProfile :one
UPDATE users SET email = sqlc.arg(email), name = sqlc.arg(name), updated_at = sqlc.arg(updated_at) WHERE id = sqlc.arg(id)
RETURNING *;

-- name: UpdateUserPasswordHash :exec
UPDATE users SET password_hash = sqlc.arg(password_hash), updated_at = sqlc.arg(updated_at) WHERE id = sqlc.arg(id);

-- RehashUserPassword upgrades the stored hash's parameters; the password
-- itself did not change, so updated_at stays.
-- name: RehashUserPassword :exec
UPDATE users SET password_hash = sqlc.arg(password_hash) WHERE id = sqlc.arg(id);

-- name: RecordUserLogin :exec
UPDATE users SET last_login_at = sqlc.arg(last_login_at) WHERE id = sqlc.arg(id);

-- name: DeleteUser :execrows
DELETE FROM users WHERE id = sqlc.arg(id);

-- name: CountEnabledAdmins :one
SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled;
