package handlers

import (
	"bytes"
	"cmp"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"spaceauth/auth"
	"spaceauth/db"
	"spaceauth/db/enginetest"
	"spaceauth/db/postgres/pgtest"
)

// testParams make hashing cheap where it is not what a test is about.
var testParams = auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testAPI is the real handler on a real SQLite file in a temp directory.
type testAPI struct {
	t       testing.TB
	handler http.Handler
	server  *server
	auth    *auth.Service
	data    auth.Store // the engine's store, as the domain sees it
	db      *sql.DB    // raw SQL on either engine: see exec and queryRow
	store   *db.Store  // SQLite only (requireSQLite); nil on PostgreSQL
	// closeStore closes the engine's store, to see the API without it.
	closeStore func() error
	clock      *fakeClock
	logs       *bytes.Buffer
}

// testConfig is every setting of a test API, the domain's and HTTP's.
type testConfig struct {
	auth.Config
	httpConfig
}

type httpConfig = Config

func newTestAPI(t testing.TB, configure ...func(*testConfig)) *testAPI {
	t.Helper()
	database := enginetest.Open(t)
	api := &testAPI{t: t, data: database.Store, db: database.SQL, store: database.SQLite, closeStore: database.Close}
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	cfg := testConfig{auth.DefaultConfig(), DefaultConfig()}
	cfg.EqualizeFailures = false
	cfg.IPRateLimit = 0
	cfg.Now = clock.Now
	cfg.Argon2 = testParams
	for _, c := range configure {
		c(&cfg)
	}
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api.auth = auth.New(logger, api.data, cfg.Config)
	api.server = newServer(logger, api.auth, cfg.httpConfig)
	api.handler, api.clock, api.logs = api.server.handler(api.server.router()), clock, logs
	return api
}

// requireSQLite skips a test about SQLite's file (its deletion, snapshots,
// a full disk) in the PostgreSQL half.
func (a *testAPI) requireSQLite() {
	if a.store == nil {
		a.t.Skip("about SQLite's file")
	}
}

// sql adapts a test's query, written with ? placeholders, to the engine.
func (a *testAPI) sql(query string) string {
	if a.store != nil {
		return query
	}
	n := 0
	return placeholder.ReplaceAllStringFunc(query, func(string) string { n++; return "$" + strconv.Itoa(n) })
}

var placeholder = regexp.MustCompile(`\?`)

func (a *testAPI) exec(query string, args ...any) (sql.Result, error) {
	return a.db.Exec(a.sql(query), args...)
}

func (a *testAPI) queryRow(query string, args ...any) *sql.Row {
	return a.db.QueryRow(a.sql(query), args...)
}

func (a *testAPI) query(query string, args ...any) (*sql.Rows, error) {
	return a.db.Query(a.sql(query), args...)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// request describes one call; body may be a string (sent as is) or a value
// (sent as JSON). JSON bodies get Content-Type: application/json unless
// headers say otherwise.
type request struct {
	method, path string
	body         any
	token        string
	headers      map[string]string
	remoteAddr   string // default 192.0.2.10:40000
}

func (a *testAPI) do(req request) *httptest.ResponseRecorder {
	a.t.Helper()
	var body io.Reader
	switch b := req.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(a.t, err)
		body = bytes.NewReader(raw)
	}
	r := httptest.NewRequest(req.method, req.path, body)
	r.RemoteAddr = cmp.Or(req.remoteAddr, "192.0.2.10:40000")
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.token != "" {
		r.Header.Set("Authorization", "Bearer "+req.token)
	}
	for k, v := range req.headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	a.handler.ServeHTTP(w, r)
	assert.Equal(a.t, "nosniff", w.Header().Get("X-Content-Type-Options"))
	checkAgainstSpec(a.t, r, w)
	return w
}

func (a *testAPI) register(email, password string) user {
	a.t.Helper()
	w := a.do(request{method: "POST", path: "/auth/register", body: map[string]string{"email": email, "password": password}})
	require.Equal(a.t, http.StatusCreated, w.Code, w.Body.String())
	return decodeBody[user](a.t, w)
}

func (a *testAPI) login(email, password string) loginResponse {
	a.t.Helper()
	w := a.do(request{method: "POST", path: "/auth/login", body: map[string]string{"email": email, "password": password}})
	require.Equal(a.t, http.StatusOK, w.Code, w.Body.String())
	return decodeBody[loginResponse](a.t, w)
}

// signUp registers a user and returns a token for it.
func (a *testAPI) signUp(email string) string {
	a.t.Helper()
	a.register(email, strongPassword)
	return a.login(email, strongPassword).AccessToken
}

const strongPassword = "correct horse battery staple"

func decodeBody[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), w.Body.String())
	return v
}

// requireProblem checks that w is an RFC 9457 problem with status.
func requireProblem(t testing.TB, w *httptest.ResponseRecorder, status int) problem {
	t.Helper()
	require.Equal(t, status, w.Code, w.Body.String())
	require.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	p := decodeBody[problem](t, w)
	assert.Equal(t, status, p.Status)
	assert.Equal(t, http.StatusText(status), p.Title)
	assert.NotEmpty(t, p.Type)
	assert.NotEmpty(t, p.Detail)
	if status == http.StatusUnauthorized {
		assert.Contains(t, w.Header().Get("WWW-Authenticate"), "Bearer")
	}
	return p
}

func fieldNames(p problem) []string {
	var names []string
	for _, f := range p.Errors {
		names = append(names, f.Field)
	}
	return names
}

func (a *testAPI) countRows(table string) int {
	a.t.Helper()
	var n int
	require.NoError(a.t, a.queryRow("SELECT count(*) FROM "+table).Scan(&n))
	return n
}

// wantTokenLen is the length of a bearer token: "sa_" and 32 bytes in
// unpadded base64url.
const wantTokenLen = 3 + 43

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
