package handlers

import (
	"net/http"

	"github.com/julienschmidt/httprouter"
)

// routes lists the whole API surface. Routes that may hash a password go
// through s.hashing, which sheds them when the hashing queue is full.
func (s *server) routes(r *httprouter.Router) {
	r.Handler(http.MethodGet, "/healthz", s.handle(s.handleHealthz))
	r.Handler(http.MethodGet, "/readyz", s.handle(s.handleReadyz))

	r.Handler(http.MethodPost, "/auth/register", s.hashing(s.handle(s.handleRegister)))
	r.Handler(http.MethodPost, "/auth/login", s.hashing(s.handle(s.handleLogin)))
	r.Handler(http.MethodPost, "/auth/logout", s.authed(s.handleLogout))

	r.Handler(http.MethodGet, "/users/me", s.authed(s.handleGetMe))
	r.Handler(http.MethodPatch, "/users/me", s.hashing(s.authed(s.handleUpdateMe)))
	r.Handler(http.MethodDelete, "/users/me", s.hashing(s.authed(s.handleDeleteMe)))
	r.Handler(http.MethodPut, "/users/me/password", s.hashing(s.authed(s.handleChangePassword)))
	r.Handler(http.MethodGet, "/users/me/sessions", s.authed(s.handleListSessions))
	r.Handler(http.MethodDelete, "/users/me/sessions", s.authed(s.handleRevokeOtherSessions))
	r.Handler(http.MethodDelete, "/users/me/sessions/:id", s.authed(s.handleRevokeSession))

	r.Handler(http.MethodGet, "/admin/users", s.adminOnly(s.handleAdminListUsers))
	r.Handler(http.MethodPost, "/admin/users", s.hashing(s.adminOnly(s.handleAdminCreateUser)))
	r.Handler(http.MethodGet, "/admin/users/:id", s.adminOnly(s.handleAdminGetUser))
	r.Handler(http.MethodPatch, "/admin/users/:id", s.hashing(s.adminOnly(s.handleAdminUpdateUser)))
	r.Handler(http.MethodDelete, "/admin/users/:id", s.adminOnly(s.handleAdminDeleteUser))
	r.Handler(http.MethodDelete, "/admin/users/:id/sessions", s.adminOnly(s.handleAdminRevokeSessions))
	r.Handler(http.MethodGet, "/admin/audit", s.adminOnly(s.handleAdminListAudit))
	r.Handler(http.MethodPost, "/admin/backups", s.adminOnly(s.handleAdminCreateBackup))
	r.Handler(http.MethodGet, "/admin/backups", s.adminOnly(s.handleAdminListBackups))
	r.Handler(http.MethodGet, "/admin/backups/:name", s.adminOnly(s.handleAdminDownloadBackup))
}
