package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"spaceauth/db"
)

// ErrInUse means a server holds the database.
var ErrInUse = errors.New("a spaceauth server is using this database; stop it first")

// Lock is an advisory lock on <database>.lock: servers hold it shared while
// they run, restore takes it exclusively, so a database is never swapped
// under a running server.
type Lock struct{ f *os.File }

// LockShared takes the server's lock, failing at once during a restore.
func LockShared(dbPath string) (*Lock, error) { return lock(dbPath, false) }

func lock(dbPath string, exclusive bool) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(dbPath+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if busy, err := tryLock(f, exclusive); busy || err != nil {
		f.Close()
		switch {
		case err != nil:
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		case exclusive:
			return nil, ErrInUse
		default:
			return nil, errors.New("a restore is replacing this database; try again when it is done")
		}
	}
	return &Lock{f: f}, nil
}

// Release lets go of the lock.
func (l *Lock) Release() error { return l.f.Close() }

// Restore replaces the database at dbPath with the snapshot or database file
// src, after checking that src is a database the server can start on. The
// current database, if any, is kept as <dbPath>.replaced-<time> with its
// write-ahead log or journal, untouched, so restoring works even when the
// current file is corrupt. It refuses while a server holds dbPath.
func Restore(ctx context.Context, src, dbPath string) (r Restored, err error) {
	if r.FileReport, err = db.CheckFile(ctx, src); err != nil {
		return r, fmt.Errorf("%s cannot be restored: %w", src, err)
	}
	l, err := lock(dbPath, true)
	if err != nil {
		return r, err
	}
	defer l.Release()

	if _, err := os.Stat(dbPath); err == nil {
		r.Replaced = dbPath + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
		// A hard link keeps the old file under its new name while the
		// rename in copyInto swaps the new one in: dbPath always names a
		// database. Its log moves with it: SQLite pairs <name>-wal and
		// <name>-journal with <name>.
		if err := os.Link(dbPath, r.Replaced); err != nil {
			return r, fmt.Errorf("keep the current database: %w", err)
		}
		for _, side := range []string{"-wal", "-journal"} {
			if err := os.Rename(dbPath+side, r.Replaced+side); err != nil && !errors.Is(err, os.ErrNotExist) {
				return r, fmt.Errorf("keep the current database's %s: %w", side, err)
			}
		}
	}
	return r, copyInto(src, dbPath)
}

// Restored says what Restore did.
type Restored struct {
	db.FileReport
	Replaced string // where the previous database was kept, if there was one
}

// CheckPlacement refuses a database inside the backup directory, and one on
// a network or FUSE filesystem unless allowNetworkFS: SQLite's WAL needs
// local locking and shared memory.
func CheckPlacement(dbPath, backupDir string, allowNetworkFS bool) error {
	absDB, err := filepath.Abs(dbPath)
	if err != nil {
		return err
	}
	if backupDir != "" {
		absBackup, err := filepath.Abs(backupDir)
		if err != nil {
			return err
		}
		if rel, err := filepath.Rel(absBackup, absDB); err == nil && !strings.HasPrefix(rel, "..") {
			return fmt.Errorf("DATABASE_PATH %s is inside BACKUP_DIR %s: keep the live database on local disk and only snapshots in BACKUP_DIR", dbPath, backupDir)
		}
	}
	if allowNetworkFS {
		return nil
	}
	dir := filepath.Dir(absDB)
	for { // the directory may not exist yet: check its nearest existing parent
		if _, err := os.Stat(dir); err == nil || dir == filepath.Dir(dir) {
			break
		}
		dir = filepath.Dir(dir)
	}
	if name, ok := networkFS(dir); ok {
		return fmt.Errorf("DATABASE_PATH %s is on a %s filesystem, where SQLite's locking and shared memory do not work and data can be corrupted; put it on local disk and point BACKUP_DIR at the mount instead, or set ALLOW_NETWORK_FS=1 if you are sure", dbPath, name)
	}
	return nil
}
