// Package handlers is the HTTP API: routing, validation, passwords, tokens,
// throttling and the one mapping from errors to responses.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/julienschmidt/httprouter"

	"spaceauth/backup"
	"spaceauth/db"
)

// Config holds the API's settings, validated by the caller.
type Config struct {
	Version            string
	SessionTTL         time.Duration
	SessionIdleTimeout time.Duration
	PasswordMinLength  int
	IPRateLimit        int // requests per minute per client IP on /auth/*; 0 disables
	TrustedProxyHops   int
	// TrustedProxies are the networks whose X-Forwarded-For is read;
	// default: loopback and private ranges.
	TrustedProxies []netip.Prefix
	CORSOrigins    []string
	AuditRetention time.Duration
	// Backups takes and lists snapshots; nil when BACKUP_DIR is not set.
	Backups *backup.Scheduler

	// HashSlots hashes run at once (default: the CPU count) and HashQueue
	// more requests may wait (default: 32 per slot, about a second at ~30 ms
	// a hash); beyond that, they get 503. Waiting costs no hash memory.
	HashSlots int
	HashQueue int
	// hashParams replaces defaultParams in tests, where speed matters more.
	hashParams argonParams
	// equalizeFailures pads failed password checks to legacyFloor; off in
	// tests, but for the one that checks it.
	equalizeFailures bool

	// Now is the clock; tests replace it.
	Now func() time.Time
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Version:            "dev",
		SessionTTL:         720 * time.Hour,
		SessionIdleTimeout: 168 * time.Hour,
		PasswordMinLength:  8,
		IPRateLimit:        60,
		AuditRetention:     90 * 24 * time.Hour,
		equalizeFailures:   true,
	}
}

// server holds what the handlers share.
type server struct {
	logger   *slog.Logger
	store    *db.Store
	cfg      Config
	now      func() time.Time
	hasher   *hasher
	throttle *loginThrottle
	touches  *touches
	openAPI  []byte // the document, with this build's version
	// untrustedProxy warns once about X-Forwarded-For from outside TrustedProxies.
	untrustedProxy sync.Once
}

// API serves the HTTP API and owns its background work (see Run).
type API struct {
	http.Handler
	s *server
}

// New returns the API.
func New(logger *slog.Logger, store *db.Store, cfg Config) *API {
	s := newServer(logger, store, cfg)
	return &API{Handler: s.handler(s.router()), s: s}
}

// Run does the API's background work until ctx ends: it writes batched
// session uses every touchFlushInterval, even on a quiet server, and prunes
// dead sessions and old audit events at start and every pruneInterval.
// When ctx ends it writes the uses still pending and returns: stop the
// HTTP server first, and close the store only after Run has returned. Failures are logged and retried at the next tick.
func (a *API) Run(ctx context.Context, pruneInterval time.Duration) {
	s := a.s
	flushes := time.NewTicker(touchFlushInterval)
	defer flushes.Stop()
	prunes := time.NewTicker(pruneInterval)
	defer prunes.Stop()
	s.logPrune(ctx)
	for {
		select {
		case <-ctx.Done():
			if err := s.touches.flush(context.WithoutCancel(ctx)); err != nil {
				s.logger.Error("session uses could not be written at shutdown; those sessions may be pruned as idle early", "err", err)
			}
			return
		case <-flushes.C:
			if err := s.touches.flush(ctx); err != nil && ctx.Err() == nil {
				s.logger.Warn("could not record session use; will retry", "err", err)
			}
		case <-prunes.C:
			s.logPrune(ctx)
		}
	}
}

func (s *server) logPrune(ctx context.Context) {
	sessions, events, err := s.prune(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		s.logger.Warn("pruning failed", "err", err)
	case sessions+events > 0:
		s.logger.Info("pruned", "sessions", sessions, "audit_events", events)
	}
}

func newServer(logger *slog.Logger, store *db.Store, cfg Config) *server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HashSlots <= 0 {
		cfg.HashSlots = runtime.GOMAXPROCS(0)
	}
	if cfg.HashQueue <= 0 {
		cfg.HashQueue = 32 * cfg.HashSlots
	}
	if len(cfg.TrustedProxies) == 0 {
		cfg.TrustedProxies = defaultTrustedProxies
	}
	if cfg.hashParams == (argonParams{}) {
		cfg.hashParams = defaultParams
	}
	openAPI, err := openAPIFor(cfg.Version)
	if err != nil {
		panic(err) // embedded at build time, and parsed by every test run
	}
	return &server{
		logger:   logger,
		store:    store,
		cfg:      cfg,
		now:      func() time.Time { return cfg.Now().UTC() },
		hasher:   newHasher(cfg.hashParams, cfg.HashSlots, cfg.HashQueue),
		throttle: newLoginThrottle(),
		touches:  newTouches(store, logger),
		openAPI:  openAPI,
	}
}

func (s *server) router() *httprouter.Router {
	router := httprouter.New()
	router.RedirectTrailingSlash = false // a redirect would drop a POST body
	router.RedirectFixedPath = false
	router.NotFound = s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return newError(codeNotFound, "no route for %s %s", r.Method, r.URL.Path)
	})
	router.MethodNotAllowed = s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return newError(codeMethodNotAllowed, "%s is not allowed here; allowed: %s", r.Method, w.Header().Get("Allow"))
	})
	router.PanicHandler = func(w http.ResponseWriter, r *http.Request, v any) {
		s.logger.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(stack()))
		writeError(w, r, s.logger, newError(codeInternal, "internal error"))
	}
	s.register(router)
	return router
}

// handler wraps the router in the middleware every request passes.
func (s *server) handler(router http.Handler) http.Handler {
	h := s.rateLimitAuth(router)
	h = cors(s.cfg.CORSOrigins, h)
	return secureHeaders(s.tagClient(h))
}

// handlerFunc is a handler that returns its error for writeError to send.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, s.logger, err)
		}
	}
}

func stack() []byte {
	buf := make([]byte, 16<<10)
	return buf[:runtime.Stack(buf, false)]
}
