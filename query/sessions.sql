-- name: CreateSession :exec
INSERT INTO sessions (id, user_id, token_hash, created_at, last_used_at, expires_at, user_agent, ip)
VALUES (sqlc.arg(id), sqlc.arg(user_id), sqlc.arg(token_hash), sqlc.arg(created_at), sqlc.arg(last_used_at), sqlc.arg(expires_at), sqlc.arg(user_agent), sqlc.arg(ip));

-- AuthenticateToken finds the session a token opens, with its user, if its
-- lifetime has not passed; the caller checks the idle timeout, because the
-- newest use may still be waiting to be written. It runs on every
-- authenticated request, so it reads only what that needs: no password hash.
-- name: AuthenticateToken :one
SELECT sessions.id AS session_id, sessions.last_used_at,
       users.id, users.email, users.name, users.role, users.disabled,
       users.created_at, users.updated_at, users.last_login_at
FROM sessions JOIN users ON users.id = sessions.user_id
WHERE sessions.token_hash = sqlc.arg(token_hash)
  AND sessions.expires_at > sqlc.arg(now);

-- TouchSession never moves a use back in time: replicas write their own
-- batches, and one may hold an older use of the same session.
-- name: TouchSession :exec
UPDATE sessions SET last_used_at = sqlc.arg(last_used_at) WHERE id = sqlc.arg(id) AND last_used_at < sqlc.arg(last_used_at);

-- name: ListLiveSessions :many
SELECT * FROM sessions
WHERE user_id = sqlc.arg(user_id)
  AND expires_at > sqlc.arg(now)
  AND last_used_at > sqlc.arg(idle_since)
ORDER BY created_at DESC, id;

-- name: DeleteSession :execrows
DELETE FROM sessions WHERE id = sqlc.arg(id) AND user_id = sqlc.arg(user_id);

-- name: DeleteUserSessions :exec
DELETE FROM sessions WHERE user_id = sqlc.arg(user_id);

-- name: DeleteOtherUserSessions :exec
DELETE FROM sessions WHERE user_id = sqlc.arg(user_id) AND id <> sqlc.arg(keep_id);

-- name: DeleteDeadSessions :execrows
DELETE FROM sessions WHERE expires_at <= sqlc.arg(now) OR last_used_at <= sqlc.arg(idle_since);
