package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// account is what the clients were told about one user.
type account struct {
	email    string
	acked    string // the last password a 2xx confirmed
	inFlight string // a change sent but not answered when the server died
	token    string
}

// TestCrashesLoseNothingAcknowledged kills the real server with SIGKILL at
// random moments while clients register and change passwords, then restarts
// it and checks that every acknowledged change is there.
func TestCrashesLoseNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the server 20 times")
	}
	if raceDetector {
		// Its subject is durability across processes, which the plain run
		// covers; under -race its 300-odd real password hashes outlast
		// the test timeout.
		t.Skip("too slow under the race detector")
	}
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "auth.db")
	var accounts []*account
	next := 0
	client := &http.Client{Timeout: 10 * time.Second}
	call := func(base, method, path, token, body string) (int, map[string]any, error) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out, nil
	}

	var touched []*account
	for round := range 20 {
		p := startProcess(t, nil, "--database-path", dbPath)
		// Start-up after the crash needed no manual step; every change the
		// last round acknowledged is there.
		verify(t, round, p.url, call, touched)

		touched = nil
		var wg sync.WaitGroup
		for w := range 4 {
			var mine []*account
			for range 2 {
				next++
				a := &account{email: fmt.Sprintf("r%dw%d-%d@example.com", round, w, next), inFlight: fmt.Sprintf("first password %d", next)}
				mine = append(mine, a)
			}
			accounts = append(accounts, mine...)
			touched = append(touched, mine...)
			wg.Go(func() {
				for i := 0; ; i++ {
					a := mine[i%len(mine)]
					switch {
					case a.acked == "":
						code, _, err := call(p.url, "POST", "/auth/register", "", fmt.Sprintf(`{"email":%q,"password":%q}`, a.email, a.inFlight))
						if err != nil {
							return // the server is gone
						}
						if code == http.StatusCreated {
							a.acked, a.inFlight = a.inFlight, ""
						}
					case a.token == "":
						code, body, err := call(p.url, "POST", "/auth/login", "", fmt.Sprintf(`{"email":%q,"password":%q}`, a.email, a.acked))
						if err != nil {
							return
						}
						if code == http.StatusOK {
							a.token = body["access_token"].(string)
						}
					default:
						a.inFlight = fmt.Sprintf("changed password %d-%d", round, i)
						code, _, err := call(p.url, "PUT", "/users/me/password", a.token, fmt.Sprintf(`{"current_password":%q,"new_password":%q}`, a.acked, a.inFlight))
						if err != nil {
							return
						}
						if code == http.StatusNoContent {
							a.acked = a.inFlight
						}
						a.inFlight = ""
					}
				}
			})
		}
		time.Sleep(time.Duration(50+rand.IntN(400)) * time.Millisecond)
		require.NoError(t, p.cmd.Process.Kill()) // SIGKILL: no shutdown, no checkpoint
		<-p.done
		wg.Wait()
		for _, a := range touched {
			a.token = ""
		}

		conn, err := sql.Open("sqlite3", "file:"+dbPath)
		require.NoError(t, err)
		var integrity string
		require.NoError(t, conn.QueryRow("PRAGMA integrity_check").Scan(&integrity))
		require.NoError(t, conn.Close())
		require.Equal(t, "ok", integrity, "round %d", round)
	}
	p := startProcess(t, nil, "--database-path", dbPath)
	verify(t, 20, p.url, call, accounts)
	p.stop(t)
}

// verify logs every account in with its acknowledged password, or with the
// one in flight at the crash, which may or may not have been committed.
func verify(t *testing.T, round int, base string, call func(base, method, path, token, body string) (int, map[string]any, error), accounts []*account) {
	t.Helper()
	for _, a := range accounts {
		if a.acked == "" && a.inFlight == "" {
			continue
		}
		ok := false
		for _, password := range []string{a.acked, a.inFlight} {
			if password == "" {
				continue
			}
			code, _, err := call(base, "POST", "/auth/login", "", fmt.Sprintf(`{"email":%q,"password":%q}`, a.email, password))
			require.NoError(t, err)
			if code == http.StatusOK {
				a.acked, a.inFlight, ok = password, "", true
				break
			}
		}
		if a.acked == "" && !ok {
			continue // its registration was never acknowledged, nor committed
		}
		assert.True(t, ok, "round %d: %s lost its acknowledged password", round, a.email)
	}
}
