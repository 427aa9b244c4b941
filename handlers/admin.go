package handlers

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/julienschmidt/httprouter"

	"spaceauth/db"
)

// Audit events of administrative actions; actor_id names the admin.
const (
	eventAdminUserCreate     = "admin_user_create"
	eventAdminUserUpdate     = "admin_user_update"
	eventAdminUserDelete     = "admin_user_delete"
	eventAdminSessionsRevoke = "admin_sessions_revoke"
)

const (
	defaultPageSize = 50
	maxPageSize     = 200
)

var errNoSuchUser = newError(codeNotFound, "no such user")

// adminOnly runs h for an authenticated admin; others get 403.
func (s *server) adminOnly(h authedFunc) http.HandlerFunc {
	return s.authed(func(w http.ResponseWriter, r *http.Request, p principal) error {
		if p.user.Role != "admin" {
			return newError(codeForbidden, "this needs the admin role")
		}
		return h(w, r, p)
	})
}

// userChanges are the fields an admin may change; nil means unchanged.
type userChanges struct {
	Name     *string `json:"name"`
	Email    *string `json:"email"`
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
}

// changeUser applies c to the user with id. Disabling a user or setting its
// password ends all its sessions; the last enabled admin cannot lose that.
func (s *server) changeUser(ctx context.Context, id string, c userChanges, by actor) (db.User, error) {
	current, err := s.store.Read.GetUserByID(ctx, id)
	if db.IsNotFound(err) {
		return db.User{}, errNoSuchUser
	}
	if err != nil {
		return db.User{}, err
	}
	var p problems
	if c.Name != nil {
		*c.Name = normalizeName(*c.Name)
		p.check("name", nameProblem(*c.Name))
	}
	if c.Email != nil {
		*c.Email = NormalizeEmail(*c.Email)
		p.check("email", emailProblem(*c.Email))
		current.Email = *c.Email
	}
	if c.Role != nil {
		p.check("role", roleProblem(*c.Role))
	}
	if c.Password != nil {
		*c.Password = normalizePassword(*c.Password)
		p.check("password", passwordProblem(*c.Password, current.Email, s.cfg.PasswordMinLength))
	}
	if err := p.err(); err != nil {
		return db.User{}, err
	}
	hash := ""
	if c.Password != nil {
		if hash, err = s.hasher.hash(ctx, *c.Password); err != nil {
			return db.User{}, err
		}
	}
	var updated db.User
	err = s.store.Tx(ctx, func(q *db.Queries) error {
		// Re-read inside the write transaction: nothing can change it now.
		before, err := q.GetUserByID(ctx, id)
		if db.IsNotFound(err) {
			return errNoSuchUser
		}
		if err != nil {
			return err
		}
		after := before
		if c.Name != nil {
			after.Name = *c.Name
		}
		if c.Email != nil {
			after.Email = *c.Email
		}
		if c.Role != nil {
			after.Role = *c.Role
		}
		if c.Disabled != nil {
			after.Disabled = *c.Disabled
		}
		if after.Role != "admin" || after.Disabled {
			if err := refuseLastAdmin(ctx, q, before); err != nil {
				return err
			}
		}
		now := s.now()
		updated, err = q.UpdateUser(ctx, db.UpdateUserParams{
			Email: after.Email, Name: after.Name, Role: after.Role, Disabled: after.Disabled, UpdatedAt: now, ID: id,
		})
		if db.IsUniqueViolation(err) {
			return errEmailTaken
		}
		if err != nil {
			return err
		}
		if hash != "" {
			if err := q.UpdateUserPasswordHash(ctx, db.UpdateUserPasswordHashParams{PasswordHash: hash, UpdatedAt: now, ID: id}); err != nil {
				return err
			}
		}
		if hash != "" || (after.Disabled && !before.Disabled) {
			if err := q.DeleteUserSessions(ctx, id); err != nil {
				return err
			}
		}
		return s.audit(ctx, q, by, eventAdminUserUpdate, id)
	})
	return updated, err
}

// deleteUser removes a user and its sessions, unless it is the last admin.
func (s *server) deleteUser(ctx context.Context, id string, by actor) error {
	return s.store.Tx(ctx, func(q *db.Queries) error {
		u, err := q.GetUserByID(ctx, id)
		if db.IsNotFound(err) {
			return errNoSuchUser
		}
		if err != nil {
			return err
		}
		if err := refuseLastAdmin(ctx, q, u); err != nil {
			return err
		}
		if _, err := q.DeleteUser(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, q, by, eventAdminUserDelete, id)
	})
}

// handleAdminListUsers serves GET /admin/users.
func (s *server) handleAdminListUsers(w http.ResponseWriter, r *http.Request, p principal) error {
	query, limit, after, err := pageRequest(r)
	if err != nil {
		return err
	}
	search := query.Get("q")
	if len(search) > maxEmailLength {
		return newError(codeBadRequest, "q must be at most %d characters", maxEmailLength)
	}
	rows, err := s.store.Read.ListUsers(r.Context(), db.ListUsersParams{After: after, Search: search, Limit: int64(limit + 1)})
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
func (s *server) handleAdminCreateUser(w http.ResponseWriter, r *http.Request, p principal) error {
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
	u, err := s.createUser(r.Context(), newAccount{Email: deref(req.Email), Password: req.Password, Name: deref(req.Name), Role: role},
		s.requestActor(r, p.user.ID), eventAdminUserCreate)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newUser(u))
	return nil
}

// handleAdminGetUser serves GET /admin/users/:id.
func (s *server) handleAdminGetUser(w http.ResponseWriter, r *http.Request, p principal) error {
	u, err := s.store.Read.GetUserByID(r.Context(), httprouter.ParamsFromContext(r.Context()).ByName("id"))
	if db.IsNotFound(err) {
		return errNoSuchUser
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newUser(u))
	return nil
}

// handleAdminUpdateUser serves PATCH /admin/users/:id.
func (s *server) handleAdminUpdateUser(w http.ResponseWriter, r *http.Request, p principal) error {
	req, err := decode[userChanges](w, r)
	if err != nil {
		return err
	}
	id := httprouter.ParamsFromContext(r.Context()).ByName("id")
	u, err := s.changeUser(r.Context(), id, req, s.requestActor(r, p.user.ID))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newUser(u))
	return nil
}

// handleAdminDeleteUser serves DELETE /admin/users/:id.
func (s *server) handleAdminDeleteUser(w http.ResponseWriter, r *http.Request, p principal) error {
	id := httprouter.ParamsFromContext(r.Context()).ByName("id")
	if err := s.deleteUser(r.Context(), id, s.requestActor(r, p.user.ID)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleAdminRevokeSessions serves DELETE /admin/users/:id/sessions.
func (s *server) handleAdminRevokeSessions(w http.ResponseWriter, r *http.Request, p principal) error {
	ctx := r.Context()
	id := httprouter.ParamsFromContext(ctx).ByName("id")
	err := s.store.Tx(ctx, func(q *db.Queries) error {
		if _, err := q.GetUserByID(ctx, id); db.IsNotFound(err) {
			return errNoSuchUser
		} else if err != nil {
			return err
		}
		if err := q.DeleteUserSessions(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, q, s.requestActor(r, p.user.ID), eventAdminSessionsRevoke, id)
	})
	if err != nil {
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
func (s *server) handleAdminListAudit(w http.ResponseWriter, r *http.Request, p principal) error {
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
	rows, err := s.store.Read.ListAuditEvents(r.Context(), db.ListAuditEventsParams{
		Before: before, UserID: query.Get("user_id"), Event: query.Get("event"), Limit: int64(limit + 1),
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
