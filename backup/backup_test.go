package backup_test

import (
	"context"
	"database/sql"
	"fmt"
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
	version, err := db.CheckFile(ctx, path)
	require.NoError(t, err, "integrity_check passes")
	assert.Equal(t, store.SchemaVersion, version)
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
	got, ok, err := snaps.RestoreNewest(ctx, quiet, target)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, good.Name, got.Name)
	assert.Equal(t, map[string]bool{"old": true}, userIDs(t, target))

	empty := &backup.Dir{Path: filepath.Join(dir, "none"), Keep: 1}
	_, ok, err = empty.RestoreNewest(ctx, quiet, filepath.Join(dir, "x.db"))
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestSnapshotNamesCannotEscape(t *testing.T) {
	t.Parallel()
	d := &backup.Dir{Path: t.TempDir(), Keep: 1}
	for _, name := range []string{"../auth.db", "..", "/etc/passwd", "spaceauth-20260101T000000.000Z.db/../../x", "a/b.db", "", "spaceauth-20260101T000000.000Z.db\x00"} {
		_, err := d.PathOf(name)
		assert.ErrorIs(t, err, backup.ErrBadName, name)
	}
	p, err := d.PathOf("spaceauth-20260101T000000.000Z.db")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(d.Path, "spaceauth-20260101T000000.000Z.db"), p)
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

	replaced, err := backup.Restore(ctx, snapshot, live)
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"before": true}, userIDs(t, live))
	assert.Equal(t, map[string]bool{"before": true, "after": true}, userIDs(t, replaced))

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
