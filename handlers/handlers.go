// Package handlers is the HTTP API: routing, validation, passwords, tokens,
// throttling and the one mapping from errors to responses.
package handlers

import (
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

// New returns the API's handler.
func New(logger *slog.Logger, store *db.Store, cfg Config) http.Handler {
	s := newServer(logger, store, cfg)
	return s.handler(s.router())
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
