-- Queries of spaceauth copy, which moves every row to an empty database of
-- either engine, keeping ids, hashes and times.

-- name: CountRows :one
SELECT CAST((SELECT count(*) FROM users) + (SELECT count(*) FROM sessions) + (SELECT count(*) FROM audit_events) AS BIGINT) AS total;

-- name: ListSessionsAfter :many
SELECT * FROM sessions WHERE id > sqlc.arg(after) ORDER BY id LIMIT CAST(sqlc.arg('limit') AS BIGINT);

-- name: ListAuditEventsAfter :many
SELECT * FROM audit_events WHERE id > sqlc.arg(after) ORDER BY id LIMIT CAST(sqlc.arg('limit') AS BIGINT);

-- name: CopyUser :exec
INSERT INTO users (id, email, name, password_hash, role, disabled, created_at, updated_at, last_login_at)
VALUES (sqlc.arg(id), sqlc.arg(email), sqlc.arg(name), sqlc.arg(password_hash), sqlc.arg(role), sqlc.arg(disabled),
        sqlc.arg(created_at), sqlc.arg(updated_at), sqlc.arg(last_login_at));

-- name: CopyAuditEvent :exec
INSERT INTO audit_events (id, event, user_id, actor_id, ip, user_agent, created_at)
VALUES (sqlc.arg(id), sqlc.arg(event), sqlc.arg(user_id), sqlc.arg(actor_id), sqlc.arg(ip), sqlc.arg(user_agent), sqlc.arg(created_at));
