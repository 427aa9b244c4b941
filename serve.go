package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"spaceauth/auth"
	"spaceauth/backup"
	"spaceauth/db"
	"spaceauth/db/postgres"
	"spaceauth/handlers"
)

const (
	shutdownGrace     = 15 * time.Second
	pruneInterval     = 10 * time.Minute
	fileCheckInterval = 2 * time.Second
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, rest, err := parseConfig("spaceauth serve", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", rest)
	}
	cfg.API.Version = version
	logger := newLogger(cfg, stderr)

	// Hashing leaves a CPU free for everything else (measured: with every
	// CPU hashing, token checks slowed 5-7x under a login flood on 2 CPUs;
	// with one left free, 2-4x). Its threads also run at a lower priority
	// (see handlers), and extra Go processors let the kernel run cheap
	// requests beside them rather than queue them behind a hash in Go's
	// scheduler.
	cpus := runtime.GOMAXPROCS(0)
	if cfg.Auth.HashSlots == 0 {
		cfg.Auth.HashSlots = max(1, cpus-1)
	}
	runtime.GOMAXPROCS(cpus + cfg.Auth.HashSlots)
	defer runtime.GOMAXPROCS(cpus)

	eng, err := openEngine(ctx, cfg, logger, getenv)
	if err != nil {
		return err
	}
	defer eng.close()

	svc := auth.New(logger, eng.store, cfg.Auth)
	if cfg.AdminEmail != "" {
		did, err := svc.Operator().EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword, cfg.AdminPasswordReset)
		if err != nil {
			return fmt.Errorf("admin account from ADMIN_EMAIL: %w", err)
		}
		logger.Info("admin account checked", "email", auth.NormalizeEmail(cfg.AdminEmail), "result", did)
	}

	cfg.API.BackupsOff = eng.backupsOff
	if eng.backups != nil { // a nil *Scheduler in the interface would not be nil
		cfg.API.Backups = eng.backups
	}

	// Listen before serving, so a taken port fails start-up and port 0 works.
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	api := handlers.New(logger, svc, cfg.API)
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "version", version)

	// Background work stops only after the last request, and the database
	// closes (deferred above) only after the background work has returned.
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var background sync.WaitGroup
	defer background.Wait()
	defer stopBackground()
	background.Go(func() { svc.Run(bgCtx, pruneInterval) })
	for _, work := range eng.background {
		background.Go(func() { work(bgCtx) })
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests", "grace", shutdownGrace.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("requests still running at the end of the grace period were cut off", "err", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	stopBackground()
	background.Wait() // the last session uses are written before the final snapshot
	if eng.final != nil {
		eng.final(context.WithoutCancel(ctx))
	}
	return nil
}

// engine is the database the server runs on, with the work only it does.
type engine struct {
	store      auth.Store
	background []func(context.Context) // runs until the server stops
	final      func(context.Context)   // after the last request and background work
	close      func()
	backups    *backup.Scheduler // nil when snapshots are off
	backupsOff string            // why, for /admin/backups
}

// openEngine opens PostgreSQL when DATABASE_URL is set, else SQLite.
func openEngine(ctx context.Context, cfg config, logger *slog.Logger, getenv func(string) string) (engine, error) {
	if cfg.DatabaseURL != "" {
		return openPostgres(ctx, cfg, logger)
	}
	return openSQLite(ctx, cfg, logger, getenv)
}

func openPostgres(ctx context.Context, cfg config, logger *slog.Logger) (engine, error) {
	if cfg.BackupDir != "" || cfg.BackupS3 != "" {
		return engine{}, errors.New("BACKUP_DIR and BACKUP_URL snapshots are for SQLite; with DATABASE_URL, use pg_dump or your provider's backups, and unset them")
	}
	start := time.Now()
	store, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return engine{}, err
	}
	for _, step := range store.Applied {
		logger.Info("applied schema upgrade step", "step", step)
	}
	logger.Info("database ready", "engine", "postgres", "url", postgres.Redact(cfg.DatabaseURL),
		"schema_version", store.AuthStore().SchemaVersion(), "took", time.Since(start).Round(time.Millisecond).String())
	return engine{
		store: store.AuthStore(),
		close: func() {
			if err := store.Close(); err != nil {
				logger.Error("closing the database", "err", err)
			}
		},
		backupsOff: errBackupsOnPostgres,
	}, nil
}

// errBackupsOnPostgres is what backup features answer on PostgreSQL.
const errBackupsOnPostgres = "snapshots are a SQLite feature; on PostgreSQL use pg_dump or your provider's backups"

func openSQLite(ctx context.Context, cfg config, logger *slog.Logger, getenv func(string) string) (_ engine, err error) {
	if err := backup.CheckPlacement(cfg.DatabasePath, cfg.BackupDir, cfg.AllowNetworkFS); err != nil {
		return engine{}, err
	}
	if getenv("SPACE_ID") != "" && cfg.BackupDir == "" && cfg.BackupS3 == "" {
		logger.Warn("running on a Hugging Face Space without BACKUP_URL or BACKUP_DIR: the disk is wiped on every restart and all accounts will be lost; set BACKUP_URL to a bucket, or attach storage and point BACKUP_DIR at it")
	}
	lock, err := backup.LockShared(cfg.DatabasePath)
	if err != nil {
		return engine{}, fmt.Errorf("database %s: %w", cfg.DatabasePath, err)
	}
	defer func() {
		if err != nil {
			lock.Release()
		}
	}()
	backups, err := backupTarget(cfg)
	if err != nil {
		return engine{}, err
	}
	if backups != nil {
		if err := restoreIfMissing(ctx, logger, backups, cfg); err != nil {
			return engine{}, err
		}
	}
	store, err := openStore(ctx, logger, cfg.DatabasePath)
	if err != nil {
		return engine{}, err
	}
	eng := engine{
		store:      db.AuthStore(store),
		background: []func(context.Context){func(ctx context.Context) { watchDatabaseFile(ctx, logger, store) }},
		close: func() {
			defer lock.Release()
			if err := store.Close(); err != nil {
				logger.Error("closing the database", "err", err)
				return
			}
			logger.Info("database closed", "path", store.Path)
		},
		backupsOff: "backups are off: set BACKUP_DIR to turn them on",
	}
	if backups == nil {
		return eng, nil
	}
	if eng.backups, err = backup.NewScheduler(ctx, backups, store, logger); err != nil {
		store.Close()
		return engine{}, fmt.Errorf("backups: %w", err)
	}
	eng.background = append(eng.background, func(ctx context.Context) { eng.backups.Run(ctx, cfg.BackupInterval) })
	eng.final = func(ctx context.Context) {
		// Spaces stop containers with SIGTERM: this snapshot is what the next start restores.
		if _, err := eng.backups.SnapshotIfChanged(ctx, "final"); err != nil {
			logger.Error("final snapshot failed", "err", err)
		}
	}
	return eng, nil
}

// watchDatabaseFile notices the database file being deleted, replaced or
// made read-only under the server, and then stops writes that would be lost.
func watchDatabaseFile(ctx context.Context, logger *slog.Logger, store *db.Store) {
	ticker := time.NewTicker(fileCheckInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if err := store.VerifyFile(ctx); err != nil {
			logger.Error("database file problem; writes now answer 503 and reads go on; restart the service to recover", "err", err)
			return
		}
	}
}

// backupTarget is where snapshots go, or nil when they are off. Files on
// their way to or from a bucket pass through the database's directory.
func backupTarget(cfg config) (backup.Target, error) {
	switch {
	case cfg.BackupS3 != "":
		return backup.NewS3(cfg.BackupS3, cfg.BackupKeep, filepath.Dir(cfg.DatabasePath), cfg.S3)
	case cfg.BackupDir != "":
		return &backup.Dir{Path: cfg.BackupDir, Keep: cfg.BackupKeep}, nil
	}
	return nil, nil
}

// restoreIfMissing restores the newest good snapshot when the database file
// is gone, as it is after a Space restarts.
func restoreIfMissing(ctx context.Context, logger *slog.Logger, backups backup.Target, cfg config) error {
	dbPath := cfg.DatabasePath
	if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	// A target that is away for a moment (a restarting network, a bucket
	// service hiccup) must not make a Space start empty: retry, with pauses
	// that double, for up to BACKUP_RESTORE_WAIT.
	deadline, pause := time.Now().Add(cfg.RestoreWait), time.Second
	snap, report, ok, err := backups.RestoreNewest(ctx, logger, dbPath)
	for err != nil && time.Now().Add(pause).Before(deadline) {
		logger.Warn("cannot restore from the backup target yet; retrying", "target", backups.String(), "err", err, "retry_in", pause.String())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Minute)
		snap, report, ok, err = backups.RestoreNewest(ctx, logger, dbPath)
	}
	if err != nil && !cfg.RestoreRequired {
		logger.Error("the backup target stayed unreachable; starting EMPTY because BACKUP_RESTORE_REQUIRED=false", "target", backups.String(), "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("no local database, and the backup target %s stayed unreachable for %v (set BACKUP_RESTORE_REQUIRED=false to start empty instead): %w",
			backups, cfg.RestoreWait, err)
	}
	if !ok {
		logger.Info("no database and no snapshot to restore: starting empty", "target", backups.String())
		return nil
	}
	logger.Info("restored the database from a snapshot", "snapshot", snap.Name, "taken_at", snap.CreatedAt,
		"age", time.Since(snap.CreatedAt).Round(time.Second).String(), "path", dbPath,
		"users", report.Users, "schema_version", report.SchemaVersion)
	return nil
}

// openStore opens the database and logs what that did.
func openStore(ctx context.Context, logger *slog.Logger, path string) (*db.Store, error) {
	start := time.Now()
	store, err := db.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	up := store.Upgrade
	if up.BackupPath != "" {
		logger.Info("copied the database before upgrading it; restore this file to undo", "copy", up.BackupPath)
	}
	for _, step := range up.Applied {
		logger.Info("applied schema upgrade step", "step", step)
	}
	state := "opened"
	switch {
	case store.Created:
		state = "created"
	case up.From < up.To:
		state = "upgraded"
	}
	logger.Info("database ready", "path", path, "state", state, "schema_version", store.SchemaVersion,
		"previous_version", up.From, "took", time.Since(start).Round(time.Millisecond).String())
	return store, nil
}
