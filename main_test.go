package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"spaceauth/db"
)

// syncBuffer collects a running server's log lines and reports the address
// it listens on.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial string // an unfinished last line
	addrs   chan string
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := strings.Split(b.partial+string(p), "\n")
	b.partial = lines[len(lines)-1]
	for _, line := range lines[:len(lines)-1] {
		var entry struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "listening" {
			select {
			case b.addrs <- entry.Addr:
			default: // nobody is waiting for a second one
			}
		}
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func env(kv ...string) func(string) string {
	m := map[string]string{"LOG_FORMAT": "json", "IP_RATE_LIMIT": "0"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

type runningServer struct {
	url  string
	logs *syncBuffer
	stop func() error // cancels the context and returns run's error
}

// startServer calls run in-process on port 0 and waits until it listens.
func startServer(t *testing.T, dbPath string, getenv func(string) string) *runningServer {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	logs := &syncBuffer{addrs: make(chan string, 1)}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"spaceauth", "--host", "127.0.0.1", "--port", "0", "--database-path", dbPath}, getenv, strings.NewReader(""), io.Discard, logs)
	}()
	select {
	case addr := <-logs.addrs:
		s := &runningServer{url: "http://" + addr, logs: logs}
		var once sync.Once
		var err error
		s.stop = func() error {
			once.Do(func() { cancel(); err = <-done })
			return err
		}
		t.Cleanup(func() { s.stop() })
		return s
	case err := <-done:
		cancel()
		t.Fatalf("run returned before listening: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("server did not start:\n%s", logs.String())
	}
	return nil
}

func (s *runningServer) call(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	return callURL(t, s.url, method, path, token, body)
}

// callURL sends one request to the server at base and decodes its answer.
func callURL(t *testing.T, base, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	}
	return resp.StatusCode, out
}

const credentials = `{"email":"keep@example.com","password":"a long enough passphrase"}`

func TestServeCreatesTheDatabaseServesAndStopsCleanly(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "does", "not", "exist", "auth.db")
	s := startServer(t, dbPath, env())

	code, body := s.call(t, "GET", "/healthz", "", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", body["status"])
	code, body = s.call(t, "GET", "/readyz", "", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ready", body["status"])
	code, _ = s.call(t, "POST", "/auth/register", "", credentials)
	require.Equal(t, http.StatusCreated, code)

	require.NoError(t, s.stop())
	assert.FileExists(t, dbPath)
	if info, err := os.Stat(dbPath + "-wal"); err == nil {
		assert.Zero(t, info.Size(), "the WAL was checkpointed")
	}
	logs := s.logs.String()
	for _, want := range []string{`"state":"created"`, `"schema_version":3`, `"msg":"listening"`, `"msg":"database closed"`} {
		assert.Contains(t, logs, want)
	}

	// A restart finds the user, unchanged.
	s = startServer(t, dbPath, env())
	code, body = s.call(t, "POST", "/auth/login", "", credentials)
	require.Equal(t, http.StatusOK, code, body)
	code, me := s.call(t, "GET", "/users/me", body["access_token"].(string), "")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "keep@example.com", me["email"])
	assert.Contains(t, s.logs.String(), `"state":"opened"`)
}

func TestInitIsIdempotentAndServeFollows(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "db", "auth.db")
	for range 2 {
		var out bytes.Buffer
		require.NoError(t, run(t.Context(), []string{"spaceauth", "init", "--database-path", dbPath}, env(), nil, &out, io.Discard))
		assert.Equal(t, dbPath+": schema version 3\n", out.String())
	}
	s := startServer(t, dbPath, env())
	code, _ := s.call(t, "GET", "/readyz", "", "")
	assert.Equal(t, http.StatusOK, code)
}

func TestInitDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "missing")
	dbPath := filepath.Join(dir, "auth.db")
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"spaceauth", "init", "--dry-run", "--database-path", dbPath}, env(), nil, &out, io.Discard))
	assert.Contains(t, out.String(), "does not exist; init would create it at schema version 3")
	assert.NoDirExists(t, dir)

	require.NoError(t, run(t.Context(), []string{"spaceauth", "init", "--database-path", dbPath}, env(), nil, io.Discard, io.Discard))
	out.Reset()
	require.NoError(t, run(t.Context(), []string{"spaceauth", "init", "--dry-run", "--database-path", dbPath}, env(), nil, &out, io.Discard))
	assert.Equal(t, dbPath+": schema version 3, target 3\nno upgrade steps to apply\n", out.String())
}

func TestStartupRefusesBadDatabasePaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(notDB, []byte(strings.Repeat("not a database\n", 400)), 0o600))
	for name, path := range map[string]string{"a directory": dir, "not a database": notDB} {
		t.Run(name, func(t *testing.T) {
			err := run(t.Context(), []string{"spaceauth", "--port", "0", "--database-path", path}, env(), nil, io.Discard, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), path)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
	content, err := os.ReadFile(notDB)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("not a database\n", 400), string(content))
}

func TestSettings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		args    []string
		getenv  func(string) string
		wantErr string
	}{
		{"bad port flag", []string{"--port", "abc"}, env(), `invalid PORT "abc"`},
		{"bad port env", nil, env("PORT", "99999"), `invalid PORT "99999"`},
		{"bad log level", nil, env("LOG_LEVEL", "loud"), `invalid LOG_LEVEL "loud"`},
		{"bad log format", []string{"--log-format", "xml"}, env(), `invalid LOG_FORMAT "xml"`},
		{"bad duration", nil, env("SESSION_TTL", "forever"), `invalid SESSION_TTL "forever"`},
		{"negative duration", nil, env("SESSION_IDLE_TIMEOUT", "-1h"), `invalid SESSION_IDLE_TIMEOUT "-1h"`},
		{"bad rate limit", nil, env("IP_RATE_LIMIT", "-1"), `invalid IP_RATE_LIMIT "-1"`},
		{"bad proxy network", nil, env("TRUSTED_PROXIES", "10.0.0.0/8, 10.1.2.3"), `invalid TRUSTED_PROXIES "10.0.0.0/8, 10.1.2.3"`},
		{"unknown flag", []string{"--colour", "blue"}, env(), "flag provided but not defined: -colour"},
		{"unknown command", []string{"frobnicate"}, env(), `unknown command "frobnicate"`},
		{"serve with junk", []string{"serve", "extra"}, env(), "serve takes no arguments"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := run(t.Context(), append([]string{"spaceauth"}, c.args...), c.getenv, nil, io.Discard, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.wantErr)
		})
	}

	cfg, _, err := parseConfig("t", []string{"--port", "9000"}, env("PORT", "8000", "SESSION_TTL", "90s", "SPACE_ID", "me/space",
		"CORS_ORIGINS", "https://a.example, https://b.example", "TRUSTED_PROXIES", "203.0.113.7/24, 2001:db8::/32"), io.Discard, nil)
	require.NoError(t, err)
	assert.Equal(t, 9000, cfg.Port, "flags win over the environment")
	assert.Equal(t, 90*time.Second, cfg.Auth.SessionTTL)
	assert.Equal(t, 1, cfg.API.TrustedProxyHops, "on a Space, one proxy hop is trusted")
	assert.Equal(t, []string{"https://a.example", "https://b.example"}, cfg.API.CORSOrigins)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")}, cfg.API.TrustedProxies)
	assert.Equal(t, "database/auth.db", cfg.DatabasePath)

	cfg, _, err = parseConfig("t", nil, env("SPACE_ID", "me/space", "TRUSTED_PROXY_HOPS", "0"), io.Discard, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, cfg.API.TrustedProxyHops, "an explicit setting wins")
}

func TestHelpListsEverySetting(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"spaceauth", "--help"}, env(), nil, io.Discard, &out))
	for _, s := range settings() {
		assert.Contains(t, out.String(), "-"+s.flagName())
		assert.Contains(t, out.String(), "env "+s.env)
	}
	assert.Contains(t, out.String(), `default "7860"`)
}

func TestVersionAndHealthcheck(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"spaceauth", "version"}, env(), nil, &out, io.Discard))
	assert.Equal(t, "spaceauth dev\n", out.String())

	s := startServer(t, filepath.Join(t.TempDir(), "auth.db"), env())
	port := s.url[strings.LastIndex(s.url, ":")+1:]
	require.NoError(t, run(t.Context(), []string{"spaceauth", "healthcheck", "--port", port}, env(), nil, io.Discard, io.Discard))
	require.NoError(t, s.stop())
	err := run(t.Context(), []string{"spaceauth", "healthcheck", "--port", port}, env(), nil, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "healthcheck")
}

func TestBusyPortIsAClearError(t *testing.T) {
	t.Parallel()
	s := startServer(t, filepath.Join(t.TempDir(), "a.db"), env())
	port := s.url[strings.LastIndex(s.url, ":")+1:]
	err := run(t.Context(), []string{"spaceauth", "--host", "127.0.0.1", "--port", port, "--database-path", filepath.Join(t.TempDir(), "b.db")}, env(), nil, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "address already in use")
}

func TestInitUpgradesAnOlderDatabase(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "auth.db")
	require.NoError(t, run(t.Context(), []string{"spaceauth", "init", "--database-path", dbPath}, env(), nil, io.Discard, io.Discard))
	// Turn it back into a version 1 database: what steps 0002 and 0003 add, gone.
	conn, err := sql.Open("sqlite3", "file:"+dbPath)
	require.NoError(t, err)
	_, err = conn.Exec("ALTER TABLE users DROP COLUMN last_login_at; DROP TABLE login_failures; DROP TABLE service_keys; PRAGMA user_version = 1")
	require.NoError(t, err)
	require.NoError(t, conn.Close())

	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"spaceauth", "init", "--dry-run", "--database-path", dbPath}, env(), nil, &out, io.Discard))
	assert.Equal(t, dbPath+": schema version 1, target 3\nwould apply 0002_users_last_login_at.sql (to version 2)\nwould apply 0003_login_failures.sql (to version 3)\n", out.String())

	out.Reset()
	logs := &syncBuffer{addrs: make(chan string, 1)}
	require.NoError(t, run(t.Context(), []string{"spaceauth", "init", "--database-path", dbPath}, env(), nil, &out, logs))
	assert.Equal(t, dbPath+": schema version 3\n", out.String())
	assert.Contains(t, logs.String(), "0002_users_last_login_at.sql")
	copies, err := filepath.Glob(dbPath + ".pre-v3-*")
	require.NoError(t, err)
	assert.Len(t, copies, 1, "a copy was taken before upgrading, and the log says where")
	assert.Contains(t, logs.String(), copies[0])
}

// TestGracefulStopWritesSessionUses: a session's last use, still waiting in
// memory at SIGTERM, reaches the database before it closes.
func TestGracefulStopWritesSessionUses(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "auth.db")
	s := startServer(t, dbPath, env("SESSION_IDLE_TIMEOUT", "8s"))
	code, _ := s.call(t, "POST", "/auth/register", "", credentials)
	require.Equal(t, http.StatusCreated, code)
	code, body := s.call(t, "POST", "/auth/login", "", credentials)
	require.Equal(t, http.StatusOK, code)
	time.Sleep(2100 * time.Millisecond) // a quarter of the idle timeout: this use is recorded
	used := time.Now().UTC()
	code, _ = s.call(t, "GET", "/users/me", body["access_token"].(string), "")
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, s.stop())

	conn, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro&_timefmt="+db.TimeFormat)
	require.NoError(t, err)
	defer conn.Close()
	var lastUsed time.Time
	require.NoError(t, conn.QueryRow("SELECT last_used_at FROM sessions").Scan(&lastUsed))
	assert.WithinDuration(t, used, lastUsed, time.Second)
}
