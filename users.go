package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"spaceauth/auth"
)

const usersUsage = `Usage: spaceauth users COMMAND [flags]

Commands (safe while the server is running on the same database):
  create --email E [--admin] [--name N]   create an account; password: first line of stdin
  set-password --email E                  replace the password (first line of stdin); ends its sessions
  promote --email E | demote --email E    give or take the admin role
  disable --email E | enable --email E    disabling ends the account's sessions
  list                                    every account, oldest first
`

// runUsers administers accounts from the command line.
func runUsers(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || isFlag(args[0]) {
		fmt.Fprint(stderr, usersUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return errors.New("users needs a command")
	}
	command := args[0]
	var email, name string
	var admin bool
	cfg, rest, err := parseConfig("spaceauth users "+command, args[1:], getenv, stderr, func(fs *flag.FlagSet) {
		if command != "list" {
			fs.StringVar(&email, "email", "", "the account's email address")
		}
		if command == "create" {
			fs.BoolVar(&admin, "admin", false, "give the account the admin role")
			fs.StringVar(&name, "name", "", "display name")
		}
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("users %s: unexpected arguments %q", command, rest)
	}
	if command != "list" && strings.TrimSpace(email) == "" {
		return fmt.Errorf("users %s: --email is required", command)
	}
	store, closeStore, err := openData(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer closeStore()
	op := auth.New(newLogger(cfg, stderr), store, cfg.Auth).Operator()

	switch command {
	case "create":
		password, err := readPassword(stdin)
		if err != nil {
			return err
		}
		u, err := op.CreateUser(ctx, email, password, name, admin)
		if err != nil {
			return fmt.Errorf("users create: %w", err)
		}
		_, err = fmt.Fprintf(stdout, "created %s (%s, role %s)\n", u.Email, u.ID, u.Role)
		return err
	case "set-password":
		password, err := readPassword(stdin)
		if err != nil {
			return err
		}
		return report(stdout, "password set for", email, op.SetPassword(ctx, email, password))
	case "promote":
		return report(stdout, "promoted", email, op.SetRole(ctx, email, "admin"))
	case "demote":
		return report(stdout, "demoted", email, op.SetRole(ctx, email, "user"))
	case "disable":
		return report(stdout, "disabled", email, op.SetDisabled(ctx, email, true))
	case "enable":
		return report(stdout, "enabled", email, op.SetDisabled(ctx, email, false))
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tDISABLED\tCREATED")
		err := op.ListUsers(ctx, func(u auth.User) error {
			_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%t\t%s\n", u.ID, u.Email, u.Name, u.Role, u.Disabled, u.CreatedAt.UTC().Format(time.RFC3339))
			return err
		})
		if err != nil {
			return err
		}
		return tw.Flush()
	}
	return fmt.Errorf("unknown users command %q (try spaceauth users --help)", command)
}

func report(stdout io.Writer, did, email string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", email, err)
	}
	_, err = fmt.Fprintf(stdout, "%s %s\n", did, auth.NormalizeEmail(email))
	return err
}

// readPassword takes the first line of stdin without its line ending, so
// passwords never appear in argv or shell history.
func readPassword(stdin io.Reader) (string, error) {
	if stdin == nil {
		return "", errors.New("the password is read from stdin, which is empty")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("the password is read from the first line of stdin, which is empty")
	}
	return line, nil
}
