package handlers

import (
	"net/http"

	"github.com/julienschmidt/httprouter"
)

type route struct {
	method, path string
	handler      http.Handler
	api          bool // described in openapi.json; false for the docs pages
}

// routes lists the whole surface.
func (s *server) routes() []route {
	return []route{
		{http.MethodGet, "/healthz", s.handle(s.handleHealthz), true},

		{http.MethodGet, "/readyz", s.handle(s.handleReadyz), true},

		{http.MethodPost, "/auth/register", s.handle(s.handleRegister), true},
		{http.MethodPost, "/auth/login", s.handle(s.handleLogin), true},
		{http.MethodPost, "/auth/logout", s.authed(s.handleLogout), true},

		{http.MethodGet, "/users/me", s.authed(s.handleGetMe), true},
		{http.MethodPatch, "/users/me", s.authed(s.handleUpdateMe), true},
		{http.MethodDelete, "/users/me", s.authed(s.handleDeleteMe), true},
		{http.MethodPut, "/users/me/password", s.authed(s.handleChangePassword), true},
		{http.MethodGet, "/users/me/sessions", s.authed(s.handleListSessions), true},
		{http.MethodDelete, "/users/me/sessions", s.authed(s.handleRevokeOtherSessions), true},
		{http.MethodDelete, "/users/me/sessions/:id", s.authed(s.handleRevokeSession), true},

		{http.MethodGet, "/admin/users", s.adminOnly(s.handleAdminListUsers), true},
		{http.MethodPost, "/admin/users", s.adminOnly(s.handleAdminCreateUser), true},
		{http.MethodGet, "/admin/users/:id", s.adminOnly(s.handleAdminGetUser), true},
		{http.MethodPatch, "/admin/users/:id", s.adminOnly(s.handleAdminUpdateUser), true},
		{http.MethodDelete, "/admin/users/:id", s.adminOnly(s.handleAdminDeleteUser), true},
		{http.MethodDelete, "/admin/users/:id/sessions", s.adminOnly(s.handleAdminRevokeSessions), true},
		{http.MethodGet, "/admin/audit", s.adminOnly(s.handleAdminListAudit), true},
		{http.MethodPost, "/admin/backups", s.adminOnly(s.handleAdminCreateBackup), true},
		{http.MethodGet, "/admin/backups", s.adminOnly(s.handleAdminListBackups), true},
		{http.MethodGet, "/admin/backups/:name", s.adminOnly(s.handleAdminDownloadBackup), true},

		{http.MethodGet, "/openapi.json", s.handle(s.handleOpenAPI), false},
		{http.MethodGet, "/docs", s.handle(docsPage(swaggerPage)), false},
		{http.MethodGet, "/redoc", s.handle(docsPage(redocPage)), false},
		{http.MethodGet, "/docs/assets/:file", s.handle(s.handleDocsAsset), false},
	}
}

// register adds every route, and HEAD wherever GET works (RFC 9110 §9.3.2;
// net/http sends the headers and drops the body).
func (s *server) register(r *httprouter.Router) {
	for _, rt := range s.routes() {
		r.Handler(rt.method, rt.path, rt.handler)
		if rt.method == http.MethodGet {
			r.Handler(http.MethodHead, rt.path, rt.handler)
		}
	}
}
