// Package pgtest runs a package's tests a second time on PostgreSQL: a
// throwaway cluster started from the system's binaries (Debian's
// postgresql package), with a fresh database per test.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
//
// Run runs the tests on SQLite, then runs the test binary again with
// Engine() == "postgres". Without PostgreSQL binaries the second half is
// skipped with one line, or fails when SPACEAUTH_REQUIRE_POSTGRES=1 (CI).
package pgtest

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
)

const engineEnv = "SPACEAUTH_TEST_ENGINE"

// Engine is the engine this run of the tests is for: "sqlite" or "postgres".
func Engine() string {
	if os.Getenv(engineEnv) == "postgres" {
		return "postgres"
	}
	return "sqlite"
}

// Run runs m on SQLite, then on PostgreSQL, and returns the exit code.
func Run(m *testing.M) int {
	if Engine() == "postgres" {
		code := m.Run()
		stop()
		return code
	}
	if code := m.Run(); code != 0 {
		return code
	}
	for _, only := range []string{"test.fuzz", "test.list"} {
		if f := flag.Lookup(only); f != nil && f.Value.String() != "" {
			return 0 // fuzzing and listing are about the code, not the engine
		}
	}
	if _, err := binDir(); err != nil {
		if os.Getenv("SPACEAUTH_REQUIRE_POSTGRES") == "1" {
			fmt.Fprintln(os.Stderr, "pgtest: PostgreSQL is required here:", err)
			return 1
		}
		fmt.Fprintln(os.Stderr, "pgtest: PostgreSQL half skipped:", err, "(apt-get install -y postgresql)")
		return 0
	}
	var args []string
	for _, a := range os.Args[1:] {
		if !strings.HasPrefix(a, "-test.testlogfile") && !strings.HasPrefix(a, "-test.coverprofile") {
			args = append(args, a)
		}
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), engineEnv+"=postgres")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: the PostgreSQL half failed:", err)
		return 1
	}
	return 0
}

// binDir finds initdb and postgres: on PATH, else in Debian's place.
func binDir() (string, error) {
	if path, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(path), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", fmt.Errorf("no initdb on PATH or in /usr/lib/postgresql/*/bin")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

var (
	startOnce sync.Once
	cluster   struct {
		dir string
		cmd *exec.Cmd
		err error
	}
	databases atomic.Int64
)

// NewDatabase creates an empty database on the package's cluster, started
// on first use, and returns its URL; it is dropped when t ends. In the
// SQLite half it skips t, which runs in the PostgreSQL half.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if Engine() != "postgres" {
		t.Skip("runs in the PostgreSQL half")
	}
	return Database(t)
}

// Database is NewDatabase for a test about PostgreSQL itself, which runs in
// either half; without PostgreSQL binaries it skips, or fails where they
// are required. Call Stop when the package's tests end.
func Database(t testing.TB) string {
	t.Helper()
	if _, err := binDir(); err != nil {
		if os.Getenv("SPACEAUTH_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("pgtest: PostgreSQL is required here: %v", err)
		}
		t.Skipf("pgtest: %v", err)
	}
	url, err := CreateDatabase()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { dropDatabase(url) })
	return url
}

// CreateDatabase creates an empty database on the cluster, started on
// first use, and returns its URL: for tools such as the benchmarks.
func CreateDatabase() (string, error) {
	startOnce.Do(start)
	if cluster.err != nil {
		return "", cluster.err
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), databases.Add(1))
	admin, err := sql.Open("pgx", dsn("postgres"))
	if err != nil {
		return "", err
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	return dsn(name), nil
}

func dropDatabase(url string) {
	name := url[len("postgres://test@/"):strings.Index(url, "?")]
	if admin, err := sql.Open("pgx", dsn("postgres")); err == nil {
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	}
}

// ServerPID is the cluster's postmaster, whose children serve connections.
func ServerPID() int {
	if cluster.cmd == nil || cluster.cmd.Process == nil {
		return 0
	}
	return cluster.cmd.Process.Pid
}

// dsn is the URL of database name on the cluster, over its unix socket.
func dsn(name string) string {
	return "postgres://test@/" + name + "?sslmode=disable&host=" + url.QueryEscape(cluster.dir)
}

// start makes a cluster in a temporary directory, listening only on a unix
// socket there, with durability off: the data dies with the tests.
func start() {
	bin, err := binDir()
	if err != nil {
		cluster.err = err
		return
	}
	dir, err := os.MkdirTemp("", "spaceauth-pg-")
	if err != nil {
		cluster.err = err
		return
	}
	cluster.dir = dir
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "test", "-E", "UTF8",
		"--locale=C.UTF-8", "--no-sync", "--no-instructions")
	if err := unprivileged(initdb, dir); err != nil {
		cluster.err = err
		return
	}
	if out, err := initdb.CombinedOutput(); err != nil {
		cluster.err = fmt.Errorf("initdb: %v\n%s", err, out)
		return
	}
	cluster.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", dir, "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=300")
	unprivileged(cluster.cmd, dir)
	logs, _ := os.Create(filepath.Join(dir, "postgres.log"))
	cluster.cmd.Stdout, cluster.cmd.Stderr = logs, logs
	if err := cluster.cmd.Start(); err != nil {
		cluster.err = err
		return
	}
	db, _ := sql.Open("pgx", dsn("postgres"))
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if err := db.PingContext(ctx); err == nil {
			return
		} else if ctx.Err() != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			cluster.err = fmt.Errorf("postgres did not start: %v\n%s", err, log)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the cluster, if one was started.
func Stop() { stop() }

func stop() {
	if cluster.cmd != nil && cluster.cmd.Process != nil {
		cluster.cmd.Process.Signal(os.Interrupt) // fast shutdown
		cluster.cmd.Wait()
	}
	if cluster.dir != "" {
		os.RemoveAll(cluster.dir)
	}
}
