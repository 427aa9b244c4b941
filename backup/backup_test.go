package backup_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"spaceauth/backup"
	"spaceauth/db"
)

var quiet = slog.New(slog.DiscardHandler)

func openStore(t *testing.T, path string) *db.Store {
	t.Helper()
	s, err := db.Open(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func addUser(ctx context.Context, s *db.Store, id string) error {
	now := time.Now().UTC()
	_, err := s.Write.CreateUser(ctx, db.CreateUserParams{
		ID: id, Email: id + "@example.com", PasswordHash: "h", Role: "user", CreatedAt: now, UpdatedAt: now,
	})
	return err
}

func userIDs(t *testing.T, path string) map[string]bool {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer conn.Close()
	rows, err := conn.Query("SELECT id FROM users")
	require.NoError(t, err)
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids[id] = true
	}
	require.NoError(t, rows.Err())
	return ids
}

func TestSnapshotUnderConcurrentWritesIsConsistentAndComplete(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	store := openStore(t, filepath.Join(dir, "auth.db"))

	var acked sync.Map // ids whose insert returned before the snapshot began
	var n atomic.Int64
	stop := make(chan struct{})
	var writers sync.WaitGroup
	for w := range 4 {
		writers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%d", w, n.Add(1))
				if err := addUser(ctx, store, id); err == nil {
					acked.Store(id, time.Now())
				}
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	began := time.Now()
	snaps := &backup.Dir{Path: filepath.Join(dir, "backups"), Keep: 5}
	info, err := snaps.Create(ctx, store)
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond)
	close(stop)
	writers.Wait()

	path := filepath.Join(snaps.Path, info.Name)
	report, err := db.CheckFile(ctx, path)
	require.NoError(t, err, "integrity_check passes")
	assert.Equal(t, store.SchemaVersion, report.SchemaVersion)
	inSnapshot := userIDs(t, path)
	missing := 0
	acked.Range(func(id, at any) bool {
		if at.(time.Time).Before(began) && !inSnapshot[id.(string)] {
			missing++
		}
		return true
	})
	assert.Zero(t, missing, "every write acknowledged before the snapshot began is in it")
	assert.NotEmpty(t, inSnapshot)
	t.Logf("%d rows in the snapshot, %d written in all", len(inSnapshot), n.Load())
	entries, err := os.ReadDir(snaps.Path)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary files left behind")
}

func TestRetentionKeepsExactlyKeep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store := openStore(t, filepath.Join(dir, "auth.db"))
	snaps := &backup.Dir{Path: filepath.Join(dir, "backups"), Keep: 3}
	var names []string
	for range 5 {
		info, err := snaps.Create(t.Context(), store)
		require.NoError(t, err)
		names = append(names, info.Name)
	}
	list, err := snaps.List()
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, []string{names[4], names[3], names[2]}, []string{list[0].Name, list[1].Name, list[2].Name}, "newest first, oldest removed")
	last, ok := snaps.LastAt()
	assert.True(t, ok)
	assert.Equal(t, list[0].CreatedAt, last)
}

func TestRestoreNewestSkipsCorruptSnapshots(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	store := openStore(t, filepath.Join(dir, "auth.db"))
	snaps := &backup.Dir{Path: filepath.Join(dir, "backups"), Keep: 10}
	require.NoError(t, addUser(ctx, store, "old"))
	good, err := snaps.Create(ctx, store)
	require.NoError(t, err)
	require.NoError(t, addUser(ctx, store, "new"))
	bad, err := snaps.Create(ctx, store)
	require.NoError(t, err)
	// Corrupt the newest: keep the header, scribble over the pages.
	f, err := os.OpenFile(filepath.Join(snaps.Path, bad.Name), os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(make([]byte, 8192), 100)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	target := filepath.Join(dir, "restored", "auth.db")
	got, report, ok, err := snaps.RestoreNewest(ctx, quiet, target)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, good.Name, got.Name)
	assert.Equal(t, db.FileReport{SchemaVersion: store.SchemaVersion, Users: 1}, report)
	assert.Equal(t, map[string]bool{"old": true}, userIDs(t, target))

	empty := &backup.Dir{Path: filepath.Join(dir, "none"), Keep: 1}
	_, _, ok, err = empty.RestoreNewest(ctx, quiet, filepath.Join(dir, "x.db"))
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestOnlySnapshotsCanBeOpened(t *testing.T) {
	t.Parallel()
	d := &backup.Dir{Path: t.TempDir(), Keep: 1}
	outside := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(outside, []byte("not yours"), 0o600))
	good := "spaceauth-20260101T000000.000Z.db"
	require.NoError(t, os.WriteFile(filepath.Join(d.Path, good), []byte("snapshot"), 0o600))
	linked := "spaceauth-20260101T000001.000Z.db"
	require.NoError(t, os.Symlink(outside, filepath.Join(d.Path, linked)))
	directory := "spaceauth-20260101T000002.000Z.db"
	require.NoError(t, os.Mkdir(filepath.Join(d.Path, directory), 0o700))
	future := time.Now().Add(48 * time.Hour).UTC().Format("spaceauth-20060102T150405.000Z.db")
	require.NoError(t, os.WriteFile(filepath.Join(d.Path, future), []byte("planted"), 0o600))

	for _, name := range []string{"../auth.db", "..", "/etc/passwd", good + "/../../x", "a/b.db", "", good + "\x00", linked, directory, future, "spaceauth-20260101T000003.000Z.db"} {
		f, _, err := d.Open(name)
		assert.ErrorIs(t, err, backup.ErrNoSnapshot, name)
		assert.Nil(t, f, name)
	}
	f, info, err := d.Open(good)
	require.NoError(t, err)
	defer f.Close()
	body, err := io.ReadAll(f)
	require.NoError(t, err)
	assert.Equal(t, "snapshot", string(body))
	assert.Equal(t, int64(len("snapshot")), info.Size())
}

func TestSchedulerSnapshotsOnlyChanges(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	store := openStore(t, filepath.Join(dir, "auth.db"))
	snaps := &backup.Dir{Path: filepath.Join(dir, "backups"), Keep: 10}
	s, err := backup.NewScheduler(ctx, snaps, store, quiet)
	require.NoError(t, err)

	took, err := s.SnapshotIfChanged(ctx, "test")
	require.NoError(t, err)
	assert.True(t, took, "the first snapshot is always taken")
	took, err = s.SnapshotIfChanged(ctx, "test")
	require.NoError(t, err)
	assert.False(t, took, "nothing changed")
	require.NoError(t, addUser(ctx, store, "u1"))
	took, err = s.SnapshotIfChanged(ctx, "test")
	require.NoError(t, err)
	assert.True(t, took, "a commit on the writer counts")

	// A change from another process (another connection) counts too.
	other, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "auth.db")+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	_, err = other.Exec("UPDATE users SET name = 'x'")
	require.NoError(t, err)
	require.NoError(t, other.Close())
	took, err = s.SnapshotIfChanged(ctx, "test")
	require.NoError(t, err)
	assert.True(t, took)

	// A restarted scheduler trusts the newest snapshot.
	s, err = backup.NewScheduler(ctx, snaps, store, quiet)
	require.NoError(t, err)
	took, err = s.SnapshotIfChanged(ctx, "test")
	require.NoError(t, err)
	assert.False(t, took)
}

func TestRestoreRefusesWhileServedAndKeepsTheOldFile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	live := filepath.Join(dir, "auth.db")
	store, err := db.Open(ctx, live)
	require.NoError(t, err)
	require.NoError(t, addUser(ctx, store, "before"))
	snapshot := filepath.Join(dir, "snap.db")
	require.NoError(t, backup.WriteSnapshot(ctx, store, snapshot))
	require.NoError(t, addUser(ctx, store, "after"))

	lock, err := backup.LockShared(live)
	require.NoError(t, err)
	_, err = backup.Restore(ctx, snapshot, live)
	require.ErrorIs(t, err, backup.ErrInUse)
	require.NoError(t, lock.Release())
	require.NoError(t, store.Close())

	restored, err := backup.Restore(ctx, snapshot, live)
	require.NoError(t, err)
	assert.Equal(t, 1, restored.Users)
	assert.Equal(t, map[string]bool{"before": true}, userIDs(t, live))
	assert.Equal(t, map[string]bool{"before": true, "after": true}, userIDs(t, restored.Replaced))

	notes := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(notes, []byte("hello"), 0o600))
	_, err = backup.Restore(ctx, notes, live)
	assert.ErrorContains(t, err, "cannot be restored")
	assert.Equal(t, map[string]bool{"before": true}, userIDs(t, live), "a refused restore changes nothing")
}

func TestCheckPlacement(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	err := backup.CheckPlacement(filepath.Join(dir, "data", "auth.db"), filepath.Join(dir, "data"), false)
	assert.ErrorContains(t, err, "inside BACKUP_DIR")
	assert.NoError(t, backup.CheckPlacement(filepath.Join(dir, "db", "auth.db"), filepath.Join(dir, "data"), false))
	assert.NoError(t, backup.CheckPlacement(filepath.Join(dir, "data-two", "auth.db"), filepath.Join(dir, "data"), false), "a sibling with a common prefix is not inside")
}

// hostile makes a copy of a sound snapshot and changes it with script.
func hostile(t *testing.T, good, script string) string {
	t.Helper()
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "hostile.db")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	conn, err := sql.Open("sqlite3", "file:"+path)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Exec(script)
	require.NoError(t, err)
	return path
}

func TestRestoreRefusesFilesTheServerMustNotStartOn(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	store := openStore(t, filepath.Join(dir, "source.db"))
	require.NoError(t, addUser(ctx, store, "someone"))
	good := filepath.Join(dir, "good.db")
	require.NoError(t, backup.WriteSnapshot(ctx, store, good))

	for name, script := range map[string]string{
		"a trigger that makes every new account an admin": `CREATE TRIGGER promote AFTER INSERT ON users BEGIN UPDATE users SET role = 'admin' WHERE id = NEW.id; END`,
		"a view in place of a table":                      `DROP TABLE audit_events; CREATE VIEW audit_events AS SELECT 1 AS id, '' AS event, NULL AS user_id, NULL AS actor_id, '' AS ip, '' AS user_agent, '' AS created_at`,
		"no unique index on email":                        `PRAGMA foreign_keys = off; CREATE TABLE u2 AS SELECT * FROM users; DROP TABLE users; ALTER TABLE u2 RENAME TO users`,
		"an index of its own":                             `CREATE INDEX users_name ON users (name)`,
		"a table of its own":                              `CREATE TABLE notes (x)`,
		"a version from the future":                       `PRAGMA user_version = 99`,
		"a version that never was":                        `PRAGMA user_version = -1`,
		"an older version's number on today's schema":     `PRAGMA user_version = 1`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := hostile(t, good, script)
			live := filepath.Join(t.TempDir(), "auth.db")
			_, err := backup.Restore(ctx, path, live)
			assert.ErrorContains(t, err, "cannot be restored")
			assert.NoFileExists(t, live)

			// Restore on boot skips it for the older, sound snapshot.
			snaps := &backup.Dir{Path: t.TempDir(), Keep: 5}
			copyFile(t, good, filepath.Join(snaps.Path, "spaceauth-20260101T000000.000Z.db"))
			copyFile(t, path, filepath.Join(snaps.Path, "spaceauth-20260102T000000.000Z.db"))
			got, _, ok, err := snaps.RestoreNewest(ctx, quiet, live)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, "spaceauth-20260101T000000.000Z.db", got.Name)
		})
	}
}

func TestFarFutureSnapshotNamesAreIgnored(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	store := openStore(t, filepath.Join(dir, "source.db"))
	require.NoError(t, addUser(ctx, store, "real"))
	snaps := &backup.Dir{Path: filepath.Join(dir, "backups"), Keep: 1}
	good, err := snaps.Create(ctx, store)
	require.NoError(t, err)
	planted := hostile(t, filepath.Join(snaps.Path, good.Name), `UPDATE users SET role = 'admin'`)
	copyFile(t, planted, filepath.Join(snaps.Path, "spaceauth-29991231T235959.999Z.db"))
	copyFile(t, planted, filepath.Join(snaps.Path, "spaceauth-20261399T000000.000Z.db")) // no such month

	list, err := snaps.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, good.Name, list[0].Name)
	got, _, ok, err := snaps.RestoreNewest(ctx, quiet, filepath.Join(dir, "restored.db"))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, good.Name, got.Name)
}

// TestRestoreOnBootIgnoresAStaleWriteAheadLog leaves the -wal and -shm of a
// deleted database beside the path: replayed over the restored snapshot,
// they used to corrupt it.
func TestRestoreOnBootIgnoresAStaleWriteAheadLog(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	store := openStore(t, filepath.Join(dir, "source.db"))
	require.NoError(t, addUser(ctx, store, "snapshotted"))
	snaps := &backup.Dir{Path: filepath.Join(dir, "backups"), Keep: 1}
	_, err := snaps.Create(ctx, store)
	require.NoError(t, err)

	// Another database at the path, with committed pages still in its log.
	live := filepath.Join(dir, "auth.db")
	other, err := sql.Open("sqlite3", "file:"+live+"?_pragma=journal_mode(wal)&_pragma=wal_autocheckpoint(0)")
	require.NoError(t, err)
	other.SetMaxOpenConns(1)
	_, err = other.Exec(`CREATE TABLE t (x); INSERT INTO t SELECT randomblob(1000) FROM generate_series(1, 50)`)
	if err != nil { // generate_series may be missing: fall back to a recursive insert
		_, err = other.Exec(`CREATE TABLE IF NOT EXISTS t (x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 50) INSERT INTO t SELECT randomblob(1000) FROM n`)
	}
	require.NoError(t, err)
	wal, err := os.ReadFile(live + "-wal")
	require.NoError(t, err)
	require.NotEmpty(t, wal)
	require.NoError(t, other.Close())
	require.NoError(t, os.Remove(live))
	require.NoError(t, os.WriteFile(live+"-wal", wal, 0o600))
	require.NoError(t, os.WriteFile(live+"-shm", make([]byte, 32768), 0o600))

	_, _, ok, err := snaps.RestoreNewest(ctx, quiet, live)
	require.NoError(t, err)
	require.True(t, ok)
	restored := openStore(t, live)
	var integrity string
	require.NoError(t, restored.ReadDB().QueryRow("PRAGMA integrity_check").Scan(&integrity))
	assert.Equal(t, "ok", integrity)
	assert.Equal(t, map[string]bool{"snapshotted": true}, userIDs(t, live))
}

// TestRestoreReplacesACorruptDatabase: restore is needed most when the live
// file is broken, and keeps it, byte for byte, with its log.
func TestRestoreReplacesACorruptDatabase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	store := openStore(t, filepath.Join(dir, "source.db"))
	require.NoError(t, addUser(ctx, store, "saved"))
	snapshot := filepath.Join(dir, "snap.db")
	require.NoError(t, backup.WriteSnapshot(ctx, store, snapshot))

	live := filepath.Join(dir, "auth.db")
	garbage := append([]byte("SQLite format 3\x00"), make([]byte, 8192)...)
	require.NoError(t, os.WriteFile(live, garbage, 0o600))
	require.NoError(t, os.WriteFile(live+"-wal", []byte("a log"), 0o600))

	restored, err := backup.Restore(ctx, snapshot, live)
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"saved": true}, userIDs(t, live))
	kept, err := os.ReadFile(restored.Replaced)
	require.NoError(t, err)
	assert.Equal(t, garbage, kept)
	assert.FileExists(t, restored.Replaced+"-wal")
	assert.NoFileExists(t, live+"-wal")
}

func copyFile(t *testing.T, src, dest string) {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(dest), 0o750))
	require.NoError(t, os.WriteFile(dest, data, 0o600))
}
