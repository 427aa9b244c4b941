-- ContinueAuditIDs makes new audit events follow copied ones: ids given
-- explicitly leave the identity sequence behind.
-- name: ContinueAuditIDs :exec
SELECT setval(pg_get_serial_sequence('audit_events', 'id'), COALESCE(max(id), 0) + 1, false) FROM audit_events;
