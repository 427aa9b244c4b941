package handlers

import (
	"net/http"
	"strings"

	"spaceauth/auth"
)

// bearerTokenHash extracts the token from an Authorization header and
// returns its hash.
func bearerTokenHash(r *http.Request) ([]byte, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, false
	}
	return auth.ParseToken(strings.TrimSpace(token))
}
