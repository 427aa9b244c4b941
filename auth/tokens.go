package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
)

const (
	tokenPrefix = "sa_"
	tokenBytes  = 32 // 256 bits from crypto/rand
)

var tokenLen = len(tokenPrefix) + base64.RawURLEncoding.EncodedLen(tokenBytes)

// NewToken returns a fresh bearer token and the SHA-256 that is stored in
// its place: a leaked database does not leak usable tokens.
func NewToken() (token string, hash []byte) {
	b := make([]byte, tokenBytes)
	rand.Read(b)
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is what is stored for token.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// ParseToken returns the hash of token, refusing anything that is not
// shaped like one of ours before it reaches the database.
func ParseToken(token string) ([]byte, bool) {
	if len(token) != tokenLen || !strings.HasPrefix(token, tokenPrefix) {
		return nil, false
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(token[len(tokenPrefix):]); err != nil {
		return nil, false
	}
	return HashToken(token), true
}

// NewID returns an opaque, UUIDv7-shaped identifier: time-ordered, so keyset
// pages by id are stable and inserts land at the end of the index, with 74
// random bits so ids cannot be guessed or counted.
func NewID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:])
	b[6] = b[6]&0x0f | 0x70 // version 7
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
