package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"spaceauth/auth"
	"spaceauth/backup"
	"spaceauth/db/postgres"
	"spaceauth/handlers"
)

// config is every setting, read once at start-up and passed down.
type config struct {
	Host         string
	Port         int
	DatabasePath string
	DatabaseURL  string // PostgreSQL; empty: SQLite at DatabasePath
	LogLevel     slog.Level
	LogFormat    string
	Auth         auth.Config
	API          handlers.Config

	// The first admin, usually from Hugging Face Space secrets.
	AdminEmail         string
	AdminPassword      string
	AdminPasswordReset bool

	BackupDir      string // a directory target (BACKUP_DIR, or a path or file:// BACKUP_URL)
	BackupS3       string // an s3:// BACKUP_URL
	S3             backup.S3Settings
	BackupInterval time.Duration
	BackupKeep     int
	// RestoreWait bounds the retries of an unreachable target at start;
	// RestoreRequired false then starts empty instead of failing.
	RestoreWait     time.Duration
	RestoreRequired bool
	AllowNetworkFS  bool
}

// setting is one configuration value: an environment variable and a flag
// of the same name in kebab case, the flag winning.
type setting struct {
	env   string
	def   string
	usage string
	apply func(c *config, value string) error
}

func (s setting) flagName() string { return strings.ToLower(strings.ReplaceAll(s.env, "_", "-")) }

func settings() []setting {
	d, h := auth.DefaultConfig(), handlers.DefaultConfig()
	return []setting{
		{"PORT", "7860", "TCP port to listen on (0 picks a free one)", func(c *config, v string) (err error) {
			c.Port, err = strconv.Atoi(v)
			if err == nil && (c.Port < 0 || c.Port > 65535) {
				err = errors.New("must be between 0 and 65535")
			}
			return err
		}},
		{"HOST", "", "interface address to listen on (empty: all)", func(c *config, v string) error { c.Host = v; return nil }},
		{"DATABASE_PATH", "database/auth.db", "SQLite database file, created with its directory if missing", func(c *config, v string) error {
			if v == "" {
				return errors.New("must not be empty")
			}
			c.DatabasePath = v
			return nil
		}},
		{"DATABASE_URL", "", "PostgreSQL URL (postgres://user:password@host/db); empty: SQLite at DATABASE_PATH", func(c *config, v string) error {
			if v != "" && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
				return errors.New("must start with postgres:// or postgresql://")
			}
			c.DatabaseURL = v
			return nil
		}},
		{"LOG_LEVEL", "info", "debug, info, warn or error", func(c *config, v string) error {
			return c.LogLevel.UnmarshalText([]byte(v))
		}},
		{"LOG_FORMAT", "", "text or json (default: text on a terminal, json otherwise)", func(c *config, v string) error {
			if v != "" && v != "text" && v != "json" {
				return errors.New("must be text or json")
			}
			c.LogFormat = v
			return nil
		}},
		{"SESSION_TTL", d.SessionTTL.String(), "absolute lifetime of a session (Go duration: 90s, 720h)", durationSetting(func(c *config) *time.Duration { return &c.Auth.SessionTTL })},
		{"SESSION_IDLE_TIMEOUT", d.SessionIdleTimeout.String(), "a session unused this long ends", durationSetting(func(c *config) *time.Duration { return &c.Auth.SessionIdleTimeout })},
		{"AUDIT_RETENTION", d.AuditRetention.String(), "audit events older than this are deleted", durationSetting(func(c *config) *time.Duration { return &c.Auth.AuditRetention })},
		{"PASSWORD_MIN_LENGTH", strconv.Itoa(d.PasswordMinLength), "minimum password length in characters (1-256)", func(c *config, v string) (err error) {
			c.Auth.PasswordMinLength, err = strconv.Atoi(v)
			if err == nil && (c.Auth.PasswordMinLength < 1 || c.Auth.PasswordMinLength > 256) {
				err = errors.New("must be between 1 and 256")
			}
			return err
		}},
		{"IP_RATE_LIMIT", strconv.Itoa(h.IPRateLimit), "requests per minute per client IP on /auth/* (0: off)", nonNegativeInt(func(c *config) *int { return &c.API.IPRateLimit })},
		{"TRUSTED_PROXY_HOPS", "0", "X-Forwarded-For hops to trust (1 when SPACE_ID is set: Hugging Face's proxy)", nonNegativeInt(func(c *config) *int { return &c.API.TrustedProxyHops })},
		{"TRUSTED_PROXIES", "", "comma-separated networks (CIDR) whose X-Forwarded-For is read (empty: loopback and private networks)", func(c *config, v string) error {
			c.API.TrustedProxies = nil
			for p := range strings.SplitSeq(v, ",") {
				if p = strings.TrimSpace(p); p == "" {
					continue
				}
				prefix, err := netip.ParsePrefix(p)
				if err != nil {
					return err
				}
				c.API.TrustedProxies = append(c.API.TrustedProxies, prefix.Masked())
			}
			return nil
		}},
		{"HASH_CONCURRENCY", "0", "password hashes run at once (0: one fewer than the CPUs, at least 1); more raise login throughput, fewer keep other requests fast under a login flood", nonNegativeInt(func(c *config) *int { return &c.Auth.HashSlots })},
		{"CORS_ORIGINS", "", "comma-separated origins allowed by CORS (* for any; empty: no CORS)", func(c *config, v string) error {
			c.API.CORSOrigins = nil
			for o := range strings.SplitSeq(v, ",") {
				if o = strings.TrimSpace(o); o != "" {
					c.API.CORSOrigins = append(c.API.CORSOrigins, o)
				}
			}
			return nil
		}},
		{"ADMIN_EMAIL", "", "make sure this account exists and is an admin (with ADMIN_PASSWORD)", func(c *config, v string) error {
			c.AdminEmail = v
			return nil
		}},
		{"ADMIN_PASSWORD", "", "password for a newly created ADMIN_EMAIL account (prefer the environment: flags show in ps)", func(c *config, v string) error {
			c.AdminPassword = v
			return nil
		}},
		{"ADMIN_PASSWORD_RESET", "false", "also reset an existing ADMIN_EMAIL account's password to ADMIN_PASSWORD", func(c *config, v string) (err error) {
			c.AdminPasswordReset, err = strconv.ParseBool(v)
			return err
		}},
		{"BACKUP_URL", "", "where snapshots go: a directory (path or file:///path) or s3://BUCKET/PREFIX (empty: BACKUP_DIR, else off)", func(c *config, v string) error {
			switch {
			case v == "":
			case strings.HasPrefix(v, "s3://"):
				c.BackupS3 = v
			case strings.HasPrefix(v, "file://"):
				u, err := url.Parse(v)
				if err != nil || u.Host != "" && u.Host != "localhost" || u.Path == "" {
					return errors.New("must be file:///absolute/path")
				}
				c.BackupDir = u.Path
			case strings.Contains(v, "://"):
				return errors.New("must be a directory, file:///path or s3://BUCKET/PREFIX (hf:// datasets are not supported yet)")
			default:
				c.BackupDir = v
			}
			return nil
		}},
		{"BACKUP_DIR", "", "directory for snapshots, e.g. a mounted volume; the same as a path in BACKUP_URL", func(c *config, v string) error {
			if v != "" && c.BackupDir+c.BackupS3 != "" {
				return errors.New("BACKUP_URL is set too: set one")
			}
			if v != "" {
				c.BackupDir = v
			}
			return nil
		}},
		{"BACKUP_RESTORE_WAIT", "2m", "with no local database, how long to retry a target that does not answer before giving up", durationSetting(func(c *config) *time.Duration { return &c.RestoreWait })},
		{"BACKUP_RESTORE_REQUIRED", "true", "with no local database and a target that stays unreachable, fail (true) or start empty (false)", func(c *config, v string) (err error) {
			c.RestoreRequired, err = strconv.ParseBool(v)
			return err
		}},
		{"S3_ENDPOINT", "", "S3-compatible endpoint, host[:port] or URL (empty: AWS); credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", func(c *config, v string) error {
			c.S3.Endpoint = v
			return nil
		}},
		{"S3_REGION", "", "S3 region (empty: found from the bucket)", func(c *config, v string) error { c.S3.Region = v; return nil }},
		{"S3_FORCE_PATH_STYLE", "false", "address buckets as ENDPOINT/BUCKET (MinIO and most S3-compatible stores) rather than BUCKET.ENDPOINT", func(c *config, v string) (err error) {
			c.S3.ForcePathStyle, err = strconv.ParseBool(v)
			return err
		}},
		{"BACKUP_INTERVAL", "15m", "how often to snapshot when the data changed", durationSetting(func(c *config) *time.Duration { return &c.BackupInterval })},
		{"BACKUP_KEEP", "24", "snapshots to keep (scheduled, manual and final together)", func(c *config, v string) (err error) {
			c.BackupKeep, err = strconv.Atoi(v)
			if err == nil && c.BackupKeep < 1 {
				err = errors.New("must be at least 1")
			}
			return err
		}},
		{"ALLOW_NETWORK_FS", "false", "allow DATABASE_PATH on a network or FUSE filesystem (risks corruption)", func(c *config, v string) (err error) {
			c.AllowNetworkFS, err = strconv.ParseBool(v)
			return err
		}},
	}
}

func durationSetting(field func(*config) *time.Duration) func(*config, string) error {
	return func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err == nil && d <= 0 {
			err = errors.New("must be positive")
		}
		*field(c) = d
		return err
	}
}

func nonNegativeInt(field func(*config) *int) func(*config, string) error {
	return func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err == nil && n < 0 {
			err = errors.New("must not be negative")
		}
		*field(c) = n
		return err
	}
}

// parseConfig reads settings from flags and the environment. It returns
// flag.ErrHelp after printing usage for -h/--help.
func parseConfig(name string, args []string, getenv func(string) string, output io.Writer, extra func(*flag.FlagSet)) (config, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(output)
	all := settings()
	fromFlags := map[string]string{}
	for _, s := range all {
		fs.Func(s.flagName(), fmt.Sprintf("%s (env %s, default %q)", s.usage, s.env, s.def), func(v string) error {
			fromFlags[s.env] = v
			return nil
		})
	}
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(output, "Usage: spaceauth [serve|init|users|backup|restore|copy|seed|version|healthcheck] [flags]\n\nEvery flag can also be set with the environment variable named beside it; flags win.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return config{}, nil, err
	}

	c := config{Auth: auth.DefaultConfig(), API: handlers.DefaultConfig()}
	pathSet := false
	for _, s := range all {
		value, ok := fromFlags[s.env]
		if !ok {
			value = getenv(s.env)
		}
		if !ok && value == "" {
			value = s.def
			if s.env == "TRUSTED_PROXY_HOPS" && getenv("SPACE_ID") != "" {
				value = "1" // Hugging Face's proxy sits in front of every Space
			}
		}
		if err := s.apply(&c, value); err != nil {
			if s.env == "DATABASE_URL" { // it may hold a password
				value = postgres.Redact(value)
			}
			return config{}, nil, fmt.Errorf("invalid %s %q: %w", s.env, value, err)
		}
		if s.env == "DATABASE_PATH" && (ok || getenv(s.env) != "") {
			pathSet = true
		}
	}
	c.S3.AccessKey, c.S3.SecretKey, c.S3.SessionToken = getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN")
	if pathSet && c.DatabaseURL != "" {
		return config{}, nil, errors.New("DATABASE_PATH and DATABASE_URL are both set: DATABASE_URL selects PostgreSQL and DATABASE_PATH SQLite; set one")
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		return config{}, nil, errors.New("ADMIN_EMAIL and ADMIN_PASSWORD must be set together")
	}
	return c, fs.Args(), nil
}

// newLogger builds the logger the settings ask for.
func newLogger(c config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	format := c.LogFormat
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
