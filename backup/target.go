package backup

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"spaceauth/db"
)

// Target is where snapshots are kept: a directory (Dir) or an
// S3-compatible bucket (S3). Snapshots, retention, restore on boot and the
// admin routes work the same on every one.
type Target interface {
	// Create writes a new snapshot of store, then deletes the oldest
	// beyond the target's Keep.
	Create(ctx context.Context, store *db.Store) (Info, error)
	// List returns the snapshots, newest first.
	List() ([]Info, error)
	// Open opens a snapshot for reading; ErrNoSnapshot when there is none.
	Open(name string) (*os.File, fs.FileInfo, error)
	// LastAt is when the newest snapshot was taken, if there is one.
	LastAt() (time.Time, bool)
	// RestoreNewest copies the newest sound snapshot to dbPath, which must
	// not exist; see Dir.RestoreNewest.
	RestoreNewest(ctx context.Context, logger *slog.Logger, dbPath string) (Info, db.FileReport, bool, error)
	// String names the target in logs.
	String() string
}

var (
	_ Target = (*Dir)(nil)
	_ Target = (*S3)(nil)
)

// lastAt is the newest snapshot's time in list.
func lastAt(list []Info, err error) (time.Time, bool) {
	if err != nil || len(list) == 0 {
		return time.Time{}, false
	}
	return list[0].CreatedAt, true
}

// nextName is the name of a snapshot taken now, after one taken at last:
// two snapshots in one millisecond still get distinct names.
func nextName(last time.Time) (string, time.Time) {
	now := time.Now().UTC()
	if !now.After(last) {
		now = last.Add(time.Millisecond)
	}
	return namePrefix + now.Format(timeLayout) + nameSuffix, now
}
