package auth

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"
)

// SeedPassword is the password of every seeded user.
const SeedPassword = "benchmark passphrase"

// Seed adds n users, seed<i>@bench.example with SeedPassword, and a session
// for each, writing each session's bearer token to tokens, one per line. For
// benchmarks and demos: the hash is computed once and shared, so a million
// users take seconds, not hours.
func Seed(ctx context.Context, store Store, n int, tokens io.Writer) error {
	hash := newHasher(DefaultArgon2, 1, 0).encode(SeedPassword)
	out := bufio.NewWriter(tokens)
	now := time.Now().UTC()
	const batch = 10000
	for start := 0; start < n; start += batch {
		err := store.InTx(ctx, func(q Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				u, err := q.CreateUser(ctx, CreateUserParams{
					ID: NewID(now), Email: fmt.Sprintf("seed%d@bench.example", i), PasswordHash: hash, Role: "user",
					CreatedAt: now, UpdatedAt: now,
				})
				if err != nil {
					return err
				}
				token, tokenHash := NewToken()
				if err := q.CreateSession(ctx, CreateSessionParams{
					ID: NewID(now), UserID: u.ID, TokenHash: tokenHash, CreatedAt: now, LastUsedAt: now,
					ExpiresAt: now.Add(DefaultConfig().SessionTTL), UserAgent: "seed",
				}); err != nil {
					return err
				}
				fmt.Fprintln(out, token)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed users %d-%d: %w", start, start+batch, err)
		}
	}
	return out.Flush()
}
