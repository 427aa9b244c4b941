package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"spaceauth/auth"
	"spaceauth/db"
)

// seededAPI returns an API with n users, each with a session, and their tokens.
func seededAPI(b *testing.B, n int) (*testAPI, []string) {
	b.Helper()
	api := newTestAPI(b)
	api.requireSQLite()
	var tokens []string
	err := api.store.Tx(b.Context(), func(q *db.Queries) error {
		now := api.clock.Now()
		for i := range n {
			u, err := q.CreateUser(b.Context(), db.CreateUserParams{
				ID: auth.NewID(now), Email: fmt.Sprintf("b%d@example.com", i), PasswordHash: "x", Role: "user", CreatedAt: now, UpdatedAt: now,
			})
			if err != nil {
				return err
			}
			token, hash := auth.NewToken()
			tokens = append(tokens, token)
			if err := q.CreateSession(b.Context(), db.CreateSessionParams{
				ID: auth.NewID(now), UserID: u.ID, TokenHash: hash, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(api.auth.Config().SessionTTL),
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return api, tokens
}

// BenchmarkGetMe is the hot path: token check and user lookup through the
// real middleware and router.
func BenchmarkGetMe(b *testing.B) {
	api, tokens := seededAPI(b, 1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := httptest.NewRequest("GET", "/users/me", nil)
		r.Header.Set("Authorization", "Bearer "+tokens[i%len(tokens)])
		w := httptest.NewRecorder()
		api.handler.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code, w.Body.String())
		}
		i++
	}
}

func BenchmarkBearerTokenHash(b *testing.B) {
	token, _ := auth.NewToken()
	r := httptest.NewRequest("GET", "/users/me", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := bearerTokenHash(r); !ok {
			b.Fatal("rejected")
		}
	}
}

func BenchmarkAuthenticateToken(b *testing.B) {
	api, tokens := seededAPI(b, 1000)
	now := api.clock.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, err := api.store.Read.AuthenticateToken(b.Context(), db.AuthenticateTokenParams{TokenHash: auth.HashToken(tokens[i%len(tokens)]), Now: now})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkGetUserByEmail(b *testing.B) {
	api, _ := seededAPI(b, 1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := api.data.GetUserByEmail(b.Context(), fmt.Sprintf("b%d@example.com", i%1000)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkCreateSession(b *testing.B) {
	api, _ := seededAPI(b, 1)
	u, err := api.data.GetUserByEmail(b.Context(), "b0@example.com")
	if err != nil {
		b.Fatal(err)
	}
	now := api.clock.Now()
	b.ReportAllocs()
	for b.Loop() {
		_, hash := auth.NewToken()
		if err := api.store.Write.CreateSession(b.Context(), db.CreateSessionParams{
			ID: auth.NewID(now), UserID: u.ID, TokenHash: hash, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(api.auth.Config().SessionTTL),
		}); err != nil {
			b.Fatal(err)
		}
	}
}
