package handlers

import (
	"net/http"
	"time"

	"github.com/julienschmidt/httprouter"

	"spaceauth/auth"
)

// handleGetMe serves GET /users/me.
func (s *server) handleGetMe(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	writeJSON(w, http.StatusOK, newUser(p.User))
	return nil
}

// handleUpdateMe serves PATCH /users/me.
func (s *server) handleUpdateMe(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	req, err := decode[struct {
		Name            *string `json:"name"`
		Email           *string `json:"email"`
		CurrentPassword *string `json:"current_password"`
	}](w, r)
	if err != nil {
		return err
	}
	u, err := s.auth.UpdateProfile(r.Context(), p, auth.ProfileChanges(req), s.requestActor(r, ""))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newUser(u))
	return nil
}

// handleChangePassword serves PUT /users/me/password.
func (s *server) handleChangePassword(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	req, err := decode[struct {
		CurrentPassword *string `json:"current_password"`
		NewPassword     *string `json:"new_password"`
	}](w, r)
	if err != nil {
		return err
	}
	if err := s.auth.ChangePassword(r.Context(), p, req.CurrentPassword, req.NewPassword, s.requestActor(r, "")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleDeleteMe serves DELETE /users/me.
func (s *server) handleDeleteMe(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	req, err := decode[struct {
		Password *string `json:"password"`
	}](w, r)
	if err != nil {
		return err
	}
	if err := s.auth.DeleteAccount(r.Context(), p, req.Password, s.requestActor(r, "")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type session struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	Current    bool      `json:"current"`
}

// handleListSessions serves GET /users/me/sessions.
func (s *server) handleListSessions(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	sessions, err := s.auth.Sessions(r.Context(), p)
	if err != nil {
		return err
	}
	out := make([]session, len(sessions))
	for i, ss := range sessions {
		out[i] = session(ss)
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
	return nil
}

// handleRevokeSession serves DELETE /users/me/sessions/:id.
func (s *server) handleRevokeSession(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id := httprouter.ParamsFromContext(r.Context()).ByName("id")
	if err := s.auth.RevokeSession(r.Context(), p, id, s.requestActor(r, "")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleRevokeOtherSessions serves DELETE /users/me/sessions.
func (s *server) handleRevokeOtherSessions(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := s.auth.RevokeOtherSessions(r.Context(), p, s.requestActor(r, "")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
