package handlers

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/julienschmidt/httprouter"

	"spaceauth/auth"
)

const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// adminOnly runs h for an authenticated admin; others get 403.
func (s *server) adminOnly(h authedFunc) http.HandlerFunc {
	return s.authed(func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		if p.User.Role != "admin" {
			return newError(codeForbidden, "this needs the admin role")
		}
		return h(w, r, p)
	})
}

// handleAdminListUsers serves GET /admin/users.
func (s *server) handleAdminListUsers(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	query, limit, after, err := pageRequest(r)
	if err != nil {
		return err
	}
	search := query.Get("q")
	if len(search) > auth.MaxEmailLength {
		return newError(codeBadRequest, "q must be at most %d characters", auth.MaxEmailLength)
	}
	rows, err := s.auth.ListUsers(r.Context(), search, after, limit+1)
	if err != nil {
		return err
	}
	var next *string
	if len(rows) > limit {
		rows = rows[:limit]
		next = new(encodeCursor(rows[limit-1].ID))
	}
	users := make([]user, len(rows))
	for i, u := range rows {
		users[i] = newUser(u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users, "next_cursor": next})
	return nil
}

// handleAdminCreateUser serves POST /admin/users.
func (s *server) handleAdminCreateUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	req, err := decode[struct {
		Email    *string `json:"email"`
		Password *string `json:"password"`
		Name     *string `json:"name"`
		Role     *string `json:"role"`
	}](w, r)
	if err != nil {
		return err
	}
	role := "user"
	if req.Role != nil {
		role = *req.Role
	}
	u, err := s.auth.CreateUser(r.Context(), auth.NewAccount{Email: deref(req.Email), Password: req.Password, Name: deref(req.Name), Role: role},
		s.requestActor(r, p.User.ID))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newUser(u))
	return nil
}

// handleAdminGetUser serves GET /admin/users/:id.
func (s *server) handleAdminGetUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	u, err := s.auth.UserByID(r.Context(), httprouter.ParamsFromContext(r.Context()).ByName("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newUser(u))
	return nil
}

// handleAdminUpdateUser serves PATCH /admin/users/:id.
func (s *server) handleAdminUpdateUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	req, err := decode[struct {
		Name     *string `json:"name"`
		Email    *string `json:"email"`
		Role     *string `json:"role"`
		Disabled *bool   `json:"disabled"`
		Password *string `json:"password"`
	}](w, r)
	if err != nil {
		return err
	}
	id := httprouter.ParamsFromContext(r.Context()).ByName("id")
	u, err := s.auth.ChangeUser(r.Context(), id, auth.UserChanges(req), s.requestActor(r, p.User.ID))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newUser(u))
	return nil
}

// handleAdminDeleteUser serves DELETE /admin/users/:id.
func (s *server) handleAdminDeleteUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id := httprouter.ParamsFromContext(r.Context()).ByName("id")
	if err := s.auth.DeleteUser(r.Context(), id, s.requestActor(r, p.User.ID)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleAdminRevokeSessions serves DELETE /admin/users/:id/sessions.
func (s *server) handleAdminRevokeSessions(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id := httprouter.ParamsFromContext(r.Context()).ByName("id")
	if err := s.auth.RevokeUserSessions(r.Context(), id, s.requestActor(r, p.User.ID)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type auditEvent struct {
	ID        int64     `json:"id"`
	Event     string    `json:"event"`
	UserID    *string   `json:"user_id"`
	ActorID   *string   `json:"actor_id"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	CreatedAt time.Time `json:"created_at"`
}

// handleAdminListAudit serves GET /admin/audit.
func (s *server) handleAdminListAudit(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	query, limit, cursor, err := pageRequest(r)
	if err != nil {
		return err
	}
	var before int64
	if cursor != "" {
		if before, err = strconv.ParseInt(cursor, 10, 64); err != nil || before <= 0 {
			return errBadCursor
		}
	}
	if event := query.Get("event"); event != "" && !slices.Contains(auth.Events, event) {
		return newError(codeBadRequest, "event must be one of %s", strings.Join(auth.Events, ", "))
	}
	rows, err := s.auth.AuditEvents(r.Context(), auth.AuditFilter{
		Before: before, UserID: query.Get("user_id"), Event: query.Get("event"), Limit: limit + 1,
	})
	if err != nil {
		return err
	}
	var next *string
	if len(rows) > limit {
		rows = rows[:limit]
		next = new(encodeCursor(strconv.FormatInt(rows[limit-1].ID, 10)))
	}
	events := make([]auditEvent, len(rows))
	for i, e := range rows {
		events[i] = auditEvent{ID: e.ID, Event: e.Event, IP: e.Ip, UserAgent: e.UserAgent, CreatedAt: e.CreatedAt.UTC()}
		if e.UserID.Valid {
			events[i].UserID = new(e.UserID.String)
		}
		if e.ActorID.Valid {
			events[i].ActorID = new(e.ActorID.String)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": events, "next_cursor": next})
	return nil
}

var errBadCursor = newError(codeBadRequest, "cursor is not one this server gave out")

// pageRequest reads a list request's query: its limit and the key in its cursor.
func pageRequest(r *http.Request) (query url.Values, limit int, cursorKey string, err error) {
	query, err = url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, 0, "", newError(codeBadRequest, "malformed query string")
	}
	limit = defaultPageSize
	if raw := query.Get("limit"); raw != "" {
		limit, err = strconv.Atoi(raw)
		if err != nil || limit < 1 || limit > maxPageSize {
			return nil, 0, "", newError(codeBadRequest, "limit must be a whole number from 1 to %d", maxPageSize)
		}
	}
	cursorKey, err = decodeCursor(query.Get("cursor"))
	return query, limit, cursorKey, err
}

// Cursors are opaque to clients: the key of the last row, base64url-encoded.
func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeCursor(cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	key, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(key) == 0 || len(key) > 64 {
		return "", errBadCursor
	}
	return string(key), nil
}
