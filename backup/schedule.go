package backup

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"spaceauth/db"
)

const retryAfterFailure = 30 * time.Second

// Scheduler takes a snapshot every interval when the data changed since the
// last one, and a final one when asked.
type Scheduler struct {
	Target Target
	Store  *db.Store
	Logger *slog.Logger

	mu          sync.Mutex
	lastVersion int64 // data_version at the last snapshot; -1 before the first
}

// NewScheduler assumes an existing newest snapshot holds the current data
// (the previous run took its final one on shutdown); with none, the first
// tick takes one.
func NewScheduler(ctx context.Context, t Target, store *db.Store, logger *slog.Logger) (*Scheduler, error) {
	s := &Scheduler{Target: t, Store: store, Logger: logger, lastVersion: -1}
	if _, ok := t.LastAt(); ok {
		v, err := store.DataVersion(ctx)
		if err != nil {
			return nil, err
		}
		s.lastVersion = v
	}
	return s, nil
}

// Run snapshots every interval until ctx ends; failures are logged and
// retried sooner, never fatal.
func (s *Scheduler) Run(ctx context.Context, interval time.Duration) {
	wait := interval
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = interval
		if _, err := s.SnapshotIfChanged(ctx, "scheduled"); err != nil && ctx.Err() == nil {
			s.Logger.Error("snapshot failed; will retry", "err", err, "retry_in", min(interval, retryAfterFailure).String())
			wait = min(interval, retryAfterFailure)
		}
	}
}

// SnapshotIfChanged takes a snapshot unless nothing was committed since the
// last one. It reports whether it took one.
func (s *Scheduler) SnapshotIfChanged(ctx context.Context, why string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.Store.DataVersion(ctx)
	if err != nil {
		return false, err
	}
	if v == s.lastVersion {
		s.Logger.Debug("no changes since the last snapshot", "why", why)
		return false, nil
	}
	_, err = s.snapshot(ctx, v, why)
	return err == nil, err
}

// SnapshotNow takes a snapshot whether or not anything changed.
func (s *Scheduler) SnapshotNow(ctx context.Context, why string) (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.Store.DataVersion(ctx)
	if err != nil {
		return Info{}, err
	}
	return s.snapshot(ctx, v, why)
}

// snapshot records version v as backed up once the snapshot is written;
// the version is read first, so a change committed meanwhile is not lost.
func (s *Scheduler) snapshot(ctx context.Context, v int64, why string) (Info, error) {
	info, err := s.Target.Create(ctx, s.Store)
	if err != nil {
		return Info{}, err
	}
	s.lastVersion = v
	s.Logger.Info("snapshot written", "why", why, "name", info.Name, "size", info.Size, "target", s.Target.String())
	return info, nil
}

// List returns the snapshots, newest first.
func (s *Scheduler) List() ([]Info, error) { return s.Target.List() }

// Open opens the snapshot called name (see Target.Open).
func (s *Scheduler) Open(name string) (*os.File, fs.FileInfo, error) { return s.Target.Open(name) }

// LastAt is when the newest snapshot was taken, if there is one.
func (s *Scheduler) LastAt() (time.Time, bool) { return s.Target.LastAt() }
