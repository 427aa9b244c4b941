// Package backup keeps consistent snapshots of the live database in a
// directory (BACKUP_DIR), restores the newest good one when the database is
// missing at start-up, and swaps in a chosen file on request.
//
// The live database must stay on local disk: a Hugging Face storage bucket
// has no file locking and uploads files on close, which suits whole snapshot
// files written once, and not a database being written.
package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"spaceauth/db"
)

// Snapshot names sort by time: spaceauth-20261130T174848.123Z.db.
const (
	namePrefix = "spaceauth-"
	nameSuffix = ".db"
	timeLayout = "20060102T150405.000Z"
)

var namePattern = regexp.MustCompile(`^spaceauth-\d{8}T\d{6}\.\d{3}Z\.db$`)

// ErrNoSnapshot is returned for a name that is not one of the snapshots
// List shows. It is an fs.ErrNotExist.
var ErrNoSnapshot = fmt.Errorf("no such snapshot: %w", fs.ErrNotExist)

// Info describes one snapshot. It names an unnamed struct type, so that
// the HTTP layer can declare the same type without importing this package.
type Info = struct {
	Name      string    `json:"name"`
	Size      int64     `json:"size"`
	CreatedAt time.Time `json:"created_at"`
}

// Dir is a snapshot directory keeping the newest Keep snapshots.
type Dir struct {
	Path string
	Keep int

	mu   sync.Mutex // one snapshot at a time; also guards last
	last time.Time
}

// Create writes a new snapshot of store, then deletes the oldest beyond Keep.
func (d *Dir) Create(ctx context.Context, store *db.Store) (Info, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.MkdirAll(d.Path, 0o750); err != nil {
		return Info{}, err
	}
	name, now := nextName(d.last)
	path := filepath.Join(d.Path, name)
	if err := WriteSnapshot(ctx, store, path); err != nil {
		return Info{}, err
	}
	d.last = now
	info, err := os.Stat(path)
	if err != nil {
		return Info{}, err
	}
	if err := d.prune(); err != nil {
		return Info{}, fmt.Errorf("snapshot %s written, but removing old ones failed: %w", name, err)
	}
	return Info{Name: name, Size: info.Size(), CreatedAt: now}, nil
}

// WriteSnapshot writes a consistent snapshot of store to dest: to a
// temporary name, synced, then renamed, so nobody ever sees half a file.
func WriteSnapshot(ctx context.Context, store *db.Store, dest string) error {
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("%s already exists", dest)
	}
	tmp := filepath.Join(filepath.Dir(dest), "."+filepath.Base(dest)+".partial")
	os.Remove(tmp) // left over from a crash; never a complete snapshot
	if err := store.Snapshot(ctx, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := syncAndRename(tmp, dest); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// syncAndRename makes tmp durable, then atomically gives it the name dest.
func syncAndRename(tmp, dest string) error {
	f, err := os.Open(tmp)
	if err != nil {
		return err
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(dest))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

// List returns the snapshots, newest first.
func (d *Dir) List() ([]Info, error) {
	entries, err := os.ReadDir(d.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var found []Info
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		found = append(found, Info{Name: e.Name(), Size: info.Size()})
	}
	return snapshots(found), nil
}

// snapshots keeps the entries named as snapshots and not from the far
// future, with their times, newest first.
func snapshots(found []Info) []Info {
	var out []Info
	latest := time.Now().Add(maxClockSkew)
	for _, f := range found {
		created, ok := parseName(f.Name)
		if !ok || created.After(latest) {
			continue
		}
		f.CreatedAt = created
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Info) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out
}

// maxClockSkew is how far in the future a snapshot's name may lie. One from
// further ahead was not written by this clock, and would otherwise be the
// newest at every boot and never pruned: it is ignored.
const maxClockSkew = time.Hour

// parseName reads the time in a snapshot's name.
func parseName(name string) (time.Time, bool) {
	if !namePattern.MatchString(name) {
		return time.Time{}, false
	}
	t, err := time.Parse(timeLayout, strings.TrimSuffix(strings.TrimPrefix(name, namePrefix), nameSuffix))
	return t, err == nil
}

// LastAt is when the newest snapshot was taken, if there is one.
func (d *Dir) LastAt() (time.Time, bool) { return lastAt(d.List()) }

// String is the directory's path.
func (d *Dir) String() string { return d.Path }

func (d *Dir) prune() error {
	list, err := d.List()
	if err != nil {
		return err
	}
	var errs []error
	for i := d.Keep; i < len(list); i++ {
		errs = append(errs, os.Remove(filepath.Join(d.Path, list[i].Name)))
	}
	return errors.Join(errs...)
}

// Open opens the snapshot called name for reading. Only what List shows is
// served: an exact snapshot name, not from the far future, and a regular
// file, so neither a crafted name nor a symlink or directory planted under a
// snapshot's name reads anything outside the directory.
func (d *Dir) Open(name string) (*os.File, fs.FileInfo, error) {
	created, ok := parseName(name)
	if !ok || created.After(time.Now().Add(maxClockSkew)) {
		return nil, nil, ErrNoSnapshot
	}
	path := filepath.Join(d.Path, name)
	linked, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && !linked.Mode().IsRegular() {
		return nil, nil, ErrNoSnapshot
	}
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	opened, err := f.Stat()
	if err == nil && !os.SameFile(linked, opened) {
		err = ErrNoSnapshot // swapped between the check and the open
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, opened, nil
}

// RestoreNewest copies the newest sound snapshot to dbPath, which must not
// exist. Snapshots the server could not start on are skipped with a
// warning. It reports false when there was nothing to restore.
func (d *Dir) RestoreNewest(ctx context.Context, logger *slog.Logger, dbPath string) (Info, db.FileReport, bool, error) {
	list, err := d.List()
	if err != nil {
		return Info{}, db.FileReport{}, false, err
	}
	for _, snap := range list {
		path := filepath.Join(d.Path, snap.Name)
		report, err := db.CheckFile(ctx, path)
		if err != nil {
			logger.Warn("skipping a snapshot that cannot be restored", "snapshot", path, "err", err)
			continue
		}
		if err := copyInto(path, dbPath); err != nil {
			return Info{}, db.FileReport{}, false, fmt.Errorf("restore %s: %w", path, err)
		}
		return snap, report, true, nil
	}
	return Info{}, db.FileReport{}, false, nil
}

// copyInto copies src to a temporary file beside dest, syncs it, and
// renames it to dest. Any -wal, -shm or -journal left beside dest belongs
// to a database that is gone, and SQLite would replay it over the new file
// (corrupting it): they are removed first.
func copyInto(src, dest string) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o750); err != nil {
		return err
	}
	data, err := os.Open(src)
	if err != nil {
		return err
	}
	defer data.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".restoring-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.ReadFrom(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	for _, side := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(dest + side); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove the stale %s%s: %w", dest, side, err)
		}
	}
	return syncAndRename(tmp.Name(), dest)
}
