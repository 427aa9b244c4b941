-- name: CreateAuditEvent :exec
INSERT INTO audit_events (event, user_id, actor_id, ip, user_agent, created_at)
VALUES (?, ?, ?, ?, ?, ?);

-- ListAuditEvents pages newest first by id; before = 0 starts at the newest.
-- name: ListAuditEvents :many
SELECT * FROM audit_events
WHERE (CAST(sqlc.arg(before) AS INTEGER) = 0 OR id < sqlc.arg(before))
  AND (CAST(sqlc.arg(user_id) AS TEXT) = '' OR user_id = sqlc.arg(user_id))
  AND (CAST(sqlc.arg(event) AS TEXT) = '' OR event = sqlc.arg(event))
ORDER BY id DESC
LIMIT sqlc.arg(limit);

-- name: DeleteAuditEventsBefore :execrows
DELETE FROM audit_events WHERE created_at < ?;
