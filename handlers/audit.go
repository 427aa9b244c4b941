package handlers

import (
	"net/http"

	"spaceauth/auth"
)

// requestActor is who makes request r: actorID names an acting admin.
func (s *server) requestActor(r *http.Request, actorID string) auth.Actor {
	return auth.Actor{ID: actorID, IP: s.clientIP(r), UserAgent: r.UserAgent()}
}
