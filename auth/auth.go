// Package auth is the domain: accounts, sessions, passwords, tokens, the
// login throttle, the audit trail and pruning, with the rules that hold
// whatever the transport. The HTTP layer and the command line call Service.
package auth

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"
)

// Config holds the domain's settings, validated by the caller.
type Config struct {
	SessionTTL         time.Duration
	SessionIdleTimeout time.Duration
	PasswordMinLength  int
	AuditRetention     time.Duration

	// HashSlots hashes run at once (default: the CPU count) and HashQueue
	// more may wait (default: 32 per slot, about a second at ~30 ms a
	// hash); beyond that, callers get CodeUnavailable. Waiting costs no
	// hash memory.
	HashSlots int
	HashQueue int
	// Argon2 are the costs of new hashes (default: DefaultArgon2).
	Argon2 Argon2Params
	// EqualizeFailures pads failed password checks to legacyFloor, so
	// un-migrated bcrypt accounts cannot be told apart by timing.
	EqualizeFailures bool

	// Now is the clock; tests replace it.
	Now func() time.Time
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		SessionTTL:         720 * time.Hour,
		SessionIdleTimeout: 168 * time.Hour,
		PasswordMinLength:  8,
		AuditRetention:     90 * 24 * time.Hour,
		EqualizeFailures:   true,
	}
}

// Service runs the domain's operations over a store.
type Service struct {
	logger   *slog.Logger
	store    Store
	cfg      Config
	now      func() time.Time
	hasher   *hasher
	throttle *loginThrottle
	touches  *touches
}

// New returns a Service; zero settings take their defaults.
func New(logger *slog.Logger, store Store, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HashSlots <= 0 {
		cfg.HashSlots = runtime.GOMAXPROCS(0)
	}
	if cfg.HashQueue <= 0 {
		cfg.HashQueue = 32 * cfg.HashSlots
	}
	if cfg.Argon2 == (Argon2Params{}) {
		cfg.Argon2 = DefaultArgon2
	}
	return &Service{
		logger: logger,
		store:  store,
		cfg:    cfg,
		// Milliseconds, as SQLite stores times: one instant reads the same
		// in every response and on both engines.
		now:      func() time.Time { return cfg.Now().UTC().Truncate(time.Millisecond) },
		hasher:   newHasher(cfg.Argon2, cfg.HashSlots, cfg.HashQueue),
		throttle: newLoginThrottle(store),
		touches:  newTouches(store),
	}
}

// Config returns the settings in effect, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// Ready reports whether the store answers and accepts writes.
func (s *Service) Ready(ctx context.Context) (schemaVersion int, err error) {
	if err := s.store.Ping(ctx); err != nil {
		s.logger.Error("readiness check failed", "err", err)
		return 0, RetryLater(CodeUnavailable, 5*time.Second, "the database is not answering")
	}
	if s.store.WritesRefused() {
		return 0, ErrWritesRefused
	}
	return s.store.SchemaVersion(), nil
}

// Run does the background work until ctx ends: it writes batched session
// uses every touchFlushInterval, even on a quiet server, and prunes dead
// sessions and old audit events at start and every pruneInterval. When ctx
// ends it writes the uses still pending and returns: stop serving first,
// and close the store only after Run has returned. Failures are logged and
// retried at the next tick.
func (s *Service) Run(ctx context.Context, pruneInterval time.Duration) {
	flushes := time.NewTicker(touchFlushInterval)
	defer flushes.Stop()
	prunes := time.NewTicker(pruneInterval)
	defer prunes.Stop()
	s.logPrune(ctx)
	for {
		select {
		case <-ctx.Done():
			if err := s.WriteSessionUses(context.WithoutCancel(ctx)); err != nil {
				s.logger.Error("session uses could not be written at shutdown; those sessions may be pruned as idle early", "err", err)
			}
			return
		case <-flushes.C:
			if err := s.WriteSessionUses(ctx); err != nil && ctx.Err() == nil {
				s.logger.Warn("could not record session use; will retry", "err", err)
			}
		case <-prunes.C:
			s.logPrune(ctx)
		}
	}
}

// WriteSessionUses writes the session uses batched in memory.
func (s *Service) WriteSessionUses(ctx context.Context) error { return s.touches.flush(ctx) }

func (s *Service) logPrune(ctx context.Context) {
	sessions, events, err := s.Prune(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		s.logger.Warn("pruning failed", "err", err)
	case sessions+events > 0:
		s.logger.Info("pruned", "sessions", sessions, "audit_events", events)
	}
}

// Prune writes the pending session uses, so the idle timeout is judged on
// current times, then deletes sessions past their lifetime or idle timeout,
// audit events older than the retention period and decayed throttle records.
func (s *Service) Prune(ctx context.Context) (sessions, events int64, err error) {
	if err := s.touches.flush(ctx); err != nil {
		return 0, 0, fmt.Errorf("write session uses before pruning: %w", err)
	}
	at := s.now()
	err = s.store.InTx(ctx, func(q Tx) error {
		if sessions, err = q.DeleteDeadSessions(ctx, DeleteDeadSessionsParams{Now: at, IdleSince: at.Add(-s.cfg.SessionIdleTimeout)}); err != nil {
			return err
		}
		if events, err = q.DeleteAuditEventsBefore(ctx, at.Add(-s.cfg.AuditRetention)); err != nil {
			return err
		}
		_, err = q.DeleteExpiredLoginFailures(ctx, at)
		return err
	})
	return sessions, events, err
}

type clientNetworkKey struct{}

// WithClientNetwork tags ctx with the caller's network, the unit of
// fairness for hashing and of the login throttle for unknown clients.
func WithClientNetwork(ctx context.Context, network string) context.Context {
	return context.WithValue(ctx, clientNetworkKey{}, network)
}

// ClientNetworkOf returns the network WithClientNetwork tagged ctx with.
func ClientNetworkOf(ctx context.Context) string {
	network, _ := ctx.Value(clientNetworkKey{}).(string)
	return network
}
