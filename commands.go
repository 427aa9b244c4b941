package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"spaceauth/auth"
	"spaceauth/backup"
	"spaceauth/db"
	"spaceauth/db/postgres"
)

// runInit creates or upgrades the database, then exits: the successor of
// the old init_database.py.
func runInit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dryRun bool
	cfg, _, err := parseConfig("spaceauth init", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "print what init would do and change nothing")
	})
	if err != nil {
		return err
	}
	if dryRun {
		plan, err := db.PlanUpgrade(ctx, cfg.DatabasePath)
		if err != nil {
			return err
		}
		if !plan.Exists {
			_, err = fmt.Fprintf(stdout, "%s: does not exist; init would create it at schema version %d\n", cfg.DatabasePath, plan.To)
			return err
		}
		fmt.Fprintf(stdout, "%s: schema version %d, target %d\n", cfg.DatabasePath, plan.From, plan.To)
		if len(plan.Steps) == 0 {
			_, err = fmt.Fprintln(stdout, "no upgrade steps to apply")
			return err
		}
		for _, step := range plan.Steps {
			fmt.Fprintf(stdout, "would apply %s (to version %d)\n", step.Name, step.Version)
		}
		return nil
	}
	store, err := openStore(ctx, newLogger(cfg, stderr), cfg.DatabasePath)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: schema version %d\n", store.Path, store.SchemaVersion)
	return store.Close()
}

// runHealthcheck asks the local server's /healthz, for container health
// checks in an image with no shell or curl.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, _, err := parseConfig("spaceauth healthcheck", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	host := cfg.Host
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(cfg.Port)) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", url, resp.Status)
	}
	return nil
}

// openExisting opens the configured database for a command that works on
// one: it must not conjure up an empty database by accident.
func openExisting(ctx context.Context, cfg config, stderr io.Writer) (*db.Store, error) {
	if _, err := os.Stat(cfg.DatabasePath); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("database %s does not exist; start the server or run spaceauth init first", cfg.DatabasePath)
	} else if err != nil {
		return nil, fmt.Errorf("database %s: %w", cfg.DatabasePath, err)
	}
	return openStore(ctx, newLogger(cfg, stderr), cfg.DatabasePath)
}

// openData opens the configured database of either engine, which must
// exist, as the domain's store.
func openData(ctx context.Context, cfg config, stderr io.Writer) (auth.Store, func(), error) {
	if cfg.DatabaseURL != "" {
		pg, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, nil, err
		}
		return pg.AuthStore(), func() { pg.Close() }, nil
	}
	store, err := openExisting(ctx, cfg, stderr)
	if err != nil {
		return nil, nil, err
	}
	return db.AuthStore(store), func() { store.Close() }, nil
}

// sqliteOnly refuses a snapshot command on PostgreSQL.
func sqliteOnly(cfg config, command string) error {
	if cfg.DatabaseURL != "" {
		return fmt.Errorf("%s: %s", command, errBackupsOnPostgres)
	}
	return nil
}

// runCopy copies every row of the configured database into an empty one.
func runCopy(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var to string
	cfg, rest, err := parseConfig("spaceauth copy --to URL_OR_PATH", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&to, "to", "", "the empty target: a postgres:// URL or a SQLite file path (created if missing)")
	})
	if err != nil {
		return err
	}
	if to == "" || len(rest) > 0 {
		return errors.New("copy: give the target as --to URL_OR_PATH, and nothing else")
	}
	from, closeFrom, err := openData(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer closeFrom()
	var target auth.Store
	shown := to
	if strings.HasPrefix(to, "postgres://") || strings.HasPrefix(to, "postgresql://") {
		pg, err := postgres.Open(ctx, to)
		if err != nil {
			return err
		}
		defer pg.Close()
		target, shown = pg.AuthStore(), postgres.Redact(to)
	} else {
		lite, err := db.Open(ctx, to)
		if err != nil {
			return err
		}
		defer lite.Close()
		target = db.AuthStore(lite)
	}
	copied, err := auth.Copy(ctx, from, target)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", shown, err)
	}
	_, err = fmt.Fprintf(stdout, "copied %d users, %d sessions and %d audit events to %s\n", copied.Users, copied.Sessions, copied.AuditEvents, shown)
	return err
}

// runBackup writes a snapshot of the database, safe while the server runs:
// to DEST, or as a new snapshot in BACKUP_DIR.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, rest, err := parseConfig("spaceauth backup [DEST]", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	if err := sqliteOnly(cfg, "backup"); err != nil {
		return err
	}
	if len(rest) > 1 {
		return fmt.Errorf("backup takes at most one destination, got %q", rest)
	}
	target, err := backupTarget(cfg)
	if err != nil {
		return err
	}
	if len(rest) == 0 && target == nil {
		return errors.New("backup: give a destination file or set BACKUP_URL (or BACKUP_DIR)")
	}
	store, err := openExisting(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	if len(rest) == 1 {
		if err := backup.WriteSnapshot(ctx, store, rest[0]); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "wrote %s\n", rest[0])
		return err
	}
	info, err := target.Create(ctx, store)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %s (%d bytes) to %s\n", info.Name, info.Size, target)
	return err
}

// runRestore replaces the database with FILE, keeping the current one.
func runRestore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, rest, err := parseConfig("spaceauth restore FILE", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	if err := sqliteOnly(cfg, "restore"); err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("restore needs exactly one FILE: a snapshot or database file")
	}
	r, err := backup.Restore(ctx, rest[0], cfg.DatabasePath)
	if err != nil {
		return err
	}
	if r.Replaced != "" {
		fmt.Fprintf(stdout, "kept the previous database as %s\n", r.Replaced)
	}
	_, err = fmt.Fprintf(stdout, "restored %s from %s: %d users, schema version %d\n", cfg.DatabasePath, rest[0], r.Users, r.SchemaVersion)
	return err
}

// runSeed fills the database with synthetic users and sessions for
// benchmarks and demos.
func runSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var users int
	var tokensPath string
	cfg, _, err := parseConfig("spaceauth seed", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&users, "users", 1000, "users to add, each with one session")
		fs.StringVar(&tokensPath, "tokens", "tokens.txt", "file to write the sessions' bearer tokens to, one per line")
	})
	if err != nil {
		return err
	}
	if users < 1 {
		return errors.New("seed: --users must be at least 1")
	}
	var store auth.Store
	if cfg.DatabaseURL != "" {
		pg, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		defer pg.Close()
		store = pg.AuthStore()
	} else {
		lite, err := openStore(ctx, newLogger(cfg, stderr), cfg.DatabasePath)
		if err != nil {
			return err
		}
		defer lite.Close()
		store = db.AuthStore(lite)
	}
	f, err := os.Create(tokensPath)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := auth.Seed(ctx, store, users, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "added %d users with sessions in %v (password %q); tokens in %s\n", users, time.Since(start).Round(time.Millisecond), auth.SeedPassword, tokensPath)
	return err
}
