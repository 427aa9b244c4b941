-- name: CreateAuditEvent :exec
INSERT INTO audit_events (event, user_id, actor_id, ip, user_agent, created_at)
VALUES (sqlc.arg(event), sqlc.arg(user_id), sqlc.arg(actor_id), sqlc.arg(ip), sqlc.arg(user_agent), sqlc.arg(created_at));

-- ListAuditEvents pages newest first by id; before = 0 starts at the newest.
-- name: ListAuditEvents :many
SELECT * FROM audit_events
WHERE (CAST(sqlc.arg(before) AS BIGINT) = 0 OR id < sqlc.arg(before))
  AND (CAST(sqlc.arg(user_id) AS TEXT) = '' OR user_id = sqlc.arg(user_id))
  AND (CAST(sqlc.arg(event) AS TEXT) = '' OR event = sqlc.arg(event))
ORDER BY id DESC
LIMIT CAST(sqlc.arg('limit') AS BIGINT);

-- name: DeleteAuditEventsBefore :execrows
DELETE FROM audit_events WHERE created_at < sqlc.arg(created_at);
