package handlers

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// secureHeaders marks every response as not to be sniffed or cached: the
// API's answers are about one user and may carry tokens.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// cors answers browsers from the allowed origins ("*" allows any). Tokens
// travel in the Authorization header, never in cookies, so credentials
// mode is not needed.
func cors(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	anyOrigin := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !(anyOrigin || slices.Contains(origins, origin)) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Allow-Origin", origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")
		next.ServeHTTP(w, r)
	})
}

// rateLimitAuth gives each client IP a bucket of IPRateLimit requests on
// /auth/*, refilled at IPRateLimit per minute.
func (s *server) rateLimitAuth(next http.Handler) http.Handler {
	if s.cfg.IPRateLimit <= 0 {
		return next
	}
	limits := newKeyedLimiter(rate.Limit(float64(s.cfg.IPRateLimit)/60), s.cfg.IPRateLimit)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/auth/") {
			if wait := limits.reserve(s.clientIP(r), s.now()); wait > 0 {
				writeError(w, r, s.logger, retryLater(codeTooManyRequests, wait, "too many requests from this address; slow down"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// keyedLimiter is a token bucket per key, forgetting keys whose bucket has
// been full for a while so memory stays bounded by recent clients.
type keyedLimiter struct {
	mu        sync.Mutex
	limit     rate.Limit
	burst     int
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

func newKeyedLimiter(limit rate.Limit, burst int) *keyedLimiter {
	return &keyedLimiter{limit: limit, burst: burst, buckets: map[string]*rate.Limiter{}}
}

// reserve takes a token for key and returns 0, or how long until one is free.
func (l *keyedLimiter) reserve(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		for k, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[key] = b
	}
	if b.AllowN(now, 1) {
		return 0
	}
	wait := time.Duration(math.Ceil((1 - b.TokensAt(now)) / float64(l.limit) * float64(time.Second)))
	return max(wait, time.Second)
}

// clientIP is the connection's address, or with TrustedProxyHops = N the
// Nth X-Forwarded-For address from the right (each trusted proxy appends
// the address it saw).
func (s *server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if s.cfg.TrustedProxyHops <= 0 {
		return host
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for part := range strings.SplitSeq(v, ",") {
			hops = append(hops, strings.TrimSpace(part))
		}
	}
	if len(hops) == 0 {
		return host
	}
	i := max(len(hops)-s.cfg.TrustedProxyHops, 0)
	if addr, err := netip.ParseAddr(hops[i]); err == nil {
		return addr.String()
	}
	return host
}
