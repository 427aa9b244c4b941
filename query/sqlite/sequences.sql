-- ContinueAuditIDs makes new audit events follow copied ones. SQLite's
-- rowid already continues after the largest id: nothing to do.
-- name: ContinueAuditIDs :exec
SELECT 1;
