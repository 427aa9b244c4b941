package handlers

import (
	"net/http"
	"time"
)

// handleHealthz serves GET /healthz: the process is up; no database work.
func (s *server) handleHealthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// handleReadyz serves GET /readyz: the database answers and takes writes.
func (s *server) handleReadyz(w http.ResponseWriter, r *http.Request) error {
	version, err := s.auth.Ready(r.Context())
	if err != nil {
		return err
	}
	body := map[string]any{"status": "ready", "schema_version": version}
	if s.cfg.Backups != nil {
		var last *time.Time
		if at, ok := s.cfg.Backups.LastAt(); ok {
			last = &at
		}
		body["last_backup_at"] = last
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}
