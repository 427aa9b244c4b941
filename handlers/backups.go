package handlers

import (
	"errors"
	"io/fs"
	"net/http"
	"time"

	"github.com/julienschmidt/httprouter"

	"spaceauth/auth"
)

// backupsOff is the answer while snapshots are off.
func (s *server) backupsOff() error { return newError(codeConflict, "%s", s.cfg.BackupsOff) }

// handleAdminCreateBackup serves POST /admin/backups.
func (s *server) handleAdminCreateBackup(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if s.cfg.Backups == nil {
		return s.backupsOff()
	}
	info, err := s.cfg.Backups.SnapshotNow(r.Context(), "requested by "+p.User.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, info)
	return nil
}

// handleAdminListBackups serves GET /admin/backups.
func (s *server) handleAdminListBackups(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if s.cfg.Backups == nil {
		return s.backupsOff()
	}
	list, err := s.cfg.Backups.List()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"backups": append([]Snapshot{}, list...)})
	return nil
}

// handleAdminDownloadBackup serves GET /admin/backups/:name.
func (s *server) handleAdminDownloadBackup(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if s.cfg.Backups == nil {
		return s.backupsOff()
	}
	name := httprouter.ParamsFromContext(r.Context()).ByName("name")
	f, info, err := s.cfg.Backups.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return newError(codeNotFound, "no such backup")
	}
	if err != nil {
		return err
	}
	defer f.Close()
	// The server's write timeout suits API answers, not a file of many
	// megabytes on a slow link: allow 30 s plus 100 KiB/s.
	deadline := time.Now().Add(30*time.Second + time.Duration(info.Size()/(100<<10))*time.Second)
	if err := http.NewResponseController(w).SetWriteDeadline(deadline); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.sqlite3")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	http.ServeContent(w, r, name, info.ModTime(), f)
	return nil
}
