// Package handlers is the HTTP API: routing, decoding and validating
// requests, calling the domain (package auth), encoding responses, and the
// one mapping from errors to responses.
package handlers

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/julienschmidt/httprouter"

	"spaceauth/auth"
)

// Config holds the HTTP settings, validated by the caller.
type Config struct {
	Version          string
	IPRateLimit      int // requests per minute per client IP on /auth/*; 0 disables
	TrustedProxyHops int
	// TrustedProxies are the networks whose X-Forwarded-For is read;
	// default: loopback and private ranges.
	TrustedProxies []netip.Prefix
	CORSOrigins    []string
	// Backups takes and lists snapshots; nil when they are off, and then
	// BackupsOff says why (409 on /admin/backups).
	Backups    Backups
	BackupsOff string
}

// Backups is what the admin routes need of snapshots; package backup's
// Scheduler is one.
type Backups interface {
	SnapshotNow(ctx context.Context, why string) (Snapshot, error)
	List() ([]Snapshot, error)
	// Open opens a snapshot for download; an fs.ErrNotExist when there is
	// no such one.
	Open(name string) (*os.File, fs.FileInfo, error)
	LastAt() (time.Time, bool)
}

// Snapshot describes one snapshot: the same type as backup.Info.
type Snapshot = struct {
	Name      string    `json:"name"`
	Size      int64     `json:"size"`
	CreatedAt time.Time `json:"created_at"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{Version: "dev", IPRateLimit: 60, BackupsOff: "backups are off: set BACKUP_DIR to turn them on"}
}

// server holds what the handlers share.
type server struct {
	logger  *slog.Logger
	auth    *auth.Service
	cfg     Config
	now     func() time.Time
	openAPI docsAsset // the document, with this build's version
	// untrustedProxy warns once about X-Forwarded-For from outside TrustedProxies.
	untrustedProxy sync.Once
}

// New returns the API over the domain's service.
func New(logger *slog.Logger, svc *auth.Service, cfg Config) http.Handler {
	s := newServer(logger, svc, cfg)
	return s.handler(s.router())
}

func newServer(logger *slog.Logger, svc *auth.Service, cfg Config) *server {
	if len(cfg.TrustedProxies) == 0 {
		cfg.TrustedProxies = defaultTrustedProxies
	}
	doc, err := openAPIFor(cfg.Version)
	if err != nil {
		panic(err) // embedded at build time, and parsed by every test run
	}
	openAPI, err := newAsset("application/json", doc)
	if err != nil {
		panic(err)
	}
	clock := svc.Config().Now
	return &server{
		logger:  logger,
		auth:    svc,
		cfg:     cfg,
		now:     func() time.Time { return clock().UTC() },
		openAPI: openAPI,
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
