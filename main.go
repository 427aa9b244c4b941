// Command spaceauth is a small authentication API that keeps its users in an
// embedded SQLite file; see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "spaceauth:", err)
		os.Exit(1)
	}
}

// run is the whole program, callable from tests: args as os.Args, the
// environment through getenv, and its own standard streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	command, rest := "serve", args[1:]
	if len(rest) > 0 && !isFlag(rest[0]) {
		command, rest = rest[0], rest[1:]
	}
	var err error
	switch command {
	case "serve":
		err = runServe(ctx, rest, getenv, stderr)
	case "init":
		err = runInit(ctx, rest, getenv, stdout, stderr)
	case "users":
		err = runUsers(ctx, rest, getenv, stdin, stdout, stderr)
	case "backup":
		err = runBackup(ctx, rest, getenv, stdout, stderr)
	case "restore":
		err = runRestore(ctx, rest, getenv, stdout, stderr)
	case "copy":
		err = runCopy(ctx, rest, getenv, stdout, stderr)
	case "seed":
		err = runSeed(ctx, rest, getenv, stdout, stderr)
	case "version":
		_, err = fmt.Fprintln(stdout, "spaceauth", version)
	case "healthcheck":
		err = runHealthcheck(ctx, rest, getenv, stderr)
	case "help":
		_, _, err = parseConfig("spaceauth", []string{"-h"}, getenv, stdout, nil)
	default:
		return fmt.Errorf("unknown command %q (try --help)", command)
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func isFlag(arg string) bool { return len(arg) > 0 && arg[0] == '-' }
