package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
func LockShared(dbPath string) (*Lock, error) { return lock(dbPath, syscall.LOCK_SH) }

func lock(dbPath string, how int) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(dbPath+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			if how == syscall.LOCK_SH {
				return nil, errors.New("a restore is replacing this database; try again when it is done")
			}
			return nil, ErrInUse
		}
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return &Lock{f: f}, nil
}

// Release lets go of the lock.
func (l *Lock) Release() error { return l.f.Close() }

// Restore replaces the database at dbPath with the snapshot or database file
// src, after checking src is sound. The current database, if any, is kept
// as <dbPath>.replaced-<time>. It refuses while a server holds dbPath.
func Restore(ctx context.Context, src, dbPath string) (replaced string, err error) {
	if _, err := db.CheckFile(ctx, src); err != nil {
		return "", fmt.Errorf("%s cannot be restored: %w", src, err)
	}
	l, err := lock(dbPath, syscall.LOCK_EX)
	if err != nil {
		return "", err
	}
	defer l.Release()

	if _, err := os.Stat(dbPath); err == nil {
		// Fold any write-ahead log left by a crash into the file first, so
		// the kept copy is complete and no stale -wal meets the new file.
		store, err := db.Open(ctx, dbPath)
		if err != nil {
			return "", fmt.Errorf("current database: %w", err)
		}
		if err := store.Close(); err != nil {
			return "", fmt.Errorf("current database: %w", err)
		}
		for _, side := range []string{"-wal", "-shm"} {
			if err := os.Remove(dbPath + side); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", err
			}
		}
		replaced = dbPath + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
		// A hard link keeps the old file under its new name while the
		// rename below swaps the new one in: dbPath always names a database.
		if err := os.Link(dbPath, replaced); err != nil {
			return "", fmt.Errorf("keep the current database: %w", err)
		}
	}
	if err := copyInto(src, dbPath); err != nil {
		return replaced, err
	}
	return replaced, nil
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

// networkFS names the filesystem holding dir if it is a network or FUSE one.
func networkFS(dir string) (string, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "", false
	}
	switch uint32(st.Type) {
	case 0x65735546:
		return "FUSE (for example a mounted storage bucket)", true
	case 0x6969:
		return "NFS", true
	case 0xFF534D42, 0xFE534D42, 0x517B:
		return "SMB/CIFS", true
	case 0x01021997:
		return "9P", true
	case 0x00C36400:
		return "Ceph", true
	}
	return "", false
}
