package handlers

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"
)

const maxPasswordLength = 256 // code points; never truncated

// argonParams are the argon2id costs; stored in every hash (PHC format) so
// they can be raised later and old hashes still verify, then get rehashed.
type argonParams struct {
	memoryKiB uint32
	time      uint32
	threads   uint8
}

// defaultParams are OWASP's recommended argon2id minimum.
var defaultParams = argonParams{memoryKiB: 19456, time: 2, threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// errOverloaded means the hashing queue is full; the client should retry.
var errOverloaded = retryLater(codeUnavailable, 2*time.Second, "the server is busy hashing passwords; try again shortly")

// hasher bounds password hashing: argon2id takes ~19 MiB and tens of
// milliseconds of one core per hash, so at most `slots` run at once, and
// at most `slots+queue` requests that hash are admitted at all (see
// hashing); anything beyond is refused at once rather than piling up memory
// and latency.
type hasher struct {
	params    argonParams
	slots     chan struct{}
	admission chan struct{}
	// dummyHash is verified against when a login names no account, so
	// unknown emails cost the same time as wrong passwords. Made on first
	// use: start-up stays fast.
	dummyHash func() string
}

func newHasher(params argonParams, slots, queue int) *hasher {
	h := &hasher{params: params, slots: make(chan struct{}, slots), admission: make(chan struct{}, slots+queue)}
	h.dummyHash = sync.OnceValue(func() string { return h.encode("not a password") })
	return h
}

// hashing admits a request that may hash a password, or sheds it with 503
// before any other work is spent on it.
func (s *server) hashing(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.hasher.admission <- struct{}{}:
		default:
			writeError(w, r, s.logger, errOverloaded)
			return
		}
		defer func() { <-s.hasher.admission }()
		next(w, r)
	}
}

// do runs fn in a hashing slot, on a thread of its own at a lower CPU
// priority: during a login flood the kernel then gives the CPU to cheap
// requests first. The goroutine exits still locked to that thread, so the
// thread ends with it and its priority never leaks to other work (raising
// it back would need privileges).
func (h *hasher) do(ctx context.Context, fn func()) error {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-h.slots }()
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		lowerThreadPriority()
		fn()
		close(done)
	}()
	<-done
	return nil
}

// hash returns the PHC string of password (already normalised).
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	var encoded string
	err := h.do(ctx, func() { encoded = h.encode(password) })
	return encoded, err
}

func (h *hasher) encode(password string) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.time, p.memoryKiB, p.threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memoryKiB, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// verify reports whether password matches encoded, and whether encoded
// should be replaced by a hash with the current parameters.
func (h *hasher) verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	if strings.HasPrefix(encoded, "$2a$") || strings.HasPrefix(encoded, "$2b$") || strings.HasPrefix(encoded, "$2y$") {
		err = h.do(ctx, func() { ok = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)) == nil })
		return ok, ok, err
	}
	p, salt, key, perr := parseArgon2id(encoded)
	if perr != nil {
		return false, false, perr
	}
	err = h.do(ctx, func() {
		got := argon2.IDKey([]byte(password), salt, p.time, p.memoryKiB, p.threads, uint32(len(key)))
		ok = subtle.ConstantTimeCompare(got, key) == 1
	})
	return ok, ok && (p != h.params || len(salt) != saltLen || len(key) != keyLen), err
}

func parseArgon2id(encoded string) (p argonParams, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("unknown password hash format")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("unsupported argon2 version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memoryKiB, &p.time, &p.threads); err != nil {
		return p, nil, nil, fmt.Errorf("bad argon2 parameters %q: %w", parts[3], err)
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return p, nil, nil, fmt.Errorf("bad argon2 salt: %w", err)
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil {
		return p, nil, nil, fmt.Errorf("bad argon2 key: %w", err)
	}
	return p, salt, key, nil
}

//go:embed commonpasswords.txt
var commonPasswordsFile string

var commonPasswords = sync.OnceValue(func() map[string]bool {
	set := make(map[string]bool, 10000)
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsFile))
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "# ") && line != "#" {
			set[line] = true
		}
	}
	return set
})

// normalizePassword applies NFKC, so the same password typed on different
// keyboards or input methods hashes the same.
func normalizePassword(p string) string { return norm.NFKC.String(p) }

// passwordProblem says why a new (normalised) password is refused, or "".
func passwordProblem(password, email string, minLength int) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < minLength:
		return fmt.Sprintf("must be at least %d characters", minLength)
	case n > maxPasswordLength:
		return fmt.Sprintf("must be at most %d characters", maxPasswordLength)
	case strings.TrimSpace(password) == "":
		return "must not be only spaces"
	case commonPasswords()[strings.ToLower(password)]:
		return "is one of the most common passwords; choose another"
	case email != "" && strings.EqualFold(password, email):
		return "must not be the same as the email address"
	}
	return ""
}
