package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"spaceauth/backup"
	"spaceauth/db/postgres/pgtest"
)

// The test binary doubles as the real program, so end-to-end tests can send
// it real signals.
func TestMain(m *testing.M) {
	if os.Getenv("SPACEAUTH_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	if url := os.Getenv("SPACEAUTH_TEST_FLOOD"); url != "" {
		runFlood(url)
		os.Exit(0)
	}
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

type process struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
	done chan error
}

// startProcess runs the program in a child process on port 0.
func startProcess(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--host", "127.0.0.1", "--port", "0"}, args...)...)
	cmd.Env = append(os.Environ(), append([]string{"SPACEAUTH_TEST_MAIN=1", "LOG_FORMAT=json", "IP_RATE_LIMIT=0"}, env...)...)
	p := &process{cmd: cmd, logs: &syncBuffer{addrs: make(chan string, 1)}, done: make(chan error, 1)}
	cmd.Stderr = p.logs
	require.NoError(t, cmd.Start())
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case a := <-p.logs.addrs:
		p.url = "http://" + a
	case err := <-p.done:
		t.Fatalf("exited before listening: %v\n%s", err, p.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("did not start:\n%s", p.logs.String())
	}
	return p
}

// stop sends SIGTERM, as a container platform does, and waits for exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		require.NoError(t, err, "exit status 0 after SIGTERM\n%s", p.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("did not stop:\n%s", p.logs.String())
	}
}

func (p *process) post(t *testing.T, path, body string) int {
	t.Helper()
	resp, err := http.Post(p.url+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// fakeS3 is an in-process S3-compatible server with one bucket.
func fakeS3(t *testing.T, bucket string) (endpoint string) {
	t.Helper()
	backend := s3mem.New()
	require.NoError(t, backend.CreateBucket(bucket))
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestDataSurvivesARestartThatWipesTheDisk(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"directory", "s3"} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			dbPath := filepath.Join(dir, "disk", "database", "auth.db")
			cfg := config{DatabasePath: dbPath, BackupKeep: 24, BackupDir: filepath.Join(dir, "bucket")}
			var env []string
			if target == "s3" {
				cfg.BackupDir, cfg.BackupS3 = "", "s3://backups/space"
				cfg.S3 = backup.S3Settings{Endpoint: fakeS3(t, "backups"), ForcePathStyle: true, AccessKey: "id", SecretKey: "secret", Region: "us-east-1"}
				env = []string{"BACKUP_URL=" + cfg.BackupS3, "S3_ENDPOINT=" + cfg.S3.Endpoint, "S3_FORCE_PATH_STYLE=1", "S3_REGION=us-east-1",
					"AWS_ACCESS_KEY_ID=id", "AWS_SECRET_ACCESS_KEY=secret"}
			} else {
				env = []string{"BACKUP_DIR=" + cfg.BackupDir}
			}
			args := []string{"--database-path", dbPath, "--backup-interval", "1h"}

			p := startProcess(t, env, args...)
			for i := range 3 {
				require.Equal(t, http.StatusCreated, p.post(t, "/auth/register", fmt.Sprintf(`{"email":"u%d@example.com","password":"survives restarts %d"}`, i, i)))
			}
			p.stop(t)
			assert.Contains(t, p.logs.String(), `"why":"final"`)

			// The restart wipe: the whole local disk is gone, the bucket is not.
			require.NoError(t, os.RemoveAll(filepath.Join(dir, "disk")))

			p = startProcess(t, env, args...)
			assert.Contains(t, p.logs.String(), "restored the database from a snapshot")
			for i := range 3 {
				assert.Equal(t, http.StatusOK, p.post(t, "/auth/login", fmt.Sprintf(`{"email":"u%d@example.com","password":"survives restarts %d"}`, i, i)))
			}
			resp, err := http.Get(p.url + "/readyz")
			require.NoError(t, err)
			var ready map[string]any
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&ready))
			resp.Body.Close()
			assert.NotNil(t, ready["last_backup_at"])
			p.stop(t)
			stored, err := backupTarget(cfg)
			require.NoError(t, err)
			snapshots, err := stored.List()
			require.NoError(t, err)
			assert.Len(t, snapshots, 2, "the logins changed data, so the second run left a final snapshot too")
		})
	}
}

func TestBackupAndRestoreCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "auth.db")
	_, err := command(t, env(), "", "backup", "--database-path", dbPath, filepath.Join(dir, "early.db"))
	assert.ErrorContains(t, err, "does not exist", "backing up nothing is an error, and creates no database")
	assert.NoFileExists(t, dbPath)

	p := startProcess(t, nil, "--database-path", dbPath)
	require.Equal(t, http.StatusCreated, p.post(t, "/auth/register", credentials))

	// backup works while the server runs; restore refuses.
	snapshot := filepath.Join(dir, "manual.db")
	out, err := command(t, env(), "", "backup", "--database-path", dbPath, snapshot)
	require.NoError(t, err)
	assert.Contains(t, out, "wrote "+snapshot)
	_, err = command(t, env(), "", "restore", "--database-path", dbPath, snapshot)
	assert.ErrorContains(t, err, "server is using this database")
	_, err = command(t, env(), "", "backup", "--database-path", dbPath)
	assert.ErrorContains(t, err, "BACKUP_DIR")

	require.Equal(t, http.StatusCreated, p.post(t, "/auth/register", `{"email":"later@example.com","password":"registered after the backup"}`))
	p.stop(t)

	out, err = command(t, env(), "", "restore", "--database-path", dbPath, snapshot)
	require.NoError(t, err)
	assert.Contains(t, out, "kept the previous database as "+dbPath+".replaced-")
	assert.Regexp(t, `restored .* from .*: \d+ users, schema version \d+`, out)

	p = startProcess(t, nil, "--database-path", dbPath)
	assert.Equal(t, http.StatusOK, p.post(t, "/auth/login", credentials))
	assert.Equal(t, http.StatusUnauthorized, p.post(t, "/auth/login", `{"email":"later@example.com","password":"registered after the backup"}`), "the restored snapshot predates it")
}

func TestRefusesDatabaseInsideBackupDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := command(t, env(), "", "serve", "--database-path", filepath.Join(dir, "auth.db"), "--backup-dir", dir)
	assert.ErrorContains(t, err, "inside BACKUP_DIR")
}

func TestSpaceWithoutBackupsWarns(t *testing.T) {
	t.Parallel()
	p := startProcess(t, []string{"SPACE_ID=me/auth"}, "--database-path", filepath.Join(t.TempDir(), "auth.db"))
	assert.Contains(t, p.logs.String(), "without BACKUP_URL or BACKUP_DIR")
	p.stop(t)
}

// command runs the program in-process and returns its output and error.
func command(t *testing.T, getenv func(string) string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	err := run(t.Context(), append([]string{"spaceauth"}, args...), getenv, strings.NewReader(stdin), &out, io.Discard)
	return out.String(), err
}

func TestDatabaseDeletedWhileServing(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "auth.db")
	p := startProcess(t, nil, "--database-path", dbPath)
	require.Equal(t, http.StatusCreated, p.post(t, "/auth/register", credentials))
	require.NoError(t, os.Remove(dbPath))

	// The very next write is refused, not acknowledged into a file no start will open.
	assert.Equal(t, http.StatusServiceUnavailable, p.post(t, "/auth/register", `{"email":"after@example.com","password":"written after the delete"}`))
	// The log arrives through a pipe, after the answer.
	assert.Eventually(t, func() bool { return strings.Contains(p.logs.String(), "was deleted while in use") }, 5*time.Second, 10*time.Millisecond)
	p.stop(t)

	// A restart is clean: a new, empty database.
	p = startProcess(t, nil, "--database-path", dbPath)
	assert.Equal(t, http.StatusCreated, p.post(t, "/auth/register", credentials))
	p.stop(t)
}

// TestUnreachableBucketStopsTheStart: with no local database, a bucket
// that does not answer is a clear failure, never an empty start.
func TestUnreachableBucketStopsTheStart(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nil)
	srv.Close()
	dbPath := filepath.Join(t.TempDir(), "auth.db")
	bucket := []string{"BACKUP_URL", "s3://backups/space", "S3_ENDPOINT", srv.URL, "S3_FORCE_PATH_STYLE", "1", "S3_REGION", "us-east-1", "BACKUP_RESTORE_WAIT", "3s"}
	start := time.Now()
	_, err := command(t, env(bucket...), "", "serve", "--port", "0", "--database-path", dbPath)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "s3://backups/space/")
	assert.Contains(t, err.Error(), "stayed unreachable", "after retrying")
	assert.Greater(t, time.Since(start), 2*time.Second, "it retried before giving up")
	assert.NoFileExists(t, dbPath)

	// Told to, it starts empty, and says so.
	var vars []string
	for i := 0; i < len(bucket); i += 2 {
		vars = append(vars, bucket[i]+"="+bucket[i+1])
	}
	p := startProcess(t, append(vars, "BACKUP_RESTORE_REQUIRED=false"), "--database-path", dbPath)
	assert.Contains(t, p.logs.String(), "starting EMPTY")
	assert.Equal(t, http.StatusCreated, p.post(t, "/auth/register", credentials))
	p.stop(t)

	_, err = command(t, env("BACKUP_URL", "hf://datasets/me/backups"), "", "serve", "--port", "0", "--database-path", dbPath)
	assert.ErrorContains(t, err, "not supported yet")
	_, err = command(t, env("BACKUP_URL", "/tmp/x", "BACKUP_DIR", "/tmp/y"), "", "serve", "--port", "0", "--database-path", dbPath)
	assert.ErrorContains(t, err, "set one")
}
