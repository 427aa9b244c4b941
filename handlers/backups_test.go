package handlers

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"spaceauth/backup"
)

func TestAdminBackups(t *testing.T) {
	t.Parallel()
	var dir *backup.Dir
	api := newTestAPI(t)
	api.requireSQLite()
	dir = &backup.Dir{Path: filepath.Join(t.TempDir(), "backups"), Keep: 2}
	scheduler, err := backup.NewScheduler(t.Context(), dir, api.store, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	api.server.cfg.Backups = scheduler
	_, token := api.signUpAdmin("admin@example.com")
	plain := api.signUp("plain@example.com")

	ready := decodeBody[map[string]any](t, api.do(request{method: "GET", path: "/readyz"}))
	assert.Contains(t, ready, "last_backup_at")
	assert.Nil(t, ready["last_backup_at"])

	requireProblem(t, api.do(request{method: "POST", path: "/admin/backups", token: plain}), http.StatusForbidden)
	w := api.do(request{method: "POST", path: "/admin/backups", token: token})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	created := decodeBody[backup.Info](t, w)
	assert.Positive(t, created.Size)
	for range 2 {
		require.Equal(t, http.StatusCreated, api.do(request{method: "POST", path: "/admin/backups", token: token}).Code)
	}

	w = api.do(request{method: "GET", path: "/admin/backups", token: token})
	require.Equal(t, http.StatusOK, w.Code)
	list := decodeBody[struct{ Backups []backup.Info }](t, w).Backups
	require.Len(t, list, 2, "BACKUP_KEEP applies to manual snapshots too")
	assert.Greater(t, list[0].Name, list[1].Name, "newest first")
	ready = decodeBody[map[string]any](t, api.do(request{method: "GET", path: "/readyz"}))
	assert.Equal(t, list[0].CreatedAt.Format("2006-01-02T15:04:05.999999999Z07:00"), ready["last_backup_at"])

	w = api.do(request{method: "GET", path: "/admin/backups/" + list[0].Name, token: token})
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/vnd.sqlite3", w.Header().Get("Content-Type"))
	assert.Equal(t, "SQLite format 3\x00", w.Body.String()[:16])
	assert.EqualValues(t, list[0].Size, w.Body.Len())

	for _, name := range []string{"..%2F..%2Fetc%2Fpasswd", "..", "auth.db", created.Name + ".partial", "spaceauth-20990101T000000.000Z.db"} {
		requireProblem(t, api.do(request{method: "GET", path: "/admin/backups/" + name, token: token}), http.StatusNotFound)
	}
}

func TestAdminBackupsWhenOff(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	_, token := api.signUpAdmin("admin@example.com")
	for _, r := range []struct{ method, path string }{{"POST", "/admin/backups"}, {"GET", "/admin/backups"}, {"GET", "/admin/backups/spaceauth-20260101T000000.000Z.db"}} {
		p := requireProblem(t, api.do(request{method: r.method, path: r.path, token: token}), http.StatusConflict)
		assert.Contains(t, p.Detail, "BACKUP_DIR")
	}
	ready := decodeBody[map[string]any](t, api.do(request{method: "GET", path: "/readyz"}))
	assert.NotContains(t, ready, "last_backup_at")
}

func TestBackupDownloadOutlastsTheWriteTimeout(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	api.requireSQLite()
	dir := &backup.Dir{Path: t.TempDir(), Keep: 2}
	scheduler, err := backup.NewScheduler(t.Context(), dir, api.store, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	api.server.cfg.Backups = scheduler
	_, token := api.signUpAdmin("admin@example.com")
	// A large snapshot, bigger than the socket buffers can absorb.
	name := "spaceauth-20260101T000000.000Z.db"
	size := 32 << 20
	require.NoError(t, os.WriteFile(filepath.Join(dir.Path, name), bytes.Repeat([]byte{'s'}, size), 0o600))

	srv := httptest.NewUnstartedServer(api.handler)
	srv.Config.WriteTimeout = 200 * time.Millisecond // as serve.go's, scaled down
	srv.Start()
	t.Cleanup(srv.Close)
	req, err := http.NewRequest("GET", srv.URL+"/admin/backups/"+name, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// A slow link: about a second for the whole file.
	read, chunk := 0, make([]byte, 1<<20)
	for {
		n, err := io.ReadFull(resp.Body, chunk)
		read += n
		if err != nil {
			break
		}
		time.Sleep(30 * time.Millisecond)
	}
	assert.Equal(t, size, read, "the whole snapshot arrives")
}
