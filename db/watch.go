package db

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// VerifyFile checks that the path still names the file this Store opened,
// and that it is still writable. If not, every later write would go to a
// file nobody will find again (an unlinked inode) or fail half-way, so it
// makes the writer query-only: writes fail with SQLITE_READONLY, which the
// API answers with 503. It returns the problem (wrapped in
// ErrWritesRefused) the first time it finds one, and ErrWritesRefused after.
func (s *Store) VerifyFile(ctx context.Context) error {
	if s.writesRefused.Load() {
		return ErrWritesRefused
	}
	problem := s.fileProblem()
	if problem == nil {
		return nil
	}
	if _, err := s.writer.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
		return fmt.Errorf("%w; and refusing writes failed: %w", problem, err)
	}
	s.writesRefused.Store(true)
	return fmt.Errorf("%w: %w", ErrWritesRefused, problem)
}

// ErrWritesRefused means VerifyFile found the database file gone or read-only.
var ErrWritesRefused = errors.New("writes refused: the database file was removed, replaced or made read-only")

// WritesRefused reports whether VerifyFile has stopped writes.
func (s *Store) WritesRefused() bool { return s.writesRefused.Load() }

func (s *Store) fileProblem() error {
	info, err := os.Stat(s.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("database file %s was deleted while in use", s.Path)
	case err != nil:
		return fmt.Errorf("database file %s: %w", s.Path, err)
	case !os.SameFile(info, s.opened):
		return fmt.Errorf("database file %s was replaced while in use", s.Path)
	}
	if s.openedWAL != nil {
		if info, err := os.Stat(s.Path + "-wal"); err != nil || !os.SameFile(info, s.openedWAL) {
			return fmt.Errorf("write-ahead log %s-wal was deleted or replaced while in use", s.Path)
		}
	}
	if err := writable(s.Path); err != nil {
		return fmt.Errorf("database file %s is no longer writable: %w", s.Path, err)
	}
	return nil
}
