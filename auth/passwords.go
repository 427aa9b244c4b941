package auth

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"
)

// MaxPasswordLength is in code points; passwords are never truncated.
const MaxPasswordLength = 256

// Argon2Params are the argon2id costs; stored in every hash (PHC format) so
// they can be raised later and old hashes still verify, then get rehashed.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2 are OWASP's recommended argon2id minimum.
var DefaultArgon2 = Argon2Params{MemoryKiB: 19456, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// errOverloaded means the hashing queue (or this client network's share of
// it) is full; the client should retry.
var errOverloaded = RetryLater(CodeUnavailable, 2*time.Second, "the server is busy hashing passwords; try again shortly")

// hasher bounds password hashing: argon2id takes ~19 MiB and tens of
// milliseconds of one core per hash, so at most `slots` run at once and at
// most `slots+queue` hashes are admitted at all; anything beyond is refused
// at once rather than piling up memory and latency. Admission happens only
// when a request is about to hash, after its body was read and validated,
// so clients that stall mid-body hold nothing. Each client network may hold
// at most a quarter of the places, and freed slots go round-robin across
// the networks waiting: one source cannot take the queue from everyone.
type hasher struct {
	params    Argon2Params
	slots     int
	capacity  int // slots + queue
	perClient int

	mu       sync.Mutex
	running  int
	admitted int                        // running or waiting
	held     map[string]int             // admitted per client network
	waiting  map[string][]chan struct{} // per client network, oldest first
	turns    []string                   // client networks with waiters, in turn order

	// dummyHash is verified against when a login names no account, so
	// unknown emails cost the same time as wrong passwords. Made on first
	// use: start-up stays fast.
	dummyHash func() string
}

func newHasher(params Argon2Params, slots, queue int) *hasher {
	h := &hasher{
		params: params, slots: slots, capacity: slots + queue, perClient: max(slots, (slots+queue)/4),
		held: map[string]int{}, waiting: map[string][]chan struct{}{},
	}
	h.dummyHash = sync.OnceValue(func() string { return h.encode("not a password") })
	return h
}

// full reports whether a hash for ctx's client network would be refused
// now. Handlers ask before their database reads, so that a shed request
// costs as little as possible; acquire still decides.
func (h *hasher) full(ctx context.Context) bool {
	client := ClientNetworkOf(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.admitted >= h.capacity || h.held[client] >= h.perClient
}

// acquire admits a hash for ctx's client network and waits for its slot.
func (h *hasher) acquire(ctx context.Context) (release func(), err error) {
	client := ClientNetworkOf(ctx)
	h.mu.Lock()
	if h.admitted >= h.capacity || h.held[client] >= h.perClient {
		h.mu.Unlock()
		return nil, errOverloaded
	}
	h.admitted++
	h.held[client]++
	release = func() { h.release(client) }
	if h.running < h.slots && len(h.turns) == 0 {
		h.running++
		h.mu.Unlock()
		return release, nil
	}
	granted := make(chan struct{})
	if len(h.waiting[client]) == 0 {
		h.turns = append(h.turns, client)
	}
	h.waiting[client] = append(h.waiting[client], granted)
	h.mu.Unlock()

	select {
	case <-granted:
		return release, nil
	case <-ctx.Done():
	}
	h.mu.Lock()
	queue := h.waiting[client]
	i := slices.Index(queue, granted)
	if i >= 0 { // still waiting: leave the queue
		if h.waiting[client] = slices.Delete(queue, i, i+1); len(h.waiting[client]) == 0 {
			delete(h.waiting, client)
			h.turns = slices.DeleteFunc(h.turns, func(c string) bool { return c == client })
		}
		h.leave(client)
	}
	h.mu.Unlock()
	if i < 0 { // granted meanwhile: pass the slot on
		release()
	}
	return nil, ctx.Err()
}

// release frees client's place and hands the slot to the next network in
// turn, or leaves it free.
func (h *hasher) release(client string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.leave(client)
	if len(h.turns) == 0 {
		h.running--
		return
	}
	next := h.turns[0]
	queue := h.waiting[next]
	close(queue[0])
	if len(queue) == 1 {
		delete(h.waiting, next)
		h.turns = h.turns[1:]
	} else {
		h.waiting[next] = queue[1:]
		h.turns = append(h.turns[1:], next) // to the back of the round
	}
}

// leave gives up client's place in the admission count; h.mu is held.
func (h *hasher) leave(client string) {
	h.admitted--
	if h.held[client]--; h.held[client] == 0 {
		delete(h.held, client)
	}
}

// do runs fn in a hashing slot, on a thread of its own at a lower CPU
// priority: during a login flood the kernel then gives the CPU to cheap
// requests first. The goroutine exits still locked to that thread, so the
// thread ends with it and its priority never leaks to other work (raising
// it back would need privileges).
func (h *hasher) do(ctx context.Context, fn func()) error {
	release, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
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
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// errBadHash means a stored hash is malformed or asks for costs outside
// the bounds below: it never verifies, and it is never worked on.
var errBadHash = errors.New("unusable password hash")

// Bounds on stored hashes, so a planted or corrupted hash cannot take the
// process's memory or CPU: argon2id up to 64 MiB (pwdlib's default) and 10
// passes, bcrypt up to cost 14.
const (
	maxArgonMemoryKiB = 64 << 10
	maxArgonTime      = 10
	maxArgonThreads   = 16
	maxBcryptCost     = 14
)

var (
	argon2idPHC = regexp.MustCompile(`^\$argon2id\$v=19\$m=([0-9]{1,6}),t=([0-9]{1,2}),p=([0-9]{1,2})\$([A-Za-z0-9+/]{11,86})\$([A-Za-z0-9+/]{22,86})$`)
	bcryptHash  = regexp.MustCompile(`^\$2[aby]\$([0-9]{2})\$[./A-Za-z0-9]{53}$`)
)

// verify reports whether password matches encoded, and whether encoded
// should be replaced by a hash with the current parameters.
func (h *hasher) verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	if m := bcryptHash.FindStringSubmatch(encoded); m != nil {
		if cost, _ := strconv.Atoi(m[1]); cost < bcrypt.MinCost || cost > maxBcryptCost {
			return false, false, fmt.Errorf("%w: bcrypt cost %d", errBadHash, cost)
		}
		err = h.do(ctx, func() { ok = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)) == nil })
		return ok, ok, err
	}
	p, salt, key, err := parseArgon2id(encoded)
	if err != nil {
		return false, false, err
	}
	err = h.do(ctx, func() {
		got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
		ok = subtle.ConstantTimeCompare(got, key) == 1
	})
	return ok, ok && (p != h.params || len(salt) != saltLen || len(key) != keyLen), err
}

// parseArgon2id reads a PHC string strictly: version 19, parameters in
// their canonical order and within bounds, unpadded canonical base64.
func parseArgon2id(encoded string) (p Argon2Params, salt, key []byte, err error) {
	m := argon2idPHC.FindStringSubmatch(encoded)
	if m == nil {
		return p, nil, nil, fmt.Errorf("%w: not an argon2id v19 PHC string", errBadHash)
	}
	memory, _ := strconv.Atoi(m[1])
	passes, _ := strconv.Atoi(m[2])
	threads, _ := strconv.Atoi(m[3])
	if threads < 1 || threads > maxArgonThreads || passes < 1 || passes > maxArgonTime || memory < 8*threads || memory > maxArgonMemoryKiB {
		return p, nil, nil, fmt.Errorf("%w: argon2id parameters m=%d,t=%d,p=%d", errBadHash, memory, passes, threads)
	}
	p = Argon2Params{MemoryKiB: uint32(memory), Time: uint32(passes), Threads: uint8(threads)}
	strict := base64.RawStdEncoding.Strict()
	if salt, err = strict.DecodeString(m[4]); err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, fmt.Errorf("%w: argon2id salt", errBadHash)
	}
	if key, err = strict.DecodeString(m[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, fmt.Errorf("%w: argon2id key", errBadHash)
	}
	return p, salt, key, nil
}

// legacyFloor is how long a failed check of a legacy bcrypt hash (cost 12,
// passlib's default) takes here, measured once. Every failed check lasts
// at least this long, so a wrong password does not tell un-migrated
// accounts from the rest.
var legacyFloor = sync.OnceValue(func() time.Duration {
	start := time.Now()
	bcrypt.GenerateFromPassword([]byte("timing"), 12)
	return time.Since(start)
})

// passwordAttempt says whose password is checked and by which client, for
// the throttle: account is "u:"+id (or "e:"+email when there is no such
// account), client a device, a session or a network, and known whether it
// is a device or a session.
type passwordAttempt struct {
	account, client string
	known           bool
}

// verifyPassword is the one way a password is checked: throttled, counted
// before hashing, failures padded to the legacy floor, and a bad stored
// hash logged and failed.
func (s *Service) verifyPassword(ctx context.Context, a passwordAttempt, password, encoded string) (ok, rehash bool, err error) {
	check, wait, err := s.throttle.begin(ctx, a.account, a.client, a.known, s.now())
	if err != nil {
		return false, false, err
	}
	if wait > 0 {
		return false, false, RetryLater(CodeTooManyRequests, wait, "too many failed password attempts; wait before trying again")
	}
	start := time.Now()
	ok, rehash, err = s.hasher.verify(ctx, password, encoded)
	if errors.Is(err, errBadHash) {
		s.logger.Error("a stored password hash is unusable; the password check fails", "account", a.account, "err", err)
		ok, err = false, nil
	}
	if err != nil {
		if err := check.cancel(ctx); err != nil {
			s.logger.Warn("could not take back a password check that did not run", "err", err)
		}
		return false, false, err
	}
	if ok {
		if err := check.succeeded(ctx); err != nil {
			s.logger.Warn("could not clear the failed-password record after a success", "err", err)
		}
		return true, rehash, nil
	}
	if s.cfg.EqualizeFailures {
		timer := time.NewTimer(legacyFloor() - time.Since(start))
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
		}
	}
	return false, false, nil
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

// NormalizePassword applies NFKC, so the same password typed on different
// keyboards or input methods hashes the same.
func NormalizePassword(p string) string { return norm.NFKC.String(p) }

// passwordProblem says why a new (normalised) password is refused, or "".
func passwordProblem(password, email string, minLength int) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < minLength:
		return fmt.Sprintf("must be at least %d characters", minLength)
	case n > MaxPasswordLength:
		return fmt.Sprintf("must be at most %d characters", MaxPasswordLength)
	case strings.TrimSpace(password) == "":
		return "must not be only spaces"
	case commonPasswords()[strings.ToLower(password)]:
		return "is one of the most common passwords; choose another"
	case email != "" && strings.EqualFold(password, email):
		return "must not be the same as the email address"
	}
	return ""
}
