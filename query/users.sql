-- name: CreateUser :one
INSERT INTO users (id, email, name, password_hash, role, disabled, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: GetUserByID :one
SELECT * FROM users WHERE id = ?;

-- name: GetUserByEmail :one
SELECT * FROM users WHERE email = ?;

-- name: UpdateUser :one
UPDATE users
SET email = ?, name = ?, role = ?, disabled = ?, updated_at = ?
WHERE id = ?
RETURNING *;

-- UpdateUserProfile writes only what users may change about themselves, so
-- a profile edit can never carry back a role or disabled flag read earlier.
-- name: UpdateUserProfile :one
UPDATE users SET email = ?, name = ?, updated_at = ? WHERE id = ?
RETURNING *;

-- name: UpdateUserPasswordHash :exec
UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?;

-- RehashUserPassword upgrades the stored hash's parameters; the password
-- itself did not change, so updated_at stays.
-- name: RehashUserPassword :exec
UPDATE users SET password_hash = ? WHERE id = ?;

-- name: RecordUserLogin :exec
UPDATE users SET last_login_at = ? WHERE id = ?;

-- name: DeleteUser :execrows
DELETE FROM users WHERE id = ?;

-- name: CountEnabledAdmins :one
SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled;

-- ListUsers pages by id, which is time-ordered, so rows inserted between
-- pages never shift a page. instr, unlike LIKE, gives % and _ no meaning.
-- name: ListUsers :many
SELECT * FROM users
WHERE id > sqlc.arg(after)
  AND (CAST(sqlc.arg(search) AS TEXT) = ''
       OR instr(email, lower(sqlc.arg(search))) > 0
       OR instr(lower(name), lower(sqlc.arg(search))) > 0)
ORDER BY id
LIMIT sqlc.arg(limit);
