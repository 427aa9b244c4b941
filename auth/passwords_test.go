package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultHashParameters(t *testing.T) {
	t.Parallel()
	encoded := newHasher(DefaultArgon2, 1, 1).encode("pw")
	assert.True(t, strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$"), encoded)
	p, salt, key, err := parseArgon2id(encoded)
	require.NoError(t, err)
	assert.Equal(t, DefaultArgon2, p)
	assert.Len(t, salt, 16)
	assert.Len(t, key, 32)
}

// BenchmarkHash is one password hash at the production parameters.
func BenchmarkHash(b *testing.B) {
	h := newHasher(DefaultArgon2, 1, 0)
	for b.Loop() {
		h.encode("benchmark passphrase")
	}
}
