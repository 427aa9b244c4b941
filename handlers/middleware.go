package handlers

import (
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"spaceauth/auth"
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
		h := w.Header()
		h.Add("Vary", "Origin") // the answer depends on it, allowed or not: caches must know
		origin := r.Header.Get("Origin")
		if origin == "" || !(anyOrigin || slices.Contains(origins, origin)) {
			next.ServeHTTP(w, r)
			return
		}
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

// tagClient records the caller's network in the request context, where
// the rate limit, the hashing queue and the login throttle find it.
func (s *server) tagClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		network := clientNetwork(s.clientAddr(r))
		next.ServeHTTP(w, r.WithContext(auth.WithClientNetwork(r.Context(), network)))
	})
}

// rateLimitAuth gives each client network a bucket of IPRateLimit requests
// on /auth/*, refilled at IPRateLimit per minute.
func (s *server) rateLimitAuth(next http.Handler) http.Handler {
	if s.cfg.IPRateLimit <= 0 {
		return next
	}
	limits := newKeyedLimiter(rate.Limit(float64(s.cfg.IPRateLimit)/60), s.cfg.IPRateLimit, maxLimiterKeys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/auth/") {
			if wait := limits.reserve(auth.ClientNetworkOf(r.Context()), s.now()); wait > 0 {
				writeError(w, r, s.logger, retryLater(codeTooManyRequests, wait, "too many requests from this address; slow down"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// maxLimiterKeys bounds the limiter's memory (about 200 bytes a key).
const maxLimiterKeys = 1 << 16

// keyedLimiter is a token bucket per key, forgetting keys whose bucket has
// been full for a while, and holding at most maxKeys: when a new key finds
// it full of recent clients, a random one is forgotten, which lets one
// client start over rather than refusing every new one.
type keyedLimiter struct {
	mu        sync.Mutex
	limit     rate.Limit
	burst     int
	maxKeys   int
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

func newKeyedLimiter(limit rate.Limit, burst, maxKeys int) *keyedLimiter {
	return &keyedLimiter{limit: limit, burst: burst, maxKeys: maxKeys, buckets: map[string]*rate.Limiter{}}
}

// reserve takes a token for key and returns 0, or how long until one is free.
func (l *keyedLimiter) reserve(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if now.Sub(l.lastSweep) > time.Minute || len(l.buckets) >= l.maxKeys {
			l.sweep(now)
		}
		for k := range l.buckets { // map order is random
			if len(l.buckets) < l.maxKeys {
				break
			}
			delete(l.buckets, k)
		}
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[key] = b
	}
	if b.AllowN(now, 1) {
		return 0
	}
	wait := time.Duration(math.Ceil((1 - b.TokensAt(now)) / float64(l.limit) * float64(time.Second)))
	return max(wait, time.Second)
}

func (l *keyedLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}

// defaultTrustedProxies are the networks a proxy in front of the service
// connects from: loopback, private and carrier-grade NAT ranges. A client
// on the open internet cannot connect from them, so cannot forge its
// address with X-Forwarded-For.
var defaultTrustedProxies = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("fc00::/7"), netip.MustParsePrefix("fe80::/10"),
}

// clientAddr is the connection's address or, with TrustedProxyHops = N
// and a connection from a trusted proxy, the Nth X-Forwarded-For address
// from the right (each trusted proxy appends the address it saw). Anything
// further left was written by the client and is ignored.
func (s *server) clientAddr(r *http.Request) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if s.cfg.TrustedProxyHops <= 0 {
		return peer
	}
	if !slices.ContainsFunc(s.cfg.TrustedProxies, func(p netip.Prefix) bool { return p.Contains(peer) }) {
		if r.Header.Get("X-Forwarded-For") != "" {
			s.untrustedProxy.Do(func() {
				s.logger.Warn("X-Forwarded-For from a connection outside TRUSTED_PROXIES is ignored; if a proxy of yours connects from there, add its network",
					"peer", peer.String())
			})
		}
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for part := range strings.SplitSeq(v, ",") {
			hops = append(hops, strings.TrimSpace(part))
		}
	}
	if len(hops) == 0 {
		return peer
	}
	if addr := parseAddr(hops[max(len(hops)-s.cfg.TrustedProxyHops, 0)]); addr.IsValid() {
		return addr
	}
	return peer
}

// parseAddr reads an address with or without a port; IPv4-mapped IPv6
// addresses come out as IPv4, so one client has one key.
func parseAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	addr, _ := netip.ParseAddr(s)
	return addr.WithZone("").Unmap()
}

// clientIP is the caller's address as stored with a session.
func (s *server) clientIP(r *http.Request) string {
	if addr := s.clientAddr(r); addr.IsValid() {
		return addr.String()
	}
	return ""
}

// clientNetwork is the unit one client controls: an IPv4 address, or an
// IPv6 /64 (the smallest network a host is given, so a host has billions
// of addresses in it).
func clientNetwork(addr netip.Addr) string {
	if addr.Is6() {
		return netip.PrefixFrom(addr, 64).Masked().String()
	}
	return addr.String()
}
