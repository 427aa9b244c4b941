package auth_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"spaceauth/auth"
	"spaceauth/db/enginetest"
	"spaceauth/db/postgres/pgtest"
)

// testParams make hashing cheap where it is not what a test is about.
var testParams = auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

const strongPassword = "correct horse battery staple"

// newTestService is the domain over a real SQLite file in a temp directory.
// It also returns the database for raw SQL, written with $N placeholders,
// which both engines read.
func newTestService(t testing.TB, configure ...func(*auth.Config)) (*auth.Service, *sql.DB) {
	t.Helper()
	database := enginetest.Open(t)
	cfg := auth.DefaultConfig()
	cfg.EqualizeFailures = false
	cfg.Now = func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	cfg.Argon2 = testParams
	for _, c := range configure {
		c(&cfg)
	}
	return auth.New(slog.New(slog.DiscardHandler), database.Store, cfg), database.SQL
}

// register creates an account with strongPassword.
func register(t testing.TB, s *auth.Service, email string) auth.User {
	t.Helper()
	u, err := s.Register(t.Context(), auth.NewAccount{Email: email, Password: new(strongPassword)}, auth.Actor{})
	require.NoError(t, err)
	return u
}

// logIn tries a login from network.
func logIn(s *auth.Service, network, email, password string) error {
	ctx := auth.WithClientNetwork(context.Background(), network)
	_, err := s.LogIn(ctx, auth.Login{Email: email, Password: password}, auth.Actor{})
	return err
}

// codeOf is the Code of err, or "" for nil.
func codeOf(err error) auth.Code {
	var e *auth.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return auth.CodeInternal
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, time.Millisecond)
}

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
