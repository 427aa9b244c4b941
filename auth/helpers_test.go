package auth

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"spaceauth/db"
)

// testParams make hashing cheap where it is not what a test is about.
var testParams = Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

const strongPassword = "correct horse battery staple"

// newTestService is the domain over a real SQLite file in a temp directory.
func newTestService(t testing.TB, configure ...func(*Config)) *Service {
	t.Helper()
	store, err := db.Open(t.Context(), filepath.Join(t.TempDir(), "auth.db"))
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	cfg := DefaultConfig()
	cfg.EqualizeFailures = false
	cfg.Now = func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	cfg.Argon2 = testParams
	for _, c := range configure {
		c(&cfg)
	}
	return New(slog.New(slog.DiscardHandler), store, cfg)
}

// register creates an account with strongPassword.
func register(t testing.TB, s *Service, email string) User {
	t.Helper()
	u, err := s.Register(t.Context(), NewAccount{Email: email, Password: new(strongPassword)}, Actor{})
	require.NoError(t, err)
	return u
}

// logIn tries a login from network.
func logIn(s *Service, network, email, password string) error {
	ctx := WithClientNetwork(context.Background(), network)
	_, err := s.LogIn(ctx, Login{Email: email, Password: password}, Actor{})
	return err
}

// codeOf is the Code of err, or "" for nil.
func codeOf(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := err.(*Error); ok {
		return e.Code
	}
	return CodeInternal
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, time.Millisecond)
}
