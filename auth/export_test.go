package auth

import "context"

// Internals for the tests of package auth_test, which run on a real
// database: this package's own tests cannot import one (db imports auth).
var (
	ErrOverloaded = errOverloaded
	LegacyFloor   = legacyFloor
)

// AcquireHash takes a place in the hashing queue, as a hash would.
func (s *Service) AcquireHash(ctx context.Context) (release func(), err error) {
	return s.hasher.acquire(ctx)
}

// HashesAdmitted is how many hashes hold or wait for a slot.
func (s *Service) HashesAdmitted() int {
	s.hasher.mu.Lock()
	defer s.hasher.mu.Unlock()
	return s.hasher.admitted
}
