package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func rawRequest(t *testing.T, s *runningServer, raw string) (status string, conn net.Conn) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = io.WriteString(conn, raw)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", conn
	}
	return strings.TrimSpace(line), conn
}

func TestHeadersWithCRLFAreRefusedBeforeAnyHandler(t *testing.T) {
	t.Parallel()
	s := startServer(t, filepath.Join(t.TempDir(), "auth.db"), env())
	for _, raw := range []string{
		"GET /users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\rb\r\n\r\n",
		"GET /users/me HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\rInjected: yes\r\n\r\n",
		"GET /users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x00\r\n\r\n",
	} {
		status, _ := rawRequest(t, s, raw)
		assert.Contains(t, status, "400", "%q", raw)
	}
	// A bare LF ends a header line (net/http is lenient there), so it
	// cannot smuggle a value into another header: this is two headers.
	status, _ := rawRequest(t, s, "GET /users/me HTTP/1.1\r\nHost: x\r\nX-Note: a\nAuthorization: Basic x\r\n\r\n")
	assert.Contains(t, status, "401")
}

func TestSlowLorisClientsAreCutOff(t *testing.T) {
	t.Parallel()
	s := startServer(t, filepath.Join(t.TempDir(), "auth.db"), env())
	start := time.Now()
	// Headers that never finish: ReadHeaderTimeout (5 s) must end this.
	status, _ := rawRequest(t, s, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	elapsed := time.Since(start)
	assert.NotContains(t, status, "200")
	assert.Less(t, elapsed, 9*time.Second, "the server gave up on the slow client")
	assert.GreaterOrEqual(t, elapsed, 4*time.Second)
	// Meanwhile and afterwards, others are served.
	code, _ := s.call(t, "GET", "/healthz", "", "")
	assert.Equal(t, http.StatusOK, code)
}
